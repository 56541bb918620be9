import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import {
  createServer,
  type Http2Server,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Server,
  type Socket,
} from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { encodeEnvelope, type UniversalClientFn } from "@connectrpc/connect/protocol";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { concatParts } from "@openfl-connect/core";
import { expectedResponseHeader } from "@openfl-connect/core/internal";
import {
  Aggregator,
  type DataStream,
  DataStreamSchema,
  GetAggregatedTensorRequestSchema,
  GetAggregatedTensorResponseSchema,
  GetTasksRequestSchema,
  GetTasksResponseSchema,
  SendLocalTaskResultsResponseSchema,
} from "@openfl-connect/core/protocol";
import {
  collaboratorConnection,
  createTestPki,
  type TestPki,
} from "@openfl-connect/reference-aggregator/pki";
import { AggregatorGRPCClient, createNodeConnector } from "./aggregator-grpc-client.js";
import { grpcTransport, NodeConnector, OPENFL_MAX_MESSAGE_BYTES } from "./node-connector.js";

const identity = {
  aggregatorUuid: "aggregator_fed",
  federationUuid: "fed",
  collaboratorName: "one",
};

describe("NodeConnector requests", () => {
  /** A client of the in-process clear-text (h2c) server. */
  const clearTextClient = () =>
    new AggregatorGRPCClient({
      ...identity,
      aggAddr: "127.0.0.1",
      aggPort: (server.address() as AddressInfo).port,
      useTls: false,
      warn: () => {},
    });
  const seen: { acceptEncoding: string | null; encoding: string | null }[] = [];
  const pingHeaders: unknown[] = [];
  let server: Http2Server;
  before(async () => {
    server = createServer(
      connectNodeAdapter({
        routes: ({ service }) =>
          service(Aggregator, {
            ping(req, ctx) {
              pingHeaders.push(req.header);
              seen.push({
                acceptEncoding: ctx.requestHeader.get("grpc-accept-encoding"),
                encoding: ctx.requestHeader.get("grpc-encoding"),
              });
              return { header: expectedResponseHeader(identity) };
            },
            getAggregatedTensor() {
              return {
                header: expectedResponseHeader(identity),
                tensor: {
                  name: "w",
                  dataBytes: new Uint8Array(Float32Array.of(1, 2, 3, 4).buffer),
                },
              };
            },
          }),
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("neither compresses nor offers to accept compression, like OpenFL", async () => {
    const client = clearTextClient();
    await client.ping();
    await client.disconnect();
    assert.equal(seen.length, 1);
    assert.ok(
      !/gzip|br/.test(seen[0]?.acceptEncoding ?? ""),
      `grpc-accept-encoding: ${seen[0]?.acceptEncoding}`,
    );
    assert.ok(seen[0]?.encoding === null || seen[0]?.encoding === "identity");
  });

  it("sends the collaborator's identity in every request header, non-empty as given", async () => {
    const client = new AggregatorGRPCClient({
      ...identity,
      singleColCertCommonName: "one-cert",
      aggAddr: "127.0.0.1",
      aggPort: (server.address() as AddressInfo).port,
      useTls: false,
      warn: () => {},
    });
    pingHeaders.length = 0;
    seen.length = 0;
    await client.ping().catch(() => {});
    await client.disconnect();
    assert.deepEqual(
      pingHeaders.map((h) => {
        const { sender, receiver, federationUuid, singleColCertCommonName } = h as Record<
          string,
          string
        >;
        return { sender, receiver, federationUuid, singleColCertCommonName };
      }),
      [
        {
          sender: "one",
          receiver: "aggregator_fed",
          federationUuid: "fed",
          singleColCertCommonName: "one-cert",
        },
      ],
    );
    seen.length = 0;
  });

  it("opens HTTP/2 receive windows of 8 MiB for each stream and the connection", async () => {
    const sessions: ServerHttp2Session[] = [];
    const onSession = (session: ServerHttp2Session) => sessions.push(session);
    server.on("session", onSession);
    const client = clearTextClient();
    try {
      await client.ping();
      await client.ping();
      const session = sessions[0];
      // Before: the protocol's default of 65 535 bytes, both.
      assert.equal(session?.remoteSettings.initialWindowSize, 8 * 1024 * 1024);
      assert.ok(
        (session?.state.remoteWindowSize ?? 0) > 8 * 1024 * 1024 - 65536,
        `connection window ${session?.state.remoteWindowSize}`,
      );
    } finally {
      server.off("session", onSession);
      await client.disconnect();
    }
  });

  it("hands a downloaded tensor's data_bytes out as a plain Uint8Array (slice() copies)", async () => {
    const client = clearTextClient();
    try {
      const t = await client.getAggregatedTensor("w", 0);
      assert.equal(Object.getPrototypeOf(t.dataBytes), Uint8Array.prototype);
      // What the load driver does with the model: a Buffer's slice() would be a view of the
      // session's read buffer, and this a RangeError.
      assert.deepEqual([...new Float32Array(t.dataBytes.slice().buffer)], [1, 2, 3, 4]);
    } finally {
      await client.disconnect();
    }
  });
});

/**
 * An HTTP/2 client stand-in: keeps every request body it is given (as its parts) and answers
 * with `chunks` as the body (default: `response` enveloped), then `trailer`.
 */
function recordingClient(
  response: Uint8Array,
  options: {
    chunks?: readonly Uint8Array[] | AsyncIterable<Uint8Array>;
    header?: Record<string, string>;
    trailer?: Record<string, string>;
  } = {},
) {
  const bodies: Uint8Array[][] = [];
  const headers: Headers[] = [];
  const client: UniversalClientFn = async (request) => {
    const parts: Uint8Array[] = [];
    for await (const part of request.body ?? []) parts.push(part);
    bodies.push(parts);
    headers.push(new Headers(request.header));
    const trailer = new Headers();
    return {
      status: 200,
      header: new Headers({ "content-type": "application/grpc+proto", ...options.header }),
      trailer,
      body: (async function* () {
        yield* options.chunks ?? [encodeEnvelope(0, response)];
        for (const [k, v] of Object.entries(options.trailer ?? { "grpc-status": "0" }))
          trailer.set(k, v);
      })(),
    };
  };
  return { client, bodies, headers };
}

async function* stream(chunks: DataStream[]) {
  yield* chunks;
}

describe("grpcTransport uploads", () => {
  it("sends DataStream chunks as framing plus views of the caller's bytes, exactly connect's encoding", async () => {
    const tensor = Uint8Array.from({ length: 3 * 65536 + 7 }, (_, i) => (i * 13) & 0xff);
    const chunks = [
      create(DataStreamSchema, { size: 131072, npbytes: tensor.subarray(0, 131072) }),
      create(DataStreamSchema, { size: 65543, npbytes: tensor.subarray(131072) }),
      create(DataStreamSchema, { size: 0, npbytes: new Uint8Array(0) }),
    ];
    const { client, bodies } = recordingClient(
      toBinary(SendLocalTaskResultsResponseSchema, create(SendLocalTaskResultsResponseSchema)),
    );
    const aggregator = createClient(Aggregator, grpcTransport("http://test", client, 1 << 30));
    await aggregator.sendLocalTaskResults(stream(chunks));

    const body = bodies[0] ?? [];
    const expected = concatParts(
      chunks.map((c) => encodeEnvelope(0, toBinary(DataStreamSchema, c))),
    );
    assert.deepEqual(concatParts(body), expected);
    // Before: each chunk was serialized and enveloped into fresh buffers (copies).
    const views = body.filter((part) => part.buffer === tensor.buffer);
    assert.deepEqual(
      views.map((v) => [v.byteOffset, v.byteLength]),
      [
        [0, 131072],
        [131072, 65543],
      ],
    );
  });

  it("refuses a chunk over the message limit, as connect does", async () => {
    const { client } = recordingClient(new Uint8Array(0));
    const aggregator = createClient(Aggregator, grpcTransport("http://test", client, 1000));
    const big = create(DataStreamSchema, { size: 2000, npbytes: new Uint8Array(2000) });
    await assert.rejects(
      aggregator.sendLocalTaskResults(stream([big])),
      /larger than configured writeMaxBytes 1000/,
    );
  });

  it("leaves other calls' bodies to connect", async () => {
    const { client, bodies } = recordingClient(
      toBinary(GetTasksResponseSchema, create(GetTasksResponseSchema, { roundNumber: 3 })),
    );
    const aggregator = createClient(Aggregator, grpcTransport("http://test", client, 1 << 30));
    const response = await aggregator.getTasks({});
    assert.equal(response.roundNumber, 3);
    assert.deepEqual(
      concatParts(bodies[0] ?? []),
      encodeEnvelope(0, toBinary(GetTasksRequestSchema, create(GetTasksRequestSchema))),
    );
  });
});

describe("grpcTransport unary responses", () => {
  const tensorBytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff);
  const response = toBinary(
    GetAggregatedTensorResponseSchema,
    create(GetAggregatedTensorResponseSchema, {
      roundNumber: 4,
      tensor: { name: "w", dataBytes: tensorBytes },
    }),
  );
  const envelope = encodeEnvelope(0, response);
  const fetch = (
    chunks: readonly Uint8Array[],
    more: Parameters<typeof recordingClient>[1] = {},
  ) => {
    const { client } = recordingClient(response, { chunks, ...more });
    return createClient(
      Aggregator,
      grpcTransport("http://test", client, 1 << 20),
    ).getAggregatedTensor({});
  };
  const split = (bytes: Uint8Array, sizes: number[]) => {
    const out: Uint8Array[] = [];
    let offset = 0;
    for (const n of sizes) {
      out.push(bytes.subarray(offset, offset + n));
      offset += n;
    }
    if (offset < bytes.byteLength) out.push(bytes.subarray(offset));
    return out;
  };

  it("hands data_bytes out as a plain Uint8Array view of one buffer holding the message", async () => {
    // Node's HTTP/2 chunks are Buffers over a shared read buffer, whose slice() is a view.
    const chunk = Buffer.from(envelope);
    const r = await fetch([chunk]);
    assert.deepEqual(r.tensor?.dataBytes, tensorBytes);
    assert.equal(Object.getPrototypeOf(r.tensor?.dataBytes), Uint8Array.prototype);
    assert.notEqual(r.tensor?.dataBytes.buffer, chunk.buffer);
    assert.equal(r.tensor?.dataBytes.buffer.byteLength, response.byteLength);
  });

  it("assembles a message split anywhere, even inside its prefix", async () => {
    for (const sizes of [[1], [3, 1, 1], [5], [7, 16384, 16384], [50_000, 1]]) {
      const r = await fetch(split(envelope, sizes));
      assert.equal(r.roundNumber, 4);
      assert.deepEqual(r.tensor?.dataBytes, tensorBytes, `split ${sizes}`);
    }
  });

  it("reads an empty message", async () => {
    const { client } = recordingClient(new Uint8Array(0));
    const r = await createClient(Aggregator, grpcTransport("http://test", client, 1000)).ping({});
    assert.equal(r.header, undefined);
  });

  it("fails like connect on a body that ends inside a message, without allocating the announced length", async () => {
    const announced = new Uint8Array(15);
    new DataView(announced.buffer).setUint32(1, 1 << 30);
    const { client } = recordingClient(new Uint8Array(0), { chunks: [announced] });
    const before = process.memoryUsage().arrayBuffers;
    await assert.rejects(
      createClient(Aggregator, grpcTransport("http://test", client, 1 << 30)).ping({}),
      (e: unknown) =>
        e instanceof ConnectError &&
        e.code === Code.InvalidArgument &&
        /incomplete envelope/.test(e.message),
    );
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20);
  });

  it("fails like connect on a message over the limit, an extra message, a compressed message", async () => {
    const cases: [Uint8Array[], Code, RegExp][] = [
      [
        [envelope],
        Code.ResourceExhausted,
        /message size \d+ is larger than configured readMaxBytes 1000/,
      ],
      [
        [encodeEnvelope(0, new Uint8Array(0)), encodeEnvelope(0, new Uint8Array(0))],
        Code.Unimplemented,
        /extra output message/,
      ],
      [[encodeEnvelope(1, new Uint8Array(0))], Code.Internal, /compressed envelope/],
    ];
    for (const [chunks, code, message] of cases) {
      const { client } = recordingClient(new Uint8Array(0), { chunks });
      await assert.rejects(
        createClient(Aggregator, grpcTransport("http://test", client, 1000)).ping({}),
        (e: unknown) => e instanceof ConnectError && e.code === code && message.test(e.message),
      );
    }
  });

  it("reports the status of a trailers-only answer, and a missing message", async () => {
    const denied = recordingClient(new Uint8Array(0), {
      chunks: [],
      header: { "grpc-status": "16", "grpc-message": "who are you" },
      trailer: {},
    });
    await assert.rejects(
      createClient(Aggregator, grpcTransport("http://test", denied.client, 1000)).ping({}),
      (e: unknown) =>
        e instanceof ConnectError &&
        e.code === Code.Unauthenticated &&
        /who are you/.test(e.message),
    );
    const missing = recordingClient(new Uint8Array(0), { chunks: [] });
    await assert.rejects(
      createClient(Aggregator, grpcTransport("http://test", missing.client, 1000)).ping({}),
      (e: unknown) =>
        e instanceof ConnectError &&
        e.code === Code.Unimplemented &&
        /missing output message/.test(e.message),
    );
  });

  it("sends the request as connect does", async () => {
    const { client, bodies } = recordingClient(new Uint8Array(0));
    const request = { header: { sender: "one" }, tensorName: "w", tags: ["model"] };
    await createClient(Aggregator, grpcTransport("http://test", client, 1000))
      .getAggregatedTensor(request)
      .catch(() => {});
    assert.deepEqual(
      concatParts(bodies[0] ?? []),
      encodeEnvelope(
        0,
        toBinary(
          GetAggregatedTensorRequestSchema,
          create(GetAggregatedTensorRequestSchema, request),
        ),
      ),
    );
  });
});

describe("message size limits, at the limit and one byte either side", () => {
  it("a unary response of exactly maxMessageBytes is read; one byte more is refused", async () => {
    const response = toBinary(
      GetAggregatedTensorResponseSchema,
      create(GetAggregatedTensorResponseSchema, {
        roundNumber: 1,
        tensor: { name: "w", dataBytes: new Uint8Array(1000) },
      }),
    );
    const call = (limit: number) => {
      const { client } = recordingClient(response);
      return createClient(
        Aggregator,
        grpcTransport("http://test", client, limit),
      ).getAggregatedTensor({});
    };
    assert.equal((await call(response.byteLength)).tensor?.dataBytes.byteLength, 1000);
    assert.equal((await call(response.byteLength + 1)).roundNumber, 1);
    await assert.rejects(
      call(response.byteLength - 1),
      (e: unknown) =>
        e instanceof ConnectError &&
        e.code === Code.ResourceExhausted &&
        e.message.includes(
          `message size ${response.byteLength} is larger than configured readMaxBytes ${response.byteLength - 1}`,
        ),
    );
  });

  it("an upload chunk is measured as its whole DataStream message (size field and framing included), not its npbytes alone", async () => {
    const chunk = create(DataStreamSchema, { size: 1000, npbytes: new Uint8Array(1000) });
    const messageBytes = toBinary(DataStreamSchema, chunk).byteLength;
    assert.ok(messageBytes > 1000);
    const upload = (limit: number) => {
      const { client, bodies } = recordingClient(
        toBinary(SendLocalTaskResultsResponseSchema, create(SendLocalTaskResultsResponseSchema)),
      );
      const aggregator = createClient(Aggregator, grpcTransport("http://test", client, limit));
      return { sent: aggregator.sendLocalTaskResults(stream([chunk])), bodies };
    };
    const exact = upload(messageBytes);
    await exact.sent;
    assert.equal(concatParts(exact.bodies[0] ?? []).byteLength, 5 + messageBytes);
    for (const limit of [messageBytes - 1, 1000]) {
      await assert.rejects(
        upload(limit).sent,
        (e: unknown) =>
          e instanceof ConnectError &&
          e.code === Code.ResourceExhausted &&
          e.message.includes(
            `message size ${messageBytes} is larger than configured writeMaxBytes ${limit}`,
          ),
        String(limit),
      );
    }
  });

  it("an empty last chunk goes out as framing alone", async () => {
    const { client, bodies } = recordingClient(
      toBinary(SendLocalTaskResultsResponseSchema, create(SendLocalTaskResultsResponseSchema)),
    );
    const aggregator = createClient(Aggregator, grpcTransport("http://test", client, 1000));
    await aggregator.sendLocalTaskResults(stream([create(DataStreamSchema, { size: 0 })]));
    assert.deepEqual(
      (bodies[0] ?? []).map((p) => p.byteLength),
      [5],
    );
  });
});

describe("grpcTransport unary calls: what reaches the wire, and every status the answer can carry", () => {
  const unary = (more: Parameters<typeof recordingClient>[1] = {}) => {
    const recorded = recordingClient(new Uint8Array(0), more);
    const aggregator = createClient(
      Aggregator,
      grpcTransport("http://test", recorded.client, 1000),
    );
    return { ...recorded, aggregator };
  };

  it("a deadline goes out as grpc-timeout in ms; none, or 0 or less (no deadline), sends none", async () => {
    for (const [timeoutMs, header] of [
      [5000, "5000m"],
      [1, "1m"],
      [undefined, null],
      [0, null],
      [-1, null],
    ] as const) {
      const { aggregator, headers } = unary();
      await aggregator.ping({}, timeoutMs === undefined ? {} : { timeoutMs });
      assert.equal(headers[0]?.get("grpc-timeout") ?? null, header, String(timeoutMs));
    }
  });

  it("an error status in the trailers after the message fails the call with that status", async () => {
    const { aggregator } = unary({ trailer: { "grpc-status": "13", "grpc-message": "boom" } });
    await assert.rejects(
      aggregator.ping({}),
      (e: unknown) =>
        e instanceof ConnectError && e.code === Code.Internal && /boom/.test(e.message),
    );
  });

  it("an error status in the headers with a message after it is a protocol error, as connect says", async () => {
    const { aggregator } = unary({ header: { "grpc-status": "16", "grpc-message": "who" } });
    await assert.rejects(
      aggregator.ping({}),
      (e: unknown) =>
        e instanceof ConnectError &&
        e.code === Code.Unknown &&
        e.rawMessage ===
          "protocol error: received output message for unary method with error status",
    );
  });
});

describe("grpcTransport unary responses: bytes after the one message", () => {
  const ping = (chunks: readonly Uint8Array[] | AsyncIterable<Uint8Array>, limit = 1000) => {
    const { client } = recordingClient(new Uint8Array(0), { chunks });
    return createClient(Aggregator, grpcTransport("http://test", client, limit)).ping({});
  };
  const failsWith = (code: Code, text: string) => (e: unknown) =>
    e instanceof ConnectError && e.code === code && e.rawMessage === text;

  it("an empty message and, in the same chunk, the start of another: an incomplete envelope", async () => {
    await assert.rejects(
      ping([Uint8Array.of(0, 0, 0, 0, 0, 0, 0)]),
      failsWith(Code.InvalidArgument, "protocol error: incomplete envelope"),
    );
  });

  it("a message ending in the chunk that holds a second whole one: an extra message", async () => {
    const message = encodeEnvelope(
      0,
      toBinary(GetTasksResponseSchema, create(GetTasksResponseSchema, { roundNumber: 300 })),
    );
    const [head, tail] = [message.subarray(0, 6), message.subarray(6)];
    await assert.rejects(
      ping([head, concatParts([tail, encodeEnvelope(0, new Uint8Array(0))])]),
      failsWith(
        Code.Unimplemented,
        "protocol error: received extra output message for unary method",
      ),
    );
  });

  it("a message announced over the limit is refused at its prefix, before the rest arrives", async () => {
    const prefix = new Uint8Array(5);
    new DataView(prefix.buffer).setUint32(1, 1001);
    // A body whose server sends the prefix and holds the rest back (until the reader stops).
    let reads = 0;
    let stopped = () => {};
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          reads++ === 0
            ? Promise.resolve({ done: false, value: prefix })
            : new Promise((resolve) => {
                stopped = () => resolve({ done: true, value: undefined });
              }),
        return: async () => {
          stopped();
          return { done: true, value: undefined };
        },
      }),
    };
    await assert.rejects(
      ping(body),
      failsWith(
        Code.ResourceExhausted,
        "message size 1001 is larger than configured readMaxBytes 1000",
      ),
    );
    assert.equal(reads, 1, "refused before asking for more");
  });
});

/** An h2c server answering every request with `answer(stream)`, and the PINGs it received. */
async function rawH2c(answer: (stream: ServerHttp2Stream) => void, host = "127.0.0.1") {
  const server = createServer();
  let pings = 0;
  server.on("session", (session) => session.on("ping", () => pings++));
  server.on("stream", answer);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    pings: () => pings,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const grpcHeaders = {
  ":status": 200,
  "content-type": "application/grpc+proto",
};

/** A clear-text connector to 127.0.0.1:`port` with the client's defaults and `more`. */
const clearTextConnector = (port: number, more: Record<string, unknown> = {}) =>
  createNodeConnector({
    ...identity,
    aggAddr: "127.0.0.1",
    aggPort: port,
    useTls: false,
    warn: () => {},
    ...more,
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("NodeConnector: the connection options reach the connection", () => {
  it("the default message limit is OpenFL's, 2^30 bytes: a message announcing that much is read, one byte more is refused", async () => {
    assert.equal(OPENFL_MAX_MESSAGE_BYTES, 2 ** 30);
    let announce = 0;
    const server = await rawH2c((stream) => {
      const prefix = new Uint8Array(5);
      new DataView(prefix.buffer).setUint32(1, announce);
      stream.respond(grpcHeaders, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(prefix);
    });
    const connection = clearTextConnector(server.port).open();
    try {
      const aggregator = createClient(Aggregator, connection.transport);
      announce = 2 ** 30;
      // Read, then found to end early: the announced length was within the limit.
      await assert.rejects(
        aggregator.ping({}),
        (e: unknown) =>
          e instanceof ConnectError &&
          e.code === Code.InvalidArgument &&
          /incomplete envelope/.test(e.message),
      );
      announce = 2 ** 30 + 1;
      await assert.rejects(
        aggregator.ping({}),
        (e: unknown) =>
          e instanceof ConnectError &&
          e.code === Code.ResourceExhausted &&
          e.message.includes(
            `message size ${2 ** 30 + 1} is larger than configured readMaxBytes ${2 ** 30}`,
          ),
      );
    } finally {
      await connection.close();
      await server.close();
    }
  });

  it("keepalive PINGs go out while a call waits for its answer, none while answer bytes keep arriving", {
    timeout: 20_000,
  }, async () => {
    let trickle = false;
    const server = await rawH2c((stream) => {
      stream.respond(grpcHeaders, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      const message = encodeEnvelope(0, new Uint8Array(75));
      void (async () => {
        if (trickle) {
          // 2 s of answer, two bytes every 50 ms.
          for (let i = 0; i < message.byteLength; i += 2) {
            stream.write(message.subarray(i, i + 2));
            await sleep(50);
          }
        } else {
          stream.write(message.subarray(0, 5));
          await sleep(2_600);
          stream.write(message.subarray(5));
        }
        stream.end();
      })();
    });
    const connection = clearTextConnector(server.port, {
      keepalive: { pingIntervalMs: 1_000 },
    }).open();
    try {
      const aggregator = createClient(Aggregator, connection.transport);
      await aggregator.getTasks({}).catch(() => {});
      assert.ok(server.pings() >= 1, `PINGs while waiting: ${server.pings()}`);
      const before = server.pings();
      trickle = true;
      await aggregator.getTasks({}).catch(() => {});
      assert.equal(server.pings() - before, 0, "no PING while bytes arrive");
    } finally {
      await connection.close();
      await server.close();
    }
  });

  it("connectTimeoutMs bounds a TLS handshake that never completes", {
    timeout: 10_000,
  }, async () => {
    const sockets: Socket[] = [];
    const silent: Server = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const connector = new NodeConnector({
      host: "127.0.0.1",
      port: (silent.address() as AddressInfo).port,
      serverName: "127.0.0.1",
      tls: {},
      maxMessageBytes: 1000,
      keepalive: undefined,
      connectTimeoutMs: 300,
    });
    const connection = connector.open();
    try {
      const started = Date.now();
      await assert.rejects(
        createClient(Aggregator, connection.transport).ping({}),
        (e: unknown) =>
          e instanceof ConnectError &&
          e.code === Code.Unavailable &&
          /connection establishment timed out/.test(e.message),
      );
      assert.ok(Date.now() - started < 5_000, `${Date.now() - started} ms`);
    } finally {
      await connection.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("reaches an aggregator at an IPv6 address, and names it [address]:port", async () => {
    const server = await rawH2c((stream) => {
      stream.respond(grpcHeaders, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(encodeEnvelope(0, new Uint8Array(0)));
    }, "::1");
    const connector = clearTextConnector(server.port, { aggAddr: "::1" });
    const connection = connector.open();
    try {
      await createClient(Aggregator, connection.transport).ping({});
      assert.equal(connector.target, `[::1]:${server.port}`);
      assert.equal(clearTextConnector(50051).target, "127.0.0.1:50051");
    } finally {
      await connection.close();
      await server.close();
    }
  });
});

describe("NodeConnector over TLS: what the aggregator sees of its connections", () => {
  let dir: string;
  let pki: TestPki;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "openfl-node-connector-"));
    pki = await createTestPki(join(dir, "pki"), { collaborators: ["one"] });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A TLS server that records each handshake and then closes without a byte, as grpcio refusing a certificate. */
  async function refusingServer() {
    const seen: { servername: unknown; alpn: unknown; clientCn: unknown }[] = [];
    const server = createTlsServer(
      {
        key: readFileSync(pki.server.key),
        cert: readFileSync(pki.server.cert),
        ca: readFileSync(pki.caCert),
        requestCert: true,
        rejectUnauthorized: false,
        ALPNProtocols: ["h2"],
      },
      (socket: TLSSocket) => {
        seen.push({
          servername: socket.servername,
          alpn: socket.alpnProtocol,
          clientCn: socket.getPeerCertificate().subject?.CN,
        });
        socket.destroy();
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return {
      port,
      seen,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  const connectorTo = (port: number, more: Record<string, unknown> = {}) =>
    createNodeConnector({
      ...collaboratorConnection(pki, "one", {
        port,
        aggregatorUuid: "aggregator_fed",
        federationUuid: "fed",
      }),
      warn: () => {},
      ...more,
    });

  it("presents the client certificate over h2, with the host name as SNI, and names its target in the diagnosis", async () => {
    const server = await refusingServer();
    try {
      const seen = await connectorTo(server.port).diagnoseReset();
      assert.equal(seen?.t, "client-certificate-refused");
      assert.ok(
        seen?.failure.startsWith(
          `the aggregator at localhost:${server.port} closed two fresh connections`,
        ),
        seen?.failure,
      );
      assert.ok(
        seen?.failure.includes(`client certificate ${pki.collaborators.one?.cert} (CN 'one'`),
        seen?.failure,
      );
      assert.deepEqual(server.seen[0], { servername: "localhost", alpn: "h2", clientCn: "one" });
    } finally {
      await server.close();
    }
  });

  it("sends no SNI to an IP address, and still verifies it against the certificate", async () => {
    const server = await refusingServer();
    try {
      assert.equal(
        (await connectorTo(server.port, { aggAddr: "127.0.0.1" }).diagnoseReset())?.t,
        "client-certificate-refused",
      );
      assert.equal(server.seen[0]?.servername, false);
      // A name the server's certificate does not carry is refused by our check of it.
      const other = await connectorTo(server.port, {
        serverName: "elsewhere.example",
      }).diagnoseReset();
      assert.deepEqual(other, {
        t: "server-certificate",
        failure: "the aggregator's TLS certificate did not verify (ERR_TLS_CERT_ALTNAME_INVALID)",
      });
    } finally {
      await server.close();
    }
  });

  it("useRootCertificate: a refetched CA, as a path or as PEM text, is trusted by the next connections", async () => {
    const server = await refusingServer();
    const foreign = await createTestPki(join(dir, "foreign"), { collaborators: [] });
    try {
      for (const refetched of [pki.caCert, readFileSync(pki.caCert, "utf8")]) {
        const connector = connectorTo(server.port, { rootCertificate: foreign.caCert });
        assert.equal((await connector.diagnoseReset())?.t, "server-certificate");
        connector.useRootCertificate(refetched);
        assert.equal((await connector.diagnoseReset())?.t, "client-certificate-refused");
      }
      // The old bundle's hint is not given about the new one.
      const connector = connectorTo(server.port);
      connector.useRootCertificate(readFileSync(pki.caCert, "utf8"));
      const unverified = Object.assign(new Error("x"), {
        code: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
      });
      assert.equal(
        connector.classifyPlatformFailure(unverified)?.failure,
        "the aggregator's TLS certificate did not verify (UNABLE_TO_GET_ISSUER_CERT_LOCALLY)",
      );
    } finally {
      await server.close();
    }
  });

  it("useRootCertificate refuses a refetched CA that is not a certificate, naming it", () => {
    const connector = connectorTo(1);
    assert.throws(
      () =>
        connector.useRootCertificate(
          "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ),
      (e: unknown) =>
        e instanceof Error &&
        e.message.startsWith(
          "rootCertificate (refetched) ((PEM text)): PEM holds no CERTIFICATE block",
        ),
    );
  });
});
