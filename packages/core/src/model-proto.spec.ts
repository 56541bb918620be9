import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { TensorCodecError } from "./errors.js";
import { ModelProtoSchema } from "./gen/openfl/protocols/base_pb.js";
import { decodeModelFile, encodeModelFile } from "./model-proto.js";
import { encodeNamedTensor } from "./tensor-codec.js";

const kernel = { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6.5) };
const bias = { shape: [3], data: Float32Array.of(-1, 0, 1) };

describe("model file (OpenFL's ModelProto)", () => {
  it("writes each tensor as construct_model_proto does: tags [model], lossless, the round, the shape", () => {
    const proto = fromBinary(
      ModelProtoSchema,
      encodeModelFile({ "dense/kernel": kernel, "dense/bias": bias }, 4),
    );
    assert.deepEqual(
      proto.tensors.map((t) => [t.name, t.roundNumber, t.lossless, t.report, t.tags]),
      [
        ["dense/kernel", 4, true, false, ["model"]],
        ["dense/bias", 4, true, false, ["model"]],
      ],
    );
    assert.deepEqual(proto.tensors[0]?.transformerMetadata[0]?.intList, [2, 3]);
    assert.equal(proto.tensors[0]?.dataBytes.byteLength, 24);
  });

  it("reads back what it wrote, values and shapes exact", () => {
    const file = decodeModelFile(encodeModelFile({ "dense/kernel": kernel, "dense/bias": bias }));
    assert.equal(file.roundNumber, 0);
    assert.deepEqual(Object.keys(file.tensors), ["dense/kernel", "dense/bias"]);
    assert.deepEqual(file.tensors["dense/kernel"], kernel);
    assert.deepEqual(file.tensors["dense/bias"], bias);
  });

  it("refuses bytes that are not a ModelProto, naming the file", () => {
    assert.throws(
      () => decodeModelFile(Uint8Array.of(0xff, 0xff, 0xff), "save/init.pbuf"),
      (e: unknown) =>
        e instanceof TensorCodecError && /^save\/init\.pbuf: not a ModelProto/.test(e.message),
    );
  });

  it("refuses a tensor named twice and rounds that disagree (OpenFL asserts one round)", () => {
    const twice = create(ModelProtoSchema, {
      tensors: [
        encodeNamedTensor(bias, { name: "b", roundNumber: 0 }),
        encodeNamedTensor(bias, { name: "b", roundNumber: 0 }),
      ],
    });
    assert.throws(
      () => decodeModelFile(toBinary(ModelProtoSchema, twice), "m.pbuf"),
      /m\.pbuf: tensor 'b' appears twice/,
    );
    const rounds = create(ModelProtoSchema, {
      tensors: [
        encodeNamedTensor(bias, { name: "a", roundNumber: 1 }),
        encodeNamedTensor(bias, { name: "b", roundNumber: 2 }),
      ],
    });
    assert.throws(
      () => decodeModelFile(toBinary(ModelProtoSchema, rounds), "m.pbuf"),
      /tensor 'b' is of round 2, the file's earlier tensors of round 1/,
    );
  });

  it("names the file and the tensor when a tensor's bytes do not fit its shape", () => {
    const t = encodeNamedTensor(bias, { name: "b", roundNumber: 0 });
    t.dataBytes = t.dataBytes.subarray(0, 8);
    const bytes = toBinary(ModelProtoSchema, create(ModelProtoSchema, { tensors: [t] }));
    assert.throws(
      () => decodeModelFile(bytes, "m.pbuf"),
      /^TensorCodecError: m\.pbuf: tensor 'b': shape \[3\] needs 12 bytes/,
    );
  });

  it("names the model file when no name is given, and keeps the tensor's own error as the cause", () => {
    const t = encodeNamedTensor(bias, { name: "b", roundNumber: 0 });
    t.dataBytes = t.dataBytes.subarray(0, 8);
    const bytes = toBinary(ModelProtoSchema, create(ModelProtoSchema, { tensors: [t] }));
    assert.throws(
      () => decodeModelFile(bytes),
      (e: unknown) =>
        e instanceof TensorCodecError &&
        e.message.startsWith("model file: tensor 'b'") &&
        e.cause instanceof TensorCodecError &&
        e.cause.message.startsWith("tensor 'b'"),
    );
  });
});
