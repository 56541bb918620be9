import assert from "node:assert/strict";
import { createServer, type Http2Server, type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
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
import { AggregatorGRPCClient } from "./aggregator-grpc-client.js";
import { grpcTransport } from "./node-connector.js";

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
    chunks?: readonly Uint8Array[];
    header?: Record<string, string>;
    trailer?: Record<string, string>;
  } = {},
) {
  const bodies: Uint8Array[][] = [];
  const client: UniversalClientFn = async (request) => {
    const parts: Uint8Array[] = [];
    for await (const part of request.body ?? []) parts.push(part);
    bodies.push(parts);
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
  return { client, bodies };
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
