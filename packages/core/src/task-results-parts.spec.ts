import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { concatParts, partsByteLength } from "./byte-parts.js";
import { TaskResultsSchema } from "./gen/openfl/protocols/aggregator_pb.js";
import { NamedTensorSchema } from "./gen/openfl/protocols/base_pb.js";
import { serializeTaskResultsParts } from "./task-results-parts.js";
import { encodeNamedTensor } from "./tensor-codec.js";

const header = {
  sender: "one",
  receiver: "aggregator_fed",
  federationUuid: "fed",
  singleColCertCommonName: "",
};

function results(tensorSizes: number[]) {
  return create(TaskResultsSchema, {
    header,
    roundNumber: 7,
    taskName: "train",
    dataSize: 600,
    tensors: tensorSizes.map((n, i) =>
      encodeNamedTensor(
        { shape: [n], data: Float32Array.from({ length: n }, (_, j) => j * 0.5 - i) },
        { name: `layer${i}`, roundNumber: 7, tags: ["trained"] },
      ),
    ),
  });
}

describe("serializeTaskResultsParts", () => {
  for (const sizes of [[], [0], [1], [3, 0, 40], [32, 100_000], [600_000]]) {
    it(`is byte-identical to toBinary for tensors of ${JSON.stringify(sizes)} floats`, () => {
      const message = results(sizes);
      const parts = serializeTaskResultsParts(message);
      assert.deepEqual(concatParts(parts), toBinary(TaskResultsSchema, message));
      assert.equal(partsByteLength(parts), toBinary(TaskResultsSchema, message).byteLength);
    });
  }

  it("passes each tensor's data_bytes through as a view, not a copy", () => {
    const message = results([1000, 2000]);
    const parts = serializeTaskResultsParts(message);
    for (const tensor of message.tensors) {
      assert.ok(
        parts.includes(tensor.dataBytes),
        `data_bytes of ${tensor.name} is one of the parts`,
      );
    }
  });

  it("keeps report, tags and metadata of every tensor", () => {
    const metric = encodeNamedTensor(
      { shape: [], data: [0.9] },
      { name: "acc", roundNumber: 1, tags: ["metric"], report: true },
    );
    const parts = serializeTaskResultsParts({
      header,
      tensors: [create(NamedTensorSchema, metric)],
    });
    const parsed = fromBinary(TaskResultsSchema, concatParts(parts));
    assert.equal(parsed.tensors[0]?.report, true);
    assert.deepEqual(parsed.tensors[0]?.tags, ["compressed", "metric"]);
    assert.equal(parsed.tensors[0]?.transformerMetadata.length, 1);
  });
});
