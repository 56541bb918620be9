// What an upload puts on the wire through WebConnector: the DataStream connect-web would have
// serialized, byte for byte, handed to fetch as a Blob of framing and the tensor bytes; the
// application's interceptors still see the real message; other calls' bodies are connect-web's.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { Aggregator, type DataStream, DataStreamSchema } from "@openfl-connect/core/protocol";
import { inMemoryGrpcWeb } from "@openfl-connect/test-support/in-memory-grpc-web";
import { dataStreamUploadBodies } from "./datastream-upload-body.js";
import { WebConnector } from "./web-connector.js";

const deadline = { timeout: 10_000 };

/** connect-web's own encoding of a DataStream as a gRPC-web request body. */
function envelopeOf(chunk: DataStream): Uint8Array {
  const message = toBinary(DataStreamSchema, chunk);
  const body = new Uint8Array(5 + message.byteLength);
  new DataView(body.buffer).setUint32(1, message.byteLength);
  body.set(message, 5);
  return body;
}

/** An in-memory aggregator behind a fetch that records each body as fetch received it. */
function recordingAggregator() {
  const received: DataStream[] = [];
  const server = inMemoryGrpcWeb((router) =>
    router.service(Aggregator, {
      ping: () => ({}),
      async sendLocalTaskResults(stream) {
        for await (const chunk of stream) received.push(chunk);
        return {};
      },
    }),
  );
  const bodies: { path: string; body: unknown; bytes: Uint8Array }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const bytes = new Uint8Array(await new Request(input, init).arrayBuffer());
    bodies.push({ path: new URL(String(input)).pathname, body: init?.body, bytes });
    return server.fetch(input, init);
  };
  return { fetch, bodies, received };
}

function chunkOf(bytes: number): DataStream {
  const npbytes = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) npbytes[i] = (i * 7) & 0xff;
  return create(DataStreamSchema, { size: bytes, npbytes });
}

async function upload(connector: WebConnector, chunk: DataStream) {
  const connection = connector.open();
  const aggregator = createClient(Aggregator, connection.transport);
  await aggregator.sendLocalTaskResults(
    (async function* () {
      yield chunk;
    })(),
  );
  await connection.close();
}

describe("uploads through WebConnector", () => {
  it(
    "sends the DataStream as a Blob holding exactly connect-web's encoding of it",
    deadline,
    async () => {
      const proxy = recordingAggregator();
      const chunk = chunkOf(100_000);
      await upload(
        new WebConnector({ proxyUrl: "https://proxy.example", fetch: proxy.fetch }),
        chunk,
      );
      assert.equal(proxy.bodies.length, 1);
      const [sent] = proxy.bodies;
      assert.ok(sent?.body instanceof Blob, "the body is a Blob of parts, not a serialized copy");
      assert.deepEqual(sent.bytes, envelopeOf(chunk));
      assert.equal(proxy.received.length, 1);
      assert.deepEqual(proxy.received[0]?.npbytes, chunk.npbytes);
      assert.equal(proxy.received[0]?.size, 100_000);
    },
  );

  it("sends an empty DataStream as its own (empty) envelope", deadline, async () => {
    const proxy = recordingAggregator();
    await upload(
      new WebConnector({ proxyUrl: "https://proxy.example", fetch: proxy.fetch }),
      create(DataStreamSchema),
    );
    assert.deepEqual(proxy.bodies[0]?.bytes, Uint8Array.of(0, 0, 0, 0, 0));
  });

  it(
    "lets the application's interceptors see the real message, not the placeholder",
    deadline,
    async () => {
      const proxy = recordingAggregator();
      const seen: number[] = [];
      const watching: Interceptor = (next) => (request) => {
        if (!request.stream) seen.push((request.message as DataStream).npbytes.byteLength);
        return next(request);
      };
      const connector = new WebConnector({
        proxyUrl: "https://proxy.example",
        fetch: proxy.fetch,
        interceptors: [watching],
      });
      await upload(connector, chunkOf(4096));
      assert.deepEqual(seen, [4096]);
      assert.deepEqual(proxy.bodies[0]?.bytes, envelopeOf(chunkOf(4096)));
    },
  );

  it("leaves other calls' bodies to connect-web", deadline, async () => {
    const proxy = recordingAggregator();
    const connection = new WebConnector({
      proxyUrl: "https://proxy.example",
      fetch: proxy.fetch,
    }).open();
    await createClient(Aggregator, connection.transport).ping({});
    assert.ok(proxy.bodies[0]?.body instanceof Uint8Array);
    assert.ok(proxy.bodies[0]?.path.endsWith("/Ping"));
  });
});

describe("dataStreamUploadBodies", () => {
  it(
    "refuses a DataStream whose length a gRPC-web envelope cannot carry, before fetch",
    deadline,
    async () => {
      let fetched = 0;
      const uploads = dataStreamUploadBodies(async () => {
        fetched++;
        return new Response(null);
      });
      const signal = new AbortController().signal;
      const huge = { byteLength: 2 ** 32 } as Uint8Array; // never allocated: only its length is read
      const request = {
        stream: false,
        method: { input: DataStreamSchema },
        signal,
        message: create(DataStreamSchema, { npbytes: huge }),
      } as unknown as Parameters<ReturnType<Interceptor>>[0];
      await uploads.interceptor(async () => {
        const error = await uploads
          .fetch("https://proxy.example/x", { signal, body: new Uint8Array(5) })
          .catch((e: unknown) => e);
        assert.ok(error instanceof ConnectError);
        assert.equal(error.code, Code.ResourceExhausted);
        assert.match(error.rawMessage, /message size 4294967302 is larger than .* 4294967295/);
        return {} as never;
      })(request);
      assert.equal(fetched, 0);
    },
  );

  it("sends a DataStream of exactly the longest length an envelope carries", deadline, async () => {
    let fetched = 0;
    const uploads = dataStreamUploadBodies(async () => {
      fetched++;
      return new Response(null);
    });
    const signal = new AbortController().signal;
    // 1 tag byte + a 5-byte length varint + the bytes = 0xffffffff; never allocated.
    const longest = { byteLength: 0xffffffff - 6 } as Uint8Array;
    const request = {
      stream: false,
      method: { input: DataStreamSchema },
      signal,
      message: create(DataStreamSchema, { npbytes: longest }),
    } as unknown as Parameters<ReturnType<Interceptor>>[0];
    await uploads.interceptor(async () => {
      await uploads.fetch("https://proxy.example/x", { signal, body: new Uint8Array(5) });
      return {} as never;
    })(request);
    assert.equal(fetched, 1);
  });

  it(
    "passes a fetch of another call (another signal, or none) through unchanged",
    deadline,
    async () => {
      const got: (BodyInit | null | undefined)[] = [];
      const uploads = dataStreamUploadBodies(async (_input, init) => {
        got.push(init?.body);
        return new Response(null);
      });
      const body = Uint8Array.of(1, 2, 3);
      await uploads.fetch("https://proxy.example/x", {
        body,
        signal: new AbortController().signal,
      });
      await uploads.fetch("https://proxy.example/x", { body });
      assert.deepEqual(got, [body, body]);
    },
  );
});
