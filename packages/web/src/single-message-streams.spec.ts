import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type Transport,
} from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { joinDataStreamChunks } from "@openfl-connect/core/internal";
import { Aggregator, DataStreamSchema, MessageHeaderSchema } from "@openfl-connect/core/protocol";
import { inMemoryGrpcWeb } from "@openfl-connect/test-support/in-memory-grpc-web";
import { withConnectionSignal } from "./connection-signal.js";
import { withSingleMessageClientStreams } from "./single-message-streams.js";

/** Every test's own deadline, so that a hang fails naming the test. */
const deadline = { timeout: 10_000 };

const header = create(MessageHeaderSchema, { sender: "agg", receiver: "col", federationUuid: "f" });

/** An aggregator whose SendLocalTaskResults is a real client-streaming handler. */
function uploadServer(received: Uint8Array[][]) {
  return inMemoryGrpcWeb((router) =>
    router.service(Aggregator, {
      async sendLocalTaskResults(stream) {
        const chunks: Uint8Array[] = [];
        for await (const chunk of stream) chunks.push(chunk.npbytes);
        received.push(chunks);
        return { header };
      },
      ping: () => ({ header }),
    }),
  );
}

async function* dataStreams(...payloads: Uint8Array[]) {
  for (const npbytes of payloads) yield { size: npbytes.byteLength, npbytes };
}

describe("withSingleMessageClientStreams", () => {
  it("connect-web alone refuses a client stream (why the wrapper exists)", deadline, async () => {
    const { fetch } = uploadServer([]);
    const client = createClient(
      Aggregator,
      createGrpcWebTransport({ baseUrl: "https://proxy", fetch }),
    );
    await assert.rejects(
      client.sendLocalTaskResults(dataStreams(new Uint8Array([1]))),
      /does not support streaming request bodies/,
    );
  });

  it(
    "sends a one-message client stream as one gRPC-web envelope the server reads as a client stream",
    deadline,
    async () => {
      const received: Uint8Array[][] = [];
      const server = uploadServer(received);
      const transport = withSingleMessageClientStreams(
        createGrpcWebTransport({
          baseUrl: "https://proxy",
          fetch: server.fetch,
          useBinaryFormat: true,
        }),
      );
      const payload = Uint8Array.from({ length: 3 * 1024 * 1024 }, (_, i) => i % 251);
      const response = await createClient(Aggregator, transport).sendLocalTaskResults(
        dataStreams(payload),
      );
      assert.equal(response.header?.sender, "agg");
      assert.equal(received.length, 1);
      assert.equal(received[0]?.length, 1, "the server saw exactly one DataStream");
      assert.deepEqual(
        joinDataStreamChunks(
          received[0]?.map((npbytes) => create(DataStreamSchema, { npbytes })) ?? [],
        ),
        payload,
      );
      const [request] = server.requests;
      assert.equal(request?.path, "/openfl.aggregator.Aggregator/SendLocalTaskResults");
      assert.equal(request?.contentType, "application/grpc-web+proto");
      // One uncompressed envelope: flag 0, big-endian length, then the DataStream.
      const body = request?.body ?? new Uint8Array();
      const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
      assert.equal(body[0], 0);
      assert.equal(view.getUint32(1), body.byteLength - 5);
      const sent = fromBinary(DataStreamSchema, body.subarray(5));
      assert.equal(sent.size, payload.byteLength);
      assert.deepEqual(sent.npbytes, payload);
    },
  );

  for (const [what, payloads, got] of [
    ["no message", [], "none"],
    ["two messages", [new Uint8Array([1]), new Uint8Array([2])], "more than one"],
  ] as const) {
    it(
      `rejects a client stream of ${what} with InvalidArgument before sending anything`,
      deadline,
      async () => {
        const server = uploadServer([]);
        const transport = withSingleMessageClientStreams(
          createGrpcWebTransport({ baseUrl: "https://proxy", fetch: server.fetch }),
        );
        const error = await createClient(Aggregator, transport)
          .sendLocalTaskResults(dataStreams(...payloads))
          .catch((e: unknown) => e);
        assert.ok(error instanceof ConnectError);
        assert.equal(error.code, Code.InvalidArgument);
        assert.match(
          error.rawMessage,
          new RegExp(
            `^openfl\\.aggregator\\.Aggregator/SendLocalTaskResults: gRPC-web carries a client stream of exactly one message, got ${got} \\(set the connector's uploadChunkBytes to Infinity\\)$`,
          ),
        );
        assert.equal(server.requests.length, 0);
      },
    );
  }

  it("surfaces the server's status for the upload (e.g. UNAUTHENTICATED)", deadline, async () => {
    const { fetch } = inMemoryGrpcWeb((router) =>
      router.service(Aggregator, {
        sendLocalTaskResults: async () => {
          throw new ConnectError("Invalid collaborator. CN: |x|", Code.Unauthenticated);
        },
      }),
    );
    const transport = withSingleMessageClientStreams(
      createGrpcWebTransport({ baseUrl: "https://proxy", fetch }),
    );
    const error = await createClient(Aggregator, transport)
      .sendLocalTaskResults(dataStreams(new Uint8Array([1])))
      .catch((e: unknown) => e);
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.Unauthenticated);
    assert.match(error.rawMessage, /Invalid collaborator/);
  });

  it("passes unary calls through unchanged (in-memory router transport)", deadline, async () => {
    const seen: string[] = [];
    const inner = createRouterTransport((router) =>
      router.service(Aggregator, { ping: () => ({ header }) }),
    );
    const spy: Transport = {
      unary: (method, ...rest) => {
        seen.push(`${method.name}:${method.methodKind}`);
        return inner.unary(method, ...rest);
      },
      stream: (method, ...rest) => inner.stream(method, ...rest),
    };
    const response = await createClient(Aggregator, withSingleMessageClientStreams(spy)).ping({});
    assert.equal(response.header?.sender, "agg");
    assert.deepEqual(seen, ["Ping:unary"]);
  });

  it(
    "calls the inner transport's unary() with a unary copy of the client-streaming method",
    deadline,
    async () => {
      const seen: { name: string; kind: string; input: unknown }[] = [];
      const spy: Transport = {
        unary: async (method, _signal, _timeout, _header, input) => {
          seen.push({ name: method.name, kind: method.methodKind, input });
          return {
            stream: false,
            service: method.parent,
            method,
            header: new Headers(),
            trailer: new Headers(),
            message: create(method.output, { header } as never),
          };
        },
        stream: () => Promise.reject(new Error("stream() must not be called")),
      };
      const response = await createClient(
        Aggregator,
        withSingleMessageClientStreams(spy),
      ).sendLocalTaskResults(dataStreams(new Uint8Array([7, 8])));
      assert.equal(response.header?.sender, "agg");
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.name, "SendLocalTaskResults");
      assert.equal(seen[0]?.kind, "unary");
      assert.deepEqual(
        (seen[0]?.input as { npbytes: Uint8Array } | undefined)?.npbytes,
        new Uint8Array([7, 8]),
      );
      assert.equal(Aggregator.method.sendLocalTaskResults.methodKind, "client_streaming");
    },
  );
});

describe("withSingleMessageClientStreams, limits and pass-through", () => {
  /** A transport that answers unary() with a canned response and records what it got. */
  function cannedUnary() {
    const seen: { signal: unknown; timeoutMs: unknown; header: unknown; contextValues: unknown }[] =
      [];
    const transport: Transport = {
      unary: async (method, signal, timeoutMs, requestHeader, _input, contextValues) => {
        seen.push({ signal, timeoutMs, header: requestHeader, contextValues });
        return {
          stream: false,
          service: method.parent,
          method,
          header: new Headers({ "x-from": "proxy" }),
          trailer: new Headers({ "grpc-status": "0", "x-trailer": "t" }),
          message: create(method.output, { header } as never),
        };
      },
      stream: () => Promise.reject(new Error("stream() must not be called")),
    };
    return { transport, seen };
  }

  it(
    "reads at most two messages of a longer client stream before refusing it",
    deadline,
    async () => {
      let pulled = 0;
      async function* endless() {
        for (;;) {
          pulled++;
          yield { size: 1, npbytes: Uint8Array.of(1) };
        }
      }
      const { transport, seen } = cannedUnary();
      const error = await createClient(Aggregator, withSingleMessageClientStreams(transport))
        .sendLocalTaskResults(endless())
        .catch((e: unknown) => e);
      assert.ok(error instanceof ConnectError);
      assert.equal(error.code, Code.InvalidArgument);
      assert.equal(pulled, 2);
      assert.equal(seen.length, 0);
    },
  );

  it(
    "refuses a client stream whose one message is undefined, sending nothing",
    deadline,
    async () => {
      const { transport, seen } = cannedUnary();
      async function* undefinedMessage() {
        yield undefined as never;
      }
      const error = await withSingleMessageClientStreams(transport)
        .stream(
          Aggregator.method.sendLocalTaskResults,
          undefined,
          undefined,
          undefined,
          undefinedMessage(),
          undefined,
        )
        .catch((e: unknown) => e);
      assert.ok(error instanceof ConnectError);
      assert.equal(error.code, Code.InvalidArgument);
      assert.equal(seen.length, 0);
    },
  );

  it(
    "passes the call's signal, deadline, headers and context to the one unary call",
    deadline,
    async () => {
      const { transport, seen } = cannedUnary();
      const stop = new AbortController();
      const stream = await withSingleMessageClientStreams(transport).stream(
        Aggregator.method.sendLocalTaskResults,
        stop.signal,
        1500,
        { authorization: "Bearer t" },
        dataStreams(Uint8Array.of(1)),
        undefined,
      );
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.signal, stop.signal);
      assert.equal(seen[0]?.timeoutMs, 1500);
      assert.deepEqual(seen[0]?.header, { authorization: "Bearer t" });
      // The answer is a stream of exactly the one response, with the call's headers and trailers.
      assert.equal(stream.stream, true);
      assert.equal(stream.method, Aggregator.method.sendLocalTaskResults);
      assert.equal(stream.service, Aggregator);
      assert.equal(stream.header.get("x-from"), "proxy");
      assert.equal(stream.trailer.get("x-trailer"), "t");
      const messages = [];
      for await (const m of stream.message) messages.push(m);
      assert.equal(messages.length, 1);
      assert.equal((messages[0] as { header?: { sender?: string } }).header?.sender, "agg");
    },
  );

  it("hands the response headers and trailers to the caller", deadline, async () => {
    const { transport } = cannedUnary();
    let headers: Headers | undefined;
    let trailers: Headers | undefined;
    await createClient(Aggregator, withSingleMessageClientStreams(transport)).sendLocalTaskResults(
      dataStreams(Uint8Array.of(1)),
      { onHeader: (h) => (headers = h), onTrailer: (t) => (trailers = t) },
    );
    assert.equal(headers?.get("x-from"), "proxy");
    assert.equal(trailers?.get("x-trailer"), "t");
  });

  it(
    "passes streams other than client streams to the inner transport's stream(), unchanged",
    deadline,
    async () => {
      const serverStreaming = {
        ...Aggregator.method.sendLocalTaskResults,
        methodKind: "server_streaming",
      } as unknown as typeof Aggregator.method.sendLocalTaskResults;
      const answer = { answered: true } as never;
      const calls: unknown[][] = [];
      const inner: Transport = {
        unary: () => Promise.reject(new Error("unary() must not be called")),
        stream: async (...args: unknown[]) => {
          calls.push(args);
          return answer;
        },
      } as Transport;
      const signal = new AbortController().signal;
      const input = dataStreams(Uint8Array.of(1));
      const result = await withSingleMessageClientStreams(inner).stream(
        serverStreaming,
        signal,
        700,
        { a: "b" },
        input,
        undefined,
      );
      assert.equal(result, answer);
      assert.deepEqual(calls, [[serverStreaming, signal, 700, { a: "b" }, input, undefined]]);
    },
  );

  it("passes unary calls' signal, deadline and headers through", deadline, async () => {
    const { transport, seen } = cannedUnary();
    const signal = new AbortController().signal;
    await withSingleMessageClientStreams(transport).unary(
      Aggregator.method.ping,
      signal,
      900,
      { x: "y" },
      { header },
      undefined,
    );
    assert.deepEqual(
      seen.map((s) => [s.signal, s.timeoutMs, s.header]),
      [[signal, 900, { x: "y" }]],
    );
  });
});

describe("withConnectionSignal", () => {
  it("passes a call's own signal on, joined with the connection's", deadline, async () => {
    const closed = new AbortController();
    const signals: (AbortSignal | undefined)[] = [];
    const inner = createRouterTransport((router) =>
      router.service(Aggregator, {
        ping: () => ({ header }),
        async sendLocalTaskResults(stream) {
          for await (const _ of stream);
          return { header };
        },
      }),
    );
    const spy: Transport = {
      unary: (method, signal, ...rest) => {
        signals.push(signal);
        return inner.unary(method, signal, ...rest);
      },
      stream: (method, signal, ...rest) => {
        signals.push(signal);
        return inner.stream(method, signal, ...rest);
      },
    };
    const joined = withConnectionSignal(spy, closed.signal);
    const own = new AbortController();
    await joined.unary(Aggregator.method.ping, own.signal, undefined, undefined, {}, undefined);
    await joined.unary(Aggregator.method.ping, undefined, undefined, undefined, {}, undefined);
    const stream = await joined.stream(
      Aggregator.method.sendLocalTaskResults,
      own.signal,
      undefined,
      undefined,
      dataStreams(Uint8Array.of(1)),
      undefined,
    );
    for await (const _ of stream.message);
    assert.equal(signals.length, 3);
    assert.equal(signals[1], closed.signal, "a call without a signal gets the connection's");
    for (const i of [0, 2]) {
      assert.equal(signals[i]?.aborted, false);
    }
    own.abort();
    assert.equal(signals[0]?.aborted, true, "the call's own abort does not reach the transport");
    assert.equal(signals[2]?.aborted, true, "the call's own abort does not reach the stream");
    assert.equal(closed.signal.aborted, false, "a call's abort closed the connection");
  });

  it("closing the connection aborts a stream's signal too", deadline, async () => {
    const closed = new AbortController();
    let seen: AbortSignal | undefined;
    const spy: Transport = {
      unary: () => Promise.reject(new Error("unary() must not be called")),
      stream: async (_method, signal) => {
        seen = signal;
        return {} as never;
      },
    };
    await withConnectionSignal(spy, closed.signal).stream(
      Aggregator.method.sendLocalTaskResults,
      new AbortController().signal,
      undefined,
      undefined,
      dataStreams(),
      undefined,
    );
    closed.abort(new Error("connection closed"));
    assert.equal(seen?.aborted, true);
  });

  it("fails calls on a closed connection", deadline, async () => {
    const closed = new AbortController();
    const inner = createRouterTransport((router) =>
      router.service(Aggregator, { ping: () => ({ header }) }),
    );
    const client = createClient(Aggregator, withConnectionSignal(inner, closed.signal));
    await client.ping({});
    closed.abort(new Error("connection closed"));
    const error = await client.ping({}).catch((e: unknown) => e);
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.Canceled);
  });
});
