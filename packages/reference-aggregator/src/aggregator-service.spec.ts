// The upload handler on its own (no network): what it reads of a stream before refusing it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, createHandlerContext } from "@connectrpc/connect";
import {
  Aggregator,
  type DataStream,
  DataStreamSchema,
  TaskResultsSchema,
} from "@openfl-connect/core/protocol";
import {
  createAggregatorService,
  DEFAULT_MAX_UPLOAD_BYTES,
  peerIdentityKey,
} from "./aggregator-service.js";
import { AggregatorState } from "./aggregator-state.js";
import { silentLogger } from "./logger.js";
import { AGGREGATOR_UUID, FEDERATION_UUID, header, trained } from "./spec-fixtures.js";

function service(options: { maxUploadBytes?: number } = {}) {
  const state = new AggregatorState({
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    authorizedCollaborators: ["alice", "bob"],
    rounds: 1,
    tasks: ["train"],
    initialModel: { w: { shape: [2], data: Float32Array.from([0, 0]) } },
    logger: silentLogger,
  });
  return createAggregatorService(state, { authFailureDelayMs: [0, 0], ...options });
}

/** The context of a call whose TLS peer certificate has subject CN `commonName`. */
function callFrom(commonName: string) {
  return createHandlerContext({
    service: Aggregator,
    method: Aggregator.method.sendLocalTaskResults,
    protocolName: "grpc",
    requestMethod: "POST",
    url: "https://aggregator/openfl.aggregator.Aggregator/SendLocalTaskResults",
    contextValues: createContextValues().set(peerIdentityKey, { t: "tls", commonName }),
  });
}

/** `count` DataStream chunks, all views of one `bytes`-long buffer; counts the chunks read. */
function stream(count: number, bytes: number) {
  const npbytes = new Uint8Array(bytes);
  const read = { chunks: 0 };
  async function* chunks(): AsyncGenerator<DataStream> {
    for (let i = 0; i < count; i++) {
      read.chunks++;
      yield create(DataStreamSchema, { size: bytes, npbytes });
    }
  }
  return { chunks: chunks(), read };
}

async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  assert.fail("expected the call to fail");
}

describe("SendLocalTaskResults before the upload is read", () => {
  it("refuses a certificate no authorised collaborator may use without reading the stream", async () => {
    const upload = stream(3, 1024);
    const error = await failure(
      service().sendLocalTaskResults(upload.chunks, callFrom("mallory")) as Promise<unknown>,
    );
    assert.equal(error.code, Code.Unauthenticated);
    assert.match(
      error.rawMessage,
      /CN: \|mallory\| is not an authorized collaborator's certificate/,
    );
    assert.equal(upload.read.chunks, 0, "read the upload of an unauthorised certificate");
  });

  it("stops reading at maxUploadBytes with RESOURCE_EXHAUSTED naming the limit", async () => {
    const upload = stream(10, 600);
    const error = await failure(
      service({ maxUploadBytes: 1000 }).sendLocalTaskResults(
        upload.chunks,
        callFrom("alice"),
      ) as Promise<unknown>,
    );
    assert.equal(error.code, Code.ResourceExhausted);
    assert.match(error.rawMessage, /limit of one SendLocalTaskResults stream is 1000 bytes/);
    assert.equal(upload.read.chunks, 2, "read past the limit");
  });

  it("limits a stream to 1 GiB by default (16 messages of 64 MiB npbytes plus their framing are past it)", async () => {
    assert.equal(DEFAULT_MAX_UPLOAD_BYTES, 2 ** 30);
    const upload = stream(20, 64 * 1024 * 1024);
    const error = await failure(
      service().sendLocalTaskResults(upload.chunks, callFrom("alice")) as Promise<unknown>,
    );
    assert.equal(error.code, Code.ResourceExhausted);
    assert.match(error.rawMessage, /is 1073741824 bytes/);
    assert.equal(upload.read.chunks, 16);
  });

  it("counts whole DataStream messages (size, npbytes, framing) against maxUploadBytes: a stream of N message bytes is refused with limit N - 1, taken with N and N + 1", async () => {
    const results = toBinary(
      TaskResultsSchema,
      create(TaskResultsSchema, {
        header: header("alice"),
        roundNumber: 0,
        taskName: "train",
        dataSize: 1,
        tensors: [trained("w", 0, [1, 2])],
      }),
    );
    const third = Math.ceil(results.byteLength / 3);
    const messages = [0, 1, 2].map((i) => {
      const npbytes = results.subarray(i * third, (i + 1) * third);
      return create(DataStreamSchema, { size: npbytes.byteLength, npbytes });
    });
    const whole = messages.reduce((n, m) => n + toBinary(DataStreamSchema, m).byteLength, 0);
    // The framing alone is more than 1 byte: counting npbytes only would take limit - 1.
    assert.ok(results.byteLength < whole - 1, `${results.byteLength} of ${whole}`);
    async function* chunks() {
      yield* messages;
    }
    for (const [maxUploadBytes, taken] of [
      [whole - 1, false],
      [whole, true],
      [whole + 1, true],
    ] as const) {
      const call = service({ maxUploadBytes }).sendLocalTaskResults(
        chunks(),
        callFrom("alice"),
      ) as Promise<{ header?: { receiver: string } }>;
      if (taken) {
        assert.equal((await call).header?.receiver, "alice", `limit ${maxUploadBytes}`);
      } else {
        const error = await failure(call);
        assert.equal(error.code, Code.ResourceExhausted, `limit ${maxUploadBytes}`);
        assert.match(error.rawMessage, new RegExp(`stream is ${maxUploadBytes} bytes`));
      }
    }
  });

  it("refuses a maxUploadBytes below 1 or NaN (which would disable the limit), and takes 1", () => {
    for (const maxUploadBytes of [0, -1, Number.NaN]) {
      assert.throws(
        () => service({ maxUploadBytes }),
        (e: unknown) =>
          e instanceof RangeError &&
          e.message === `maxUploadBytes must be a number >= 1, got ${maxUploadBytes}`,
      );
    }
    service({ maxUploadBytes: 1 });
  });

  it("with maxUploadBytes 1 refuses even one byte of npbytes (its message is 5 bytes)", async () => {
    const upload = stream(1, 1);
    const error = await failure(
      service({ maxUploadBytes: 1 }).sendLocalTaskResults(
        upload.chunks,
        callFrom("alice"),
      ) as Promise<unknown>,
    );
    assert.equal(error.code, Code.ResourceExhausted);
  });
});
