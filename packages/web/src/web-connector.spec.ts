// What AggregatorWebClient puts on the wire through its WebConnector: the URL, the gRPC-web
// headers, the application's interceptors' headers, the deadline, and the identity in every
// request's MessageHeader. The proxy is an in-memory gRPC-web server behind a recording fetch.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { AggregatorCallError, encodeNamedTensor } from "@openfl-connect/core";
import {
  Aggregator,
  type DataStream,
  DataStreamSchema,
  GetAggregatedTensorRequestSchema,
  GetTasksRequestSchema,
  InteropMessageSchema,
  type MessageHeader,
  MessageHeaderSchema,
  NamedTensorSchema,
  PingRequestSchema,
  TaskResultsSchema,
} from "@openfl-connect/core/protocol";
import { failingFetch, inMemoryGrpcWeb } from "@openfl-connect/test-support/in-memory-grpc-web";
import { IDBFactory } from "fake-indexeddb";
import {
  AggregatorWebClient,
  type AggregatorWebClientOptions,
  createWebConnector,
} from "./aggregator-web-client.js";
import { classifyBrowserFailure } from "./browser-failure.js";
import { IndexedDbResendBuffer } from "./indexed-db-resend-buffer.js";
import { WebConnector } from "./web-connector.js";

/** Every test's own deadline, so that a hang fails naming the test. */
const deadline = { timeout: 10_000 };

const identity = {
  aggregatorUuid: "aggregator_plan.yaml_0123abcd",
  federationUuid: "plan.yaml_0123abcd",
  collaboratorName: "col-web-1",
};
const replyHeader = create(MessageHeaderSchema, {
  sender: identity.aggregatorUuid,
  receiver: identity.collaboratorName,
  federationUuid: identity.federationUuid,
});

/** One request as it left the page: URL, method, headers, body. */
interface WireRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

/** An aggregator answering every RPC with `header`, behind a fetch that records the wire. */
function recordingProxy(header: MessageHeader = replyHeader) {
  const wire: WireRequest[] = [];
  const server = inMemoryGrpcWeb((router) =>
    router.service(Aggregator, {
      ping: () => ({ header }),
      getTasks: () => ({ header, roundNumber: 3, tasks: [{ name: "train" }] }),
      getAggregatedTensor: () => ({
        header,
        roundNumber: 3,
        tensor: create(NamedTensorSchema, { name: "w" }),
      }),
      async sendLocalTaskResults(stream) {
        for await (const _ of stream);
        return { header };
      },
      interopRelay: (request) => ({ header, message: request.message }),
    }),
  );
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    wire.push({
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: new Uint8Array(await request.clone().arrayBuffer()),
    });
    return server.fetch(input, init);
  };
  return { fetch, wire };
}

/** The message of a request body holding one uncompressed gRPC-web envelope. */
function envelopeMessage(body: Uint8Array): Uint8Array {
  assert.equal(body[0], 0, "an uncompressed data envelope");
  const length = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(1);
  assert.equal(length, body.byteLength - 5, "one envelope, the whole body");
  return body.subarray(5);
}

function client(options: Partial<AggregatorWebClientOptions>) {
  return new AggregatorWebClient({
    ...identity,
    proxyUrl: "https://proxy.example",
    retry: { intervalMs: 1 },
    ...options,
  });
}

/** Every RPC the collaborator makes, by its gRPC method name. */
async function callEveryRpc(c: AggregatorWebClient): Promise<void> {
  await c.ping();
  await c.getTasks();
  await c.getAggregatedTensor("w", 3);
  await c.sendLocalTaskResults(3, "train", 10, [
    encodeNamedTensor({ shape: [2], data: Float32Array.of(1, 2) }, { name: "w", roundNumber: 3 }),
  ]);
  await c.sendMessageToServer(Uint8Array.of(1, 2, 3));
}
const everyRpc = [
  "Ping",
  "GetTasks",
  "GetAggregatedTensor",
  "SendLocalTaskResults",
  "InteropRelay",
];
const rpcOf = (r: WireRequest) => new URL(r.url).pathname.split("/").pop();

/** The MessageHeader of a recorded request, whichever RPC it is. */
function headerOf(r: WireRequest): MessageHeader | undefined {
  const message = envelopeMessage(r.body);
  switch (rpcOf(r)) {
    case "Ping":
      return fromBinary(PingRequestSchema, message).header;
    case "GetTasks":
      return fromBinary(GetTasksRequestSchema, message).header;
    case "GetAggregatedTensor":
      return fromBinary(GetAggregatedTensorRequestSchema, message).header;
    case "SendLocalTaskResults": {
      const stream: DataStream = fromBinary(DataStreamSchema, message);
      return fromBinary(TaskResultsSchema, stream.npbytes).header;
    }
    case "InteropRelay":
      return fromBinary(InteropMessageSchema, message).header;
    default:
      assert.fail(`unexpected request ${r.url}`);
  }
}

/** A proxy that never answers: each request waits until its signal aborts, as fetch() does. */
function hangingFetch(onStart: (url: string) => void = () => {}): typeof globalThis.fetch {
  return (input, init) =>
    new Promise((_, reject) => {
      onStart(String(input));
      const signal = init?.signal;
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
}

/** An interceptor adding `authorization: Bearer <token>`, as an application would. */
const bearer =
  (token: string): Interceptor =>
  (next) =>
  (request) => {
    request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };

describe("WebConnector on the wire", () => {
  it(
    "posts every RPC to <proxyUrl>/openfl.aggregator.Aggregator/<Method> as binary gRPC-web",
    deadline,
    async () => {
      const proxy = recordingProxy();
      // Trailing slashes of the proxy URL are dropped: no "//openfl..." path reaches Envoy.
      await callEveryRpc(client({ fetch: proxy.fetch, proxyUrl: "https://proxy.example:8443///" }));
      assert.deepEqual(
        proxy.wire.map((r) => r.url),
        everyRpc.map((m) => `https://proxy.example:8443/openfl.aggregator.Aggregator/${m}`),
      );
      for (const r of proxy.wire) {
        assert.equal(r.method, "POST", r.url);
        assert.equal(r.headers.get("content-type"), "application/grpc-web+proto", r.url);
        assert.equal(r.headers.get("x-grpc-web"), "1", r.url);
      }
    },
  );

  it(
    "puts the collaborator's identity, non-empty, in the header of every request",
    deadline,
    async () => {
      const proxy = recordingProxy();
      await callEveryRpc(client({ fetch: proxy.fetch }));
      assert.deepEqual(proxy.wire.map(rpcOf), everyRpc);
      for (const r of proxy.wire) {
        const header = headerOf(r);
        assert.ok(header, `${rpcOf(r)} carries a MessageHeader`);
        for (const field of ["sender", "receiver", "federationUuid"] as const) {
          assert.notEqual(header[field], "", `${rpcOf(r)}: ${field} is empty`);
        }
        assert.equal(header.sender, identity.collaboratorName, rpcOf(r));
        assert.equal(header.receiver, identity.aggregatorUuid, rpcOf(r));
        assert.equal(header.federationUuid, identity.federationUuid, rpcOf(r));
        assert.equal(header.singleColCertCommonName, "", rpcOf(r));
      }
    },
  );

  it(
    "sends single_col_cert_common_name, non-empty, on every request when it is set",
    deadline,
    async () => {
      const header = create(MessageHeaderSchema, {
        ...replyHeader,
        singleColCertCommonName: "one-cn",
      });
      const proxy = recordingProxy(header);
      await callEveryRpc(client({ fetch: proxy.fetch, singleColCertCommonName: "one-cn" }));
      assert.equal(proxy.wire.length, everyRpc.length);
      for (const r of proxy.wire) assert.equal(headerOf(r)?.singleColCertCommonName, "one-cn");
    },
  );

  it("refuses an empty identity field before anything reaches the wire", deadline, () => {
    for (const field of ["aggregatorUuid", "federationUuid", "collaboratorName"] as const) {
      const proxy = recordingProxy();
      assert.throws(() => client({ fetch: proxy.fetch, [field]: "" }), new RegExp(field));
      assert.equal(proxy.wire.length, 0);
    }
  });

  it(
    "runs the application's interceptors on every RPC: their headers reach the proxy",
    deadline,
    async () => {
      const proxy = recordingProxy();
      await callEveryRpc(client({ fetch: proxy.fetch, interceptors: [bearer("t0k3n")] }));
      assert.deepEqual(proxy.wire.map(rpcOf), everyRpc);
      for (const r of proxy.wire) {
        assert.equal(r.headers.get("authorization"), "Bearer t0k3n", rpcOf(r));
      }
    },
  );

  it(
    "runs the interceptors again on every attempt, including a retry after a network failure",
    deadline,
    async () => {
      const proxy = recordingProxy();
      const attempts: (string | null)[] = [];
      let calls = 0;
      const flaky: typeof fetch = (input, init) => {
        attempts.push(new Request(input, init).headers.get("authorization"));
        return ++calls === 1 ? failingFetch(input, init) : proxy.fetch(input, init);
      };
      await client({ fetch: flaky, interceptors: [bearer("again")] }).ping();
      assert.deepEqual(attempts, ["Bearer again", "Bearer again"]);
    },
  );

  it("runs several interceptors, in the order given", deadline, async () => {
    const proxy = recordingProxy();
    const order: string[] = [];
    const tag =
      (name: string): Interceptor =>
      (next) =>
      (request) => {
        order.push(name);
        request.header.append("x-trace", name);
        return next(request);
      };
    await client({ fetch: proxy.fetch, interceptors: [tag("outer"), tag("inner")] }).ping();
    assert.deepEqual(order, ["outer", "inner"]);
    assert.equal(proxy.wire[0]?.headers.get("x-trace"), "outer, inner");
  });

  it("sends no authorization header without interceptors", deadline, async () => {
    const proxy = recordingProxy();
    await callEveryRpc(client({ fetch: proxy.fetch }));
    for (const r of proxy.wire) assert.equal(r.headers.get("authorization"), null, rpcOf(r));
  });

  it(
    "sends the attempt deadline as grpc-timeout on every RPC, the upload included",
    deadline,
    async () => {
      const proxy = recordingProxy();
      await callEveryRpc(
        client({ fetch: proxy.fetch, retry: { intervalMs: 1, attemptTimeoutMs: 4500 } }),
      );
      assert.deepEqual(proxy.wire.map(rpcOf), everyRpc);
      for (const r of proxy.wire) assert.equal(r.headers.get("grpc-timeout"), "4500m", rpcOf(r));
      const untimed = recordingProxy();
      await client({ fetch: untimed.fetch }).ping();
      assert.equal(untimed.wire[0]?.headers.get("grpc-timeout"), null);
    },
  );

  it("uses globalThis.fetch as it is when a call is made (no fetch option)", deadline, async () => {
    const original = globalThis.fetch;
    const c = client({});
    const proxy = recordingProxy();
    globalThis.fetch = proxy.fetch;
    try {
      await c.ping();
    } finally {
      globalThis.fetch = original;
    }
    assert.equal(proxy.wire.length, 1);
    assert.equal(rpcOf(proxy.wire[0] as WireRequest), "Ping");
  });

  it(
    "passes a large response message whole (a 1.5 MiB tensor arriving in 64 KiB pieces)",
    deadline,
    async () => {
      const data = Uint8Array.from({ length: 1536 * 1024 }, (_, i) => i % 253);
      const server = inMemoryGrpcWeb((router) =>
        router.service(Aggregator, {
          getAggregatedTensor: () => ({
            header: replyHeader,
            tensor: create(NamedTensorSchema, { name: "big", dataBytes: data }),
          }),
        }),
      );
      // The proxy's body arrives in 64 KiB pieces, as a browser's network stack hands it over.
      const chunked: typeof fetch = async (input, init) => {
        const response = await server.fetch(input, init);
        const bytes = new Uint8Array(await response.arrayBuffer());
        let offset = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (offset >= bytes.byteLength) return controller.close();
            controller.enqueue(bytes.slice(offset, offset + 65536));
            offset += 65536;
          },
        });
        return new Response(body, { status: response.status, headers: response.headers });
      };
      const tensor = await client({ fetch: chunked }).getAggregatedTensor("big", 0);
      assert.equal(tensor.name, "big");
      assert.deepEqual(tensor.dataBytes, data);
    },
  );
});

describe("WebConnector", () => {
  it(
    "is what the core client needs: proxy as target, one upload message, browser failures",
    deadline,
    () => {
      const connector = createWebConnector({ ...identity, proxyUrl: "http://127.0.0.1:8080///" });
      assert.ok(connector instanceof WebConnector);
      assert.equal(connector.target, "http://127.0.0.1:8080");
      assert.equal(connector.uploadChunkBytes, Number.POSITIVE_INFINITY);
      assert.equal(connector.classifyPlatformFailure, classifyBrowserFailure);
    },
  );

  it(
    "closing a connection cancels its pending calls (unary and upload) and later ones",
    deadline,
    async () => {
      const started: string[] = [];
      const hanging = hangingFetch((url) => started.push(url));
      const connection = new WebConnector({ proxyUrl: "https://proxy", fetch: hanging }).open();
      const rpc = createClient(Aggregator, connection.transport);
      const ping = rpc.ping({}).catch((e: unknown) => e);
      const upload = rpc
        .sendLocalTaskResults(
          (async function* () {
            yield { size: 1, npbytes: Uint8Array.of(1) };
          })(),
        )
        .catch((e: unknown) => e);
      while (started.length < 2) await new Promise((r) => setTimeout(r, 1));
      await connection.close();
      for (const error of [await ping, await upload, await rpc.ping({}).catch((e: unknown) => e)]) {
        assert.ok(error instanceof ConnectError);
        assert.equal(error.code, Code.Canceled);
        assert.equal(error.rawMessage, "connection closed");
      }
    },
  );

  it(
    "a caller's signal cancels its call on an open connection; other calls go on",
    deadline,
    async () => {
      const proxy = recordingProxy();
      const hanging = hangingFetch();
      const hangingPing: typeof fetch = (input, init) =>
        String(input).endsWith("/GetTasks") ? hanging(input, init) : proxy.fetch(input, init);
      const connection = new WebConnector({ proxyUrl: "https://proxy", fetch: hangingPing }).open();
      const rpc = createClient(Aggregator, connection.transport);
      const stop = new AbortController();
      const pending = rpc.getTasks({}, { signal: stop.signal }).catch((e: unknown) => e);
      stop.abort();
      const error = await pending;
      assert.ok(error instanceof ConnectError);
      assert.equal(error.code, Code.Canceled);
      assert.equal((await rpc.ping({})).header?.sender, identity.aggregatorUuid);
    },
  );

  it("a client aborting a call gives up at once, without retrying", deadline, async () => {
    let calls = 0;
    const hanging = hangingFetch(() => calls++);
    const stop = new AbortController();
    const pending = client({ fetch: hanging })
      .ping({ signal: stop.signal })
      .catch((e: unknown) => e);
    while (calls === 0) await new Promise((r) => setTimeout(r, 1));
    stop.abort(new Error("user left the page"));
    const error = await pending;
    assert.ok(error instanceof Error);
    assert.equal(error.message, "user left the page");
    assert.equal(calls, 1);
  });
});

describe("AggregatorWebClient with IndexedDbResendBuffer", () => {
  it(
    "resends, once and with its identity, an upload a reloaded page had not delivered",
    deadline,
    async () => {
      const indexedDB = new IDBFactory();
      const tensor = encodeNamedTensor(
        { shape: [3], data: Float32Array.of(1, 2, 3) },
        { name: "w", roundNumber: 4 },
      );
      // The first page: the proxy is unreachable, the upload stays in IndexedDB.
      const first = await IndexedDbResendBuffer.open({ database: "col-web-1", indexedDB });
      const offline = client({
        fetch: failingFetch,
        resendBuffer: first,
        retry: { intervalMs: 1, maxAttempts: 1 },
      });
      const error = await offline.sendLocalTaskResults(4, "train", 10, [tensor]).catch((e) => e);
      assert.ok(error instanceof AggregatorCallError);
      assert.equal(await first.count(), 1);
      first.close();
      // The reloaded page resends it.
      const second = await IndexedDbResendBuffer.open({ database: "col-web-1", indexedDB });
      const proxy = recordingProxy();
      assert.equal(await client({ fetch: proxy.fetch, resendBuffer: second }).resendPending(), 1);
      assert.equal(await second.count(), 0);
      assert.deepEqual(proxy.wire.map(rpcOf), ["SendLocalTaskResults"]);
      const sent = proxy.wire[0] as WireRequest;
      const results = fromBinary(
        TaskResultsSchema,
        fromBinary(DataStreamSchema, envelopeMessage(sent.body)).npbytes,
      );
      assert.equal(results.header?.sender, identity.collaboratorName);
      assert.equal(results.header?.receiver, identity.aggregatorUuid);
      assert.equal(results.header?.federationUuid, identity.federationUuid);
      assert.equal(results.roundNumber, 4);
      assert.equal(results.taskName, "train");
      assert.equal(results.tensors[0]?.name, "w");
      second.close();
    },
  );
});
