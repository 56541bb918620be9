import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { TensorCodecError } from "./errors.js";
import { MetadataProtoSchema, NamedTensorSchema } from "./gen/openfl/protocols/base_pb.js";
import { decodeNamedTensor, encodeNamedTensor, receivedTags } from "./tensor-codec.js";

const meta = { name: "w", roundNumber: 3 };

describe("tensor codec (OpenFL NoCompressionPipeline)", () => {
  it("round-trips a multi-dimensional tensor in C order", () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i / 7 - 1);
    const named = encodeNamedTensor({ shape: [2, 3, 4], data }, meta);
    assert.deepEqual(named.transformerMetadata[0]?.intList, [2, 3, 4]);
    const back = decodeNamedTensor(named);
    assert.deepEqual(back.shape, [2, 3, 4]);
    assert.deepEqual(back.data, data);
  });

  it("encodes a scalar with shape [] and still one metadata entry", () => {
    const named = encodeNamedTensor(
      { shape: [], data: [0.5] },
      { ...meta, tags: ["metric"], report: true },
    );
    assert.equal(named.transformerMetadata.length, 1);
    assert.deepEqual(named.transformerMetadata[0]?.intList, []);
    assert.equal(named.dataBytes.byteLength, 4);
    assert.equal(named.report, true);
    assert.deepEqual(decodeNamedTensor(named), { shape: [], data: Float32Array.of(0.5) });
  });

  it("handles empty shapes with a zero dimension", () => {
    const named = encodeNamedTensor({ shape: [0, 5], data: [] }, meta);
    assert.equal(named.dataBytes.byteLength, 0);
    assert.deepEqual(decodeNamedTensor(named).shape, [0, 5]);
  });

  it("writes little-endian float32 bytes and the lossless, compressed markers", () => {
    const named = encodeNamedTensor({ shape: [1], data: [1] }, { ...meta, tags: ["trained"] });
    assert.deepEqual([...named.dataBytes], [0x00, 0x00, 0x80, 0x3f]);
    assert.equal(named.lossless, true);
    assert.deepEqual(named.tags, ["compressed", "trained"]);
    assert.deepEqual(receivedTags(named), ["trained"]);
  });

  it("casts non-float32 input (float64, ints) to float32 like numpy astype", () => {
    const named = encodeNamedTensor({ shape: [3], data: Float64Array.of(0.1, 2, -3) }, meta);
    assert.deepEqual(decodeNamedTensor(named).data, Float32Array.of(0.1, 2, -3));
    const ints = encodeNamedTensor({ shape: [2], data: Int32Array.of(7, -8) }, meta);
    assert.deepEqual(decodeNamedTensor(ints).data, Float32Array.of(7, -8));
  });

  it("decodes from an unaligned, offset view regardless of platform byte order", () => {
    const backing = new Uint8Array(9);
    new DataView(backing.buffer).setFloat32(1, 2.5, true);
    new DataView(backing.buffer).setFloat32(5, -1, true);
    const named = create(NamedTensorSchema, {
      name: "x",
      dataBytes: backing.subarray(1),
      transformerMetadata: [create(MetadataProtoSchema, { intList: [2] })],
    });
    assert.deepEqual(decodeNamedTensor(named).data, Float32Array.of(2.5, -1));
  });

  it("rejects data that does not fit the shape, naming the tensor", () => {
    assert.throws(
      () => encodeNamedTensor({ shape: [2, 2], data: [1, 2, 3] }, meta),
      (e: unknown) => e instanceof TensorCodecError && /'w'.*4 values.*3/.test(e.message),
    );
    const named = encodeNamedTensor({ shape: [2], data: [1, 2] }, meta);
    named.dataBytes = named.dataBytes.subarray(0, 6);
    assert.throws(() => decodeNamedTensor(named), /needs 8 bytes.*has 6/);
  });

  it("rejects tensors without exactly one metadata entry", () => {
    const named = create(NamedTensorSchema, { name: "m", dataBytes: new Uint8Array(4) });
    assert.throws(() => decodeNamedTensor(named), /exactly 1 transformer_metadata entry/);
  });

  it("copies a Float32Array by default and shares its memory only with zeroCopy", () => {
    const data = Float32Array.of(1, 2, 3);
    const copied = encodeNamedTensor({ shape: [3], data }, meta);
    const shared = encodeNamedTensor({ shape: [3], data }, { ...meta, zeroCopy: true });
    data[0] = 9;
    assert.equal(decodeNamedTensor(copied).data[0], 1);
    assert.equal(decodeNamedTensor(shared).data[0], 9);
  });
});

describe("tensor codec: tags, flags and refusals as OpenFL's pipeline has them", () => {
  it("tags an untagged tensor ['compressed'] only, and sorts and dedupes given tags", () => {
    assert.deepEqual(encodeNamedTensor({ shape: [1], data: [1] }, meta).tags, ["compressed"]);
    const named = encodeNamedTensor(
      { shape: [1], data: [1] },
      { ...meta, tags: ["trained", "compressed", "one"] },
    );
    assert.deepEqual(named.tags, ["compressed", "one", "trained"]);
  });

  it("defaults to lossless, not reported; keeps the given name, round and flags", () => {
    const plain = encodeNamedTensor({ shape: [1], data: [1] }, meta);
    assert.deepEqual(
      [plain.name, plain.roundNumber, plain.lossless, plain.report],
      ["w", 3, true, false],
    );
    const metric = encodeNamedTensor(
      { shape: [], data: [0.5] },
      { name: "acc", roundNumber: 7, report: true, lossless: false },
    );
    assert.deepEqual(
      [metric.name, metric.roundNumber, metric.lossless, metric.report],
      ["acc", 7, false, true],
    );
  });

  it("receivedTags drops both compression markers and sorts the rest", () => {
    const named = create(NamedTensorSchema, {
      tags: ["trained", "lossy_compressed", "compressed", "col1"],
    });
    assert.deepEqual(receivedTags(named), ["col1", "trained"]);
  });

  it("refuses a lossy-compressed tensor by name instead of reading its bytes as floats", () => {
    const named = encodeNamedTensor({ shape: [1], data: [1] }, meta);
    named.tags.push("lossy_compressed");
    assert.throws(
      () => decodeNamedTensor(named),
      (e: unknown) =>
        e instanceof TensorCodecError &&
        e.message === "tensor 'w': lossy_compressed tensors need a lossy pipeline, not supported",
    );
  });

  it("refuses a negative or fractional dimension, naming the tensor, the shape and the dimension", () => {
    for (const dim of [-1, 1.5]) {
      assert.throws(
        () => encodeNamedTensor({ shape: [2, dim], data: [] }, meta),
        (e: unknown) =>
          e instanceof TensorCodecError &&
          e.message === `tensor 'w': shape [2, ${dim}] has an invalid dimension ${dim}`,
      );
    }
    const named = create(NamedTensorSchema, {
      name: "b",
      transformerMetadata: [create(MetadataProtoSchema, { intList: [-2] })],
    });
    assert.throws(
      () => decodeNamedTensor(named),
      /tensor 'b': shape \[-2\] has an invalid dimension -2/,
    );
  });

  it("says which sizes disagree, in full", () => {
    assert.throws(
      () => encodeNamedTensor({ shape: [2, 2], data: [1, 2, 3] }, meta),
      (e: unknown) =>
        e instanceof Error && e.message === "tensor 'w': shape [2, 2] holds 4 values, data has 3",
    );
    const named = encodeNamedTensor({ shape: [2], data: [1, 2] }, meta);
    named.dataBytes = named.dataBytes.subarray(0, 6);
    assert.throws(
      () => decodeNamedTensor(named),
      (e: unknown) =>
        e instanceof Error &&
        e.message === "tensor 'w': shape [2] needs 8 bytes of float32, data_bytes has 6",
    );
    const matrix = encodeNamedTensor({ shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, meta);
    matrix.dataBytes = matrix.dataBytes.subarray(0, 20);
    assert.throws(
      () => decodeNamedTensor(matrix),
      (e: unknown) =>
        e instanceof Error &&
        e.message === "tensor 'w': shape [2, 3] needs 24 bytes of float32, data_bytes has 20",
    );
    const two = create(NamedTensorSchema, { name: "m", transformerMetadata: [{}, {}] });
    assert.throws(
      () => decodeNamedTensor(two),
      (e: unknown) =>
        e instanceof Error &&
        e.message ===
          "tensor 'm': expected exactly 1 transformer_metadata entry (NoCompressionPipeline), got 2",
    );
  });
});
