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
  it("connect-web alone refuses a client stream (why the wrapper exists)", async () => {
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

  it("sends a one-message client stream as one gRPC-web envelope the server reads as a client stream", async () => {
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
  });

  for (const [what, payloads] of [
    ["no message", []],
    ["two messages", [new Uint8Array([1]), new Uint8Array([2])]],
  ] as const) {
    it(`rejects a client stream of ${what} with InvalidArgument before sending anything`, async () => {
      const server = uploadServer([]);
      const transport = withSingleMessageClientStreams(
        createGrpcWebTransport({ baseUrl: "https://proxy", fetch: server.fetch }),
      );
      const error = await createClient(Aggregator, transport)
        .sendLocalTaskResults(dataStreams(...payloads))
        .catch((e: unknown) => e);
      assert.ok(error instanceof ConnectError);
      assert.equal(error.code, Code.InvalidArgument);
      assert.match(error.message, /exactly one message/);
      assert.equal(server.requests.length, 0);
    });
  }

  it("surfaces the server's status for the upload (e.g. UNAUTHENTICATED)", async () => {
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

  it("passes unary calls through unchanged (in-memory router transport)", async () => {
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

  it("calls the inner transport's unary() with a unary copy of the client-streaming method", async () => {
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
  });
});

describe("withConnectionSignal", () => {
  it("fails calls on a closed connection", async () => {
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
