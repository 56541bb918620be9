import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { InvalidOptionError, TensorCodecError } from "../errors.js";
import { MetadataProtoSchema, NamedTensorSchema } from "../gen/openfl/protocols/base_pb.js";
import { type DecodeTensorOptions, decodeTensor, type Gunzip } from "./decode-tensor.js";
import type { CompressionPipeline } from "./pipeline-config.js";

type EntryInit = MessageInitShape<typeof MetadataProtoSchema>;

const gunzip: Gunzip = (bytes) => gunzipSync(bytes);

function f32(...values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

function tensor(tags: string[], entries: EntryInit[], dataBytes: Uint8Array) {
  return create(NamedTensorSchema, {
    name: "w",
    roundNumber: 2,
    tags,
    transformerMetadata: entries.map((e) => create(MetadataProtoSchema, e)),
    dataBytes,
  });
}

const options = (kind: CompressionPipeline["kind"]): DecodeTensorOptions => ({
  pipeline: { kind },
  gunzip,
});

/** A rejection with exactly this error class and message. */
async function refuses(
  promise: Promise<unknown>,
  type: typeof TensorCodecError | typeof InvalidOptionError,
  message: string,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof type, String(error));
    assert.equal(error.message, message);
    return true;
  });
}

const LAYOUT = {
  stc: "STCPipeline expects transformer_metadata of 3 entries: #0 {int_list: shape}, #1 {int_to_float: code table}, #2 {}",
  kc: "KCPipeline expects transformer_metadata of 2 entries: #0 {int_to_float: code table, int_list: shape}, #1 {}",
  shift:
    "RandomShiftPipeline expects transformer_metadata of 2 entries: #0 {int_to_float: shift per element, int_list: shape}, #1 {int_list: shape}",
};

describe("decodeTensor: NoCompressionPipeline", () => {
  it("decodes float32 in C order and removes the compressed tag", async () => {
    const named = tensor(["trained", "compressed"], [{ intList: [2, 2] }], f32(1, 2, 3, 4));
    assert.deepEqual(await decodeTensor(named, { pipeline: { kind: "none" } }), {
      tensor: { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) },
      tags: ["trained"],
      decodedWith: "NoCompressionPipeline",
      codeTableOrderDependent: false,
    });
  });

  it("decodes a scalar, a 1-element and an empty tensor", async () => {
    const decode = (shape: number[], bytes: Uint8Array) =>
      decodeTensor(tensor(["compressed"], [{ intList: shape }], bytes), options("none"));
    assert.deepEqual((await decode([], f32(0.5))).tensor, {
      shape: [],
      data: Float32Array.of(0.5),
    });
    assert.deepEqual((await decode([1], f32(-2))).tensor, {
      shape: [1],
      data: Float32Array.of(-2),
    });
    assert.deepEqual((await decode([0, 3], new Uint8Array(0))).tensor, {
      shape: [0, 3],
      data: new Float32Array(0),
    });
  });

  it("decodes a lossy_compressed tensor with the plan's NoCompression and marks it lossy_decompressed", async () => {
    const named = tensor(["lossy_compressed", "delta"], [{ intList: [1] }], f32(3));
    const decoded = await decodeTensor(named, { pipeline: { kind: "none" } });
    assert.deepEqual(decoded.tensor.data, Float32Array.of(3));
    assert.deepEqual(decoded.tags, ["delta", "lossy_decompressed"]);
    assert.equal(decoded.decodedWith, "NoCompressionPipeline");
  });

  it("refuses data_bytes of the wrong length, by one byte either way", async () => {
    const decode = (bytes: number) =>
      decodeTensor(
        tensor(["compressed"], [{ intList: [2] }], new Uint8Array(bytes)),
        options("none"),
      );
    const message = (bytes: number) =>
      `tensor 'w': shape [2] needs 8 bytes of float32, data_bytes has ${bytes}`;
    await refuses(decode(7), TensorCodecError, message(7));
    assert.deepEqual((await decode(8)).tensor.data, new Float32Array(2));
    await refuses(decode(9), TensorCodecError, message(9));
  });

  it("refuses an invalid dimension", async () => {
    const named = tensor(["compressed"], [{ intList: [2, -3] }], new Uint8Array(0));
    await refuses(
      decodeTensor(named, options("none")),
      TensorCodecError,
      "tensor 'w': shape [2, -3] has an invalid dimension -3",
    );
  });

  it("refuses a tensor tagged neither compressed nor lossy_compressed", async () => {
    const named = tensor(["trained"], [{ intList: [1] }], f32(1));
    await refuses(
      decodeTensor(named, options("none")),
      TensorCodecError,
      "tensor 'w': tags [trained] have neither 'compressed' nor 'lossy_compressed' (OpenFL's TensorCodec cannot decompress an uncompressed tensor)",
    );
  });
});

describe("decodeTensor: lossless tensors of a lossy plan", () => {
  for (const kind of ["stc", "skc", "kc", "eden"] as const) {
    it(`decodes compressed tensors under ${kind} with NoCompression`, async () => {
      const named = tensor(["compressed", "model"], [{ intList: [2] }], f32(1.5, -1));
      assert.deepEqual(await decodeTensor(named, options(kind)), {
        tensor: { shape: [2], data: Float32Array.of(1.5, -1) },
        tags: ["model"],
        decodedWith: "NoCompressionPipeline",
        codeTableOrderDependent: false,
      });
    });
  }

  it("decodes a tensor tagged both ways losslessly, keeping compressed as OpenFL does", async () => {
    const named = tensor(["compressed", "lossy_compressed"], [{ intList: [] }], f32(4));
    const decoded = await decodeTensor(named, options("stc"));
    assert.deepEqual(decoded.tensor, { shape: [], data: Float32Array.of(4) });
    assert.deepEqual(decoded.tags, ["compressed", "lossy_decompressed"]);
    assert.equal(decoded.decodedWith, "NoCompressionPipeline");
  });

  it("names NoCompression as the plan's lossless pipeline when the layout is wrong", async () => {
    const named = tensor(
      ["compressed"],
      [{ intList: [1] }, { intToFloat: { 0: 1 } }, {}],
      gzipSync(f32(0)),
    );
    await refuses(
      decodeTensor(named, options("stc")),
      TensorCodecError,
      "tensor 'w': NoCompressionPipeline (the lossless pipeline of STCPipeline, for tensors tagged 'compressed') expects transformer_metadata of 1 entry: #0 {int_list: shape}; found 3 entries: #0 {int_list [1]}, #1 {int_to_float (1 entry)}, #2 {} (looks like STCPipeline or SKCPipeline)",
    );
  });

  it("names NoCompression plainly when it is the plan's own pipeline", async () => {
    const named = tensor(["compressed"], [{ intList: [1] }, {}], f32(0));
    await refuses(
      decodeTensor(named, options("none")),
      TensorCodecError,
      "tensor 'w': NoCompressionPipeline expects transformer_metadata of 1 entry: #0 {int_list: shape}; found 2 entries: #0 {int_list [1]}, #1 {} (looks like RandomShiftPipeline)",
    );
  });

  it("refuses a lossy_compressed tensor under Eden, whose decoding is not supported yet", async () => {
    const named = tensor(
      ["lossy_compressed"],
      [{ intList: [200], intToFloat: { 0: 17, 1: 256, 2: 0.5, 3: 200 } }],
      new Uint8Array(200),
    );
    await refuses(
      decodeTensor(named, { pipeline: { kind: "eden" } }),
      TensorCodecError,
      "tensor 'w': EdenPipeline decoding is not supported yet; found 1 entry: #0 {int_to_float (4 entries), int_list [200]} (looks like EdenPipeline)",
    );
  });
});

describe("decodeTensor: RandomShiftPipeline", () => {
  const shifted = (shape: number[], values: number[], shifts: number[], tags = ["compressed"]) =>
    tensor(
      tags,
      [
        { intToFloat: Object.fromEntries(shifts.map((s, i) => [i, s])), intList: shape },
        { intList: shape },
      ],
      f32(...values),
    );

  it("subtracts the shifts and removes the compressed tag", async () => {
    const named = shifted([2, 1], [10.5, -3], [0.5, -4], ["compressed", "trained"]);
    assert.deepEqual(await decodeTensor(named, { pipeline: { kind: "random-shift" } }), {
      tensor: { shape: [2, 1], data: Float32Array.of(10, 1) },
      tags: ["trained"],
      decodedWith: "RandomShiftPipeline",
      codeTableOrderDependent: false,
    });
  });

  it("decodes a scalar, a 1-element and an empty tensor", async () => {
    const decode = (named: ReturnType<typeof shifted>) =>
      decodeTensor(named, options("random-shift")).then((d) => d.tensor);
    assert.deepEqual(await decode(shifted([], [3], [1])), { shape: [], data: Float32Array.of(2) });
    assert.deepEqual(await decode(shifted([1], [3], [4])), {
      shape: [1],
      data: Float32Array.of(-1),
    });
    assert.deepEqual(await decode(shifted([0], [], [])), { shape: [0], data: new Float32Array(0) });
  });

  it("uses RandomShift for lossy_compressed tensors too (a lossless plan decodes everything with itself)", async () => {
    const decoded = await decodeTensor(
      shifted([1], [3], [1], ["lossy_compressed"]),
      options("random-shift"),
    );
    assert.deepEqual(decoded.tensor.data, Float32Array.of(2));
    assert.deepEqual(decoded.tags, ["lossy_decompressed"]);
  });

  it("refuses a NoCompression layout", async () => {
    const named = tensor(["compressed"], [{ intList: [1] }], f32(1));
    await refuses(
      decodeTensor(named, options("random-shift")),
      TensorCodecError,
      `tensor 'w': ${LAYOUT.shift}; found 1 entry: #0 {int_list [1]} (looks like NoCompressionPipeline)`,
    );
  });

  it("refuses entries that disagree on the shape", async () => {
    const named = tensor(
      ["compressed"],
      [{ intToFloat: { 0: 1, 1: 2 }, intList: [1, 2] }, { intList: [2, 1] }],
      f32(1, 2),
    );
    await refuses(
      decodeTensor(named, options("random-shift")),
      TensorCodecError,
      "tensor 'w': RandomShiftPipeline's entries disagree on the shape (#0 int_list [1, 2], #1 int_list [2, 1]); found 2 entries: #0 {int_to_float (2 entries), int_list [1, 2]}, #1 {int_list [2, 1]} (looks like RandomShiftPipeline)",
    );
  });

  it("refuses data_bytes of the wrong length and a missing shift", async () => {
    const short = tensor(
      ["compressed"],
      [{ intToFloat: { 0: 1 }, intList: [2] }, { intList: [2] }],
      f32(1),
    );
    await refuses(
      decodeTensor(short, options("random-shift")),
      TensorCodecError,
      "tensor 'w': shape [2] needs 8 bytes of float32, data_bytes has 4",
    );
    const missing = tensor(
      ["compressed"],
      [{ intToFloat: { 0: 1 }, intList: [2] }, { intList: [2] }],
      f32(1, 2),
    );
    await refuses(
      decodeTensor(missing, options("random-shift")),
      TensorCodecError,
      "tensor 'w': RandomShiftPipeline's int_to_float holds 1 shifts, the tensor has 2 elements",
    );
  });
});

describe("decodeTensor: STCPipeline and SKCPipeline", () => {
  const sparse = (shape: number[], codes: number[], table: Record<number, number>) =>
    tensor(
      ["delta", "lossy_compressed", "trained"],
      [{ intList: shape }, { intToFloat: table }, {}],
      gzipSync(f32(...codes)),
    );

  for (const [kind, decodedWith] of [
    ["stc", "STCPipeline"],
    ["skc", "SKCPipeline"],
  ] as const) {
    it(`${decodedWith}: maps codes to the table, reshapes and marks lossy_decompressed`, async () => {
      const named = sparse([2, 2], [1, 2, 0, 1], { 0: -0.25, 1: 0, 2: 0.25 });
      assert.deepEqual(await decodeTensor(named, options(kind)), {
        tensor: { shape: [2, 2], data: Float32Array.of(0, 0.25, -0.25, 0) },
        tags: ["delta", "lossy_decompressed", "trained"],
        decodedWith,
        // 0 (code 1's value) is code 0, whose value differs: OpenFL's zeros survive only
        // when its map iterates key 0 before key 1.
        codeTableOrderDependent: true,
      });
    });
  }

  it("decodes a scalar (its shape entry is empty), a 1-element and an empty tensor", async () => {
    const decode = (named: ReturnType<typeof sparse>) =>
      decodeTensor(named, options("stc")).then((d) => d.tensor);
    assert.deepEqual(await decode(sparse([], [0], { 0: 7 })), {
      shape: [],
      data: Float32Array.of(7),
    });
    assert.deepEqual(await decode(sparse([1], [0], { 0: -7 })), {
      shape: [1],
      data: Float32Array.of(-7),
    });
    assert.deepEqual(await decode(sparse([0, 2], [], {})), {
      shape: [0, 2],
      data: new Float32Array(0),
    });
  });

  it("does not flag a table whose values are no other code's", async () => {
    const decoded = await decodeTensor(sparse([2], [1, 0], { 0: 0, 1: 0.25 }), options("stc"));
    assert.deepEqual(decoded.tensor.data, Float32Array.of(0.25, 0));
    assert.equal(decoded.codeTableOrderDependent, false);
  });

  it("flags a table OpenFL's own receiver may decode differently", async () => {
    const decoded = await decodeTensor(
      sparse([3], [2, 0, 1], { 0: -1, 1: 0, 2: 1 }),
      options("stc"),
    );
    assert.deepEqual(decoded.tensor.data, Float32Array.of(1, -1, 0));
    assert.equal(decoded.codeTableOrderDependent, true);
  });

  it("accepts an asynchronous gunzip", async () => {
    const decoded = await decodeTensor(sparse([1], [0], { 0: 2 }), {
      pipeline: { kind: "skc" },
      gunzip: async (bytes) => gunzipSync(bytes),
    });
    assert.deepEqual(decoded.tensor.data, Float32Array.of(2));
  });

  it("refuses a KC layout", async () => {
    const named = tensor(
      ["lossy_compressed"],
      [{ intList: [1], intToFloat: { 0: 1 } }, {}],
      gzipSync(f32(0)),
    );
    await refuses(
      decodeTensor(named, options("stc")),
      TensorCodecError,
      `tensor 'w': ${LAYOUT.stc}; found 2 entries: #0 {int_to_float (1 entry), int_list [1]}, #1 {} (looks like KCPipeline)`,
    );
  });

  it("refuses codes that do not match the shape, and codes with no table entry", async () => {
    await refuses(
      decodeTensor(sparse([3], [0, 0], { 0: 1 }), options("stc")),
      TensorCodecError,
      "tensor 'w': shape [3] needs 3 float32 codes (12 bytes), gunzipped data_bytes has 8 bytes",
    );
    await refuses(
      decodeTensor(sparse([2], [0, 3], { 0: 1, 1: 2 }), options("skc")),
      TensorCodecError,
      "tensor 'w': code 3 of element 1 has no int_to_float entry (the table has 2 codes)",
    );
  });

  it("refuses an invalid dimension before gunzipping", async () => {
    const named = tensor(["lossy_compressed"], [{ intList: [-1] }, {}, {}], new Uint8Array(0));
    await refuses(
      decodeTensor(named, { pipeline: { kind: "stc" }, gunzip: () => assert.fail("gunzipped") }),
      TensorCodecError,
      "tensor 'w': shape [-1] has an invalid dimension -1",
    );
  });
});

describe("decodeTensor: KCPipeline", () => {
  const kmeans = (shape: number[], codes: number[], table: Record<number, number>) =>
    tensor(
      ["lossy_compressed"],
      [{ intToFloat: table, intList: shape }, {}],
      gzipSync(f32(...codes)),
    );

  it("maps codes to the table and reshapes", async () => {
    const named = kmeans([3, 1], [2, 0, 1], { 0: -1.5, 1: 0.125, 2: 9 });
    assert.deepEqual(await decodeTensor(named, options("kc")), {
      tensor: { shape: [3, 1], data: Float32Array.of(9, -1.5, 0.125) },
      tags: ["lossy_decompressed"],
      decodedWith: "KCPipeline",
      codeTableOrderDependent: false,
    });
  });

  it("decodes a scalar, a 1-element and an empty tensor", async () => {
    const decode = (named: ReturnType<typeof kmeans>) =>
      decodeTensor(named, options("kc")).then((d) => d.tensor);
    assert.deepEqual(await decode(kmeans([], [0], { 0: 0.5 })), {
      shape: [],
      data: Float32Array.of(0.5),
    });
    assert.deepEqual(await decode(kmeans([1], [0], { 0: 3 })), {
      shape: [1],
      data: Float32Array.of(3),
    });
    assert.deepEqual(await decode(kmeans([0], [], {})), { shape: [0], data: new Float32Array(0) });
  });

  it("flags [1, 3]'s table, which OpenFL's own receiver may decode as [3, 3]", async () => {
    const decoded = await decodeTensor(kmeans([2], [0, 1], { 0: 1, 1: 3 }), options("kc"));
    assert.deepEqual(decoded.tensor.data, Float32Array.of(1, 3));
    assert.equal(decoded.codeTableOrderDependent, true);
  });

  it("refuses an STC layout", async () => {
    const named = tensor(
      ["lossy_compressed"],
      [{ intList: [1] }, { intToFloat: { 0: 1 } }, {}],
      gzipSync(f32(0)),
    );
    await refuses(
      decodeTensor(named, options("kc")),
      TensorCodecError,
      `tensor 'w': ${LAYOUT.kc}; found 3 entries: #0 {int_list [1]}, #1 {int_to_float (1 entry)}, #2 {} (looks like STCPipeline or SKCPipeline)`,
    );
  });

  it("refuses data_bytes that do not gunzip, keeping the cause", async () => {
    const named = tensor(
      ["lossy_compressed"],
      [{ intToFloat: { 0: 1 }, intList: [1] }, {}],
      f32(0),
    );
    await assert.rejects(decodeTensor(named, options("kc")), (error: unknown) => {
      assert.ok(error instanceof TensorCodecError);
      assert.equal(
        error.message,
        "tensor 'w': data_bytes (4 bytes) do not gunzip: incorrect header check",
      );
      assert.ok(error.cause instanceof Error);
      return true;
    });
    const thrown = {
      pipeline: { kind: "kc" },
      gunzip: () => Promise.reject("no gzip here"),
    } as const;
    await refuses(
      decodeTensor(named, thrown),
      TensorCodecError,
      "tensor 'w': data_bytes (4 bytes) do not gunzip: no gzip here",
    );
  });
});

describe("decodeTensor: gunzip option", () => {
  for (const kind of ["stc", "skc", "kc"] as const) {
    it(`is required by ${kind}`, async () => {
      const name = { stc: "STCPipeline", skc: "SKCPipeline", kc: "KCPipeline" }[kind];
      const named = tensor(["compressed"], [{ intList: [] }], f32(1));
      await refuses(
        decodeTensor(named, { pipeline: { kind } }),
        InvalidOptionError,
        `option 'gunzip': expected a function (bytes) => bytes, needed by ${name}, got undefined`,
      );
      const notAFunction = { pipeline: { kind }, gunzip: "zlib" } as unknown as DecodeTensorOptions;
      await refuses(
        decodeTensor(named, notAFunction),
        InvalidOptionError,
        `option 'gunzip': expected a function (bytes) => bytes, needed by ${name}, got "zlib"`,
      );
    });
  }

  it("is not needed by NoCompression, RandomShift or Eden", async () => {
    const named = tensor(["compressed"], [{ intList: [] }], f32(1));
    for (const kind of ["none", "eden"] as const) {
      assert.deepEqual(
        (await decodeTensor(named, { pipeline: { kind } })).tensor.data,
        Float32Array.of(1),
      );
    }
    const shifted = tensor(["compressed"], [{ intToFloat: { 0: 1 } }, {}], f32(1));
    const decoded = await decodeTensor(shifted, { pipeline: { kind: "random-shift" } });
    assert.deepEqual(decoded.tensor.data, Float32Array.of(0));
  });
});
