import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { concatParts, encodeNamedTensor } from "@openfl-connect/core";
import { dataStreamChunks, serializeTaskResultsParts } from "@openfl-connect/core/internal";
import { DataStreamSchema, TaskResultsSchema } from "@openfl-connect/core/protocol";
import { taskResultsStreamBody } from "./rest-upload-body.js";

async function* each<T>(items: Iterable<T>) {
  yield* items;
}

/** OpenFL's _parse_protobuf_stream, step by step: the first DataStream, then a 0 length, then the end. */
function parseAsOpenFL(body: Uint8Array) {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const first = view.getUint32(0);
  const stream = fromBinary(DataStreamSchema, body.subarray(4, 4 + first));
  const endLength = view.getUint32(4 + first);
  assert.equal(endLength, 0, "the end message has length 0");
  assert.equal(body.byteLength, 4 + first + 4 + endLength, "nothing after the end message");
  return { stream, results: fromBinary(TaskResultsSchema, stream.npbytes) };
}

describe("taskResultsStreamBody", () => {
  const tensor = encodeNamedTensor(
    { shape: [700_000], data: Float32Array.from({ length: 700_000 }, (_, i) => i / 7) },
    { name: "w", roundNumber: 3, tags: ["trained"] },
  );
  const parts = serializeTaskResultsParts({
    header: { sender: "one", receiver: "agg", federationUuid: "fed" },
    roundNumber: 3,
    taskName: "train",
    dataSize: 42,
    tensors: [tensor],
  });

  it("2 MiB chunks become the one DataStream OpenFL's server parses, size = its bytes", async () => {
    const { parts: body, byteLength } = await taskResultsStreamBody(
      each(dataStreamChunks(parts, 1024 * 1024)),
      1 << 30,
    );
    const joined = concatParts(body);
    assert.equal(joined.byteLength, byteLength);
    const { stream, results } = parseAsOpenFL(joined);
    assert.equal(stream.size, stream.npbytes.byteLength);
    assert.equal(results.taskName, "train");
    assert.equal(results.dataSize, 42);
    assert.deepEqual(results.tensors[0]?.dataBytes, tensor.dataBytes);
  });

  it("the tensor's bytes are passed on as views of the caller's buffer", async () => {
    const { parts: body } = await taskResultsStreamBody(
      each(dataStreamChunks(parts, 1024 * 1024)),
      1 << 30,
    );
    assert.ok(
      body.some((p) => p.buffer === tensor.dataBytes.buffer && p.byteLength === 1024 * 1024),
    );
  });

  it("an empty upload is the empty DataStream after a zero length, then the end", async () => {
    const { parts: body } = await taskResultsStreamBody(each([create(DataStreamSchema)]), 100);
    assert.deepEqual(concatParts(body), new Uint8Array(8));
  });

  it("a message over maxMessageBytes is refused before anything is sent", async () => {
    await assert.rejects(
      taskResultsStreamBody(each(dataStreamChunks(parts)), 1000),
      /message size \d+ is larger than configured writeMaxBytes 1000/,
    );
  });
});
