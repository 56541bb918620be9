import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  AggregatorCallError,
  decodeNamedTensor,
  encodeNamedTensor,
  HeaderMismatchError,
  InvalidOptionError,
  OPENFL_CHUNK_BYTES,
} from "@openfl-connect/core";
import { joinDataStreamChunks } from "@openfl-connect/core/internal";
import { Aggregator, MessageHeaderSchema, TaskResultsSchema } from "@openfl-connect/core/protocol";
import { failingFetch, inMemoryGrpcWeb } from "@openfl-connect/test-support/in-memory-grpc-web";
import {
  AggregatorWebClient,
  type AggregatorWebClientOptions,
  createWebConnector,
} from "./aggregator-web-client.js";

/** Every test's own deadline, so that a hang fails naming the test. */
const deadline = { timeout: 10_000 };

const identity = {
  aggregatorUuid: "aggregator_plan.yaml_0123abcd",
  federationUuid: "plan.yaml_0123abcd",
  collaboratorName: "dashboard",
};
const replyHeader = create(MessageHeaderSchema, {
  sender: identity.aggregatorUuid,
  receiver: identity.collaboratorName,
  federationUuid: identity.federationUuid,
});

function client(options: Partial<AggregatorWebClientOptions>) {
  return new AggregatorWebClient({
    ...identity,
    proxyUrl: "https://proxy.example",
    retry: { intervalMs: 1 },
    ...options,
  });
}

describe("AggregatorWebClient", () => {
  it(
    "uploads task results larger than OpenFL's 2 MiB chunk as a single DataStream",
    deadline,
    async () => {
      const uploads: { chunks: number; bytes: Uint8Array }[] = [];
      const server = inMemoryGrpcWeb((router) =>
        router.service(Aggregator, {
          async sendLocalTaskResults(stream) {
            const chunks = [];
            for await (const chunk of stream) chunks.push(chunk);
            uploads.push({ chunks: chunks.length, bytes: joinDataStreamChunks(chunks) });
            return { header: replyHeader };
          },
        }),
      );
      const data = Float32Array.from({ length: (5 * 1024 * 1024) / 4 }, (_, i) => Math.sin(i));
      const tensor = encodeNamedTensor(
        { shape: [data.length], data },
        {
          name: "upload",
          roundNumber: 0,
          tags: ["trained"],
        },
      );
      await client({ fetch: server.fetch }).sendLocalTaskResults(0, "train", 10, [tensor]);
      assert.equal(uploads.length, 1);
      assert.equal(uploads[0]?.chunks, 1);
      assert.ok((uploads[0]?.bytes.byteLength ?? 0) > OPENFL_CHUNK_BYTES);
      const results = fromBinary(TaskResultsSchema, uploads[0]?.bytes ?? new Uint8Array());
      assert.equal(results.header?.sender, "dashboard");
      assert.equal(results.taskName, "train");
      const [received] = results.tensors;
      assert.ok(received);
      assert.deepEqual(decodeNamedTensor(received).data, data);
    },
  );

  it(
    "resends through core's retry after a browser network failure (fetch TypeError)",
    deadline,
    async () => {
      const server = inMemoryGrpcWeb((router) =>
        router.service(Aggregator, { ping: () => ({ header: replyHeader }) }),
      );
      let calls = 0;
      const flaky: typeof fetch = (input, init) => {
        calls++;
        return calls === 1 ? failingFetch(input, init) : server.fetch(input, init);
      };
      const retries: string[] = [];
      await client({ fetch: flaky, onRetry: (e) => retries.push(e.failure) }).ping();
      assert.equal(calls, 2);
      assert.equal(retries.length, 1);
      assert.match(retries[0] ?? "", /network request failed/);
    },
  );

  it("does not retry a response header mismatch and names the field", deadline, async () => {
    const server = inMemoryGrpcWeb((router) =>
      router.service(Aggregator, {
        ping: () => ({ header: { ...replyHeader, federationUuid: "plan.yaml_ffffffff" } }),
      }),
    );
    const error = await client({ fetch: server.fetch })
      .ping()
      .catch((e: unknown) => e);
    assert.ok(error instanceof HeaderMismatchError);
    assert.equal(error.field, "federation_uuid");
    assert.equal(error.actual, "plan.yaml_ffffffff");
    assert.equal(server.requests.length, 1);
  });

  it("gives up at once on UNAUTHENTICATED", deadline, async () => {
    const server = inMemoryGrpcWeb((router) =>
      router.service(Aggregator, {
        ping: () => {
          throw new ConnectError("Invalid collaborator. CN: |dashboard|", Code.Unauthenticated);
        },
      }),
    );
    const error = await client({ fetch: server.fetch })
      .ping()
      .catch((e: unknown) => e);
    assert.ok(error instanceof AggregatorCallError);
    assert.equal(error.code, Code.Unauthenticated);
    assert.equal(error.reason, "cannot-heal");
  });

  it("refuses options a browser cannot honour", deadline, () => {
    assert.throws(() => client({ proxyUrl: "localhost:8080" }), InvalidOptionError);
    assert.throws(
      () =>
        client({
          refetchServerCertificate: () => "ca.pem",
        } as unknown as Partial<AggregatorWebClientOptions>),
      /refetchServerCertificate/,
    );
    assert.throws(
      () => client({ uploadChunkBytes: 1024 } as unknown as Partial<AggregatorWebClientOptions>),
      /option 'uploadChunkBytes': expected nothing \(gRPC-web sends an upload as one message/,
    );
  });

  /** The InvalidOptionError `build` throws. */
  function refusal(build: () => unknown): InvalidOptionError {
    try {
      build();
    } catch (e) {
      assert.ok(e instanceof InvalidOptionError, `not an InvalidOptionError: ${e}`);
      return e;
    }
    assert.fail("accepted");
  }

  it(
    "accepts http:// and https:// proxy URLs, and undefined for the refused options",
    deadline,
    () => {
      for (const proxyUrl of ["http://127.0.0.1:8080", "https://proxy.example/"]) {
        assert.ok(client({ proxyUrl }));
      }
      assert.ok(
        client({ refetchServerCertificate: undefined, uploadChunkBytes: undefined } as never),
        "an option present but undefined is no option",
      );
      assert.ok(client({ fetch: undefined }));
    },
  );

  it("refuses a proxy URL that is not an http(s) URL, naming the option", deadline, () => {
    for (const proxyUrl of ["localhost:8080", "ws://proxy", "file:///x", "", "not a url", 8080]) {
      const e = refusal(() => client({ proxyUrl: proxyUrl as string }));
      assert.match(e.message, /proxyUrl/);
      assert.match(e.message, /an http:\/\/ or https:\/\/ URL of the gRPC-web proxy/);
    }
  });

  it("refuses a fetch that is not a function, naming it", deadline, () => {
    const e = refusal(() => client({ fetch: "fetch" as never }));
    assert.match(e.message, /option 'fetch': expected a function/);
  });

  it("refuses options that are not an object", deadline, () => {
    for (const options of [null, undefined, "https://proxy"]) {
      const e = refusal(() => createWebConnector(options as never));
      assert.match(e.message, /option 'options': expected an object/);
    }
  });

  it("explains why a browser has no refetchServerCertificate", deadline, () => {
    const e = refusal(() => client({ refetchServerCertificate: () => "ca.pem" } as never));
    assert.match(
      e.message,
      /option 'refetchServerCertificate': expected nothing \(a browser cannot change which CAs it trusts; the proxy verifies the aggregator\)/,
    );
  });
});
