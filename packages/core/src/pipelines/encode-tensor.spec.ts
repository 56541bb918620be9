import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { InvalidOptionError, TensorCodecError } from "../errors.js";
import { float32LittleEndian } from "../float32-bytes.js";
import {
  MetadataProtoSchema,
  type NamedTensor,
  NamedTensorSchema,
} from "../gen/openfl/protocols/base_pb.js";
import { encodeNamedTensor, type Float32Tensor } from "../tensor-codec.js";
import { decodeTensor } from "./decode-tensor.js";
import { type EncodeTensorOptions, encodeTensor, type Gzip } from "./encode-tensor.js";
import { float32Step, kmeansBoundViolation } from "./lossy-bounds.js";
import type { CompressionPipeline } from "./pipeline-config.js";
import { keptCount, sparsify, TOPK_NUDGE } from "./sparsity.js";

type EntryInit = MessageInitShape<typeof MetadataProtoSchema>;

const f = Math.fround;
const gzip: Gzip = (bytes) => new Uint8Array(gzipSync(bytes));
const gunzip = (bytes: Uint8Array) => gunzipSync(bytes);

/** A deterministic stand-in for Math.random. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function noise(n: number, seed: number, scale = 1): Float32Array {
  const random = seeded(seed);
  return Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
}

const t = (shape: number[], ...values: number[]): Float32Tensor => ({
  shape,
  data: Float32Array.from(values),
});

/** Gzip that records what it was given and returns a marker, to read the codes exactly. */
function recordingGzip(): { gzip: Gzip; inputs: Uint8Array[] } {
  const inputs: Uint8Array[] = [];
  return {
    inputs,
    gzip: (bytes) => {
      inputs.push(bytes);
      return Uint8Array.of(0x1f, 0x8b, inputs.length);
    },
  };
}

const codeBytes = (...codes: number[]) => float32LittleEndian(Float32Array.from(codes));

function options(
  kind: CompressionPipeline["kind"],
  more: Partial<EncodeTensorOptions> = {},
): EncodeTensorOptions {
  return {
    name: "w",
    roundNumber: 3,
    tags: ["trained", "delta"],
    pipeline: { kind },
    requireLossless: false,
    gzip,
    ...more,
  };
}

function expected(
  tags: string[],
  entries: EntryInit[],
  dataBytes: Uint8Array,
  more: { lossless?: boolean; report?: boolean } = {},
): NamedTensor {
  return create(NamedTensorSchema, {
    name: "w",
    roundNumber: 3,
    lossless: more.lossless ?? false,
    report: more.report ?? false,
    tags,
    transformerMetadata: entries.map((e) => create(MetadataProtoSchema, e)),
    dataBytes,
  });
}

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

/** Encodes, sends through protobuf's wire form, and decodes with our decodeTensor. */
async function roundTrip(tensor: Float32Tensor, o: EncodeTensorOptions) {
  const named = await encodeTensor(tensor, o);
  const wire = fromBinary(NamedTensorSchema, toBinary(NamedTensorSchema, named));
  assert.deepEqual(wire, named, "table values and shifts survive the wire's float32");
  const decoded = await decodeTensor(wire, { pipeline: o.pipeline, gunzip });
  assert.deepEqual(decoded.tensor.shape, tensor.shape);
  assert.equal(decoded.codeTableOrderDependent, false);
  return { named, decoded };
}

const COMPRESSED_TAGS = ["compressed", "delta", "trained"];
const LOSSY_TAGS = ["delta", "lossy_compressed", "trained"];

describe("encodeTensor: NoCompressionPipeline", () => {
  it("is encodeNamedTensor, with lossless = requireLossless", async () => {
    const tensor = t([2, 2], 1, 2, 3, 4);
    for (const requireLossless of [true, false]) {
      const named = await encodeTensor(tensor, options("none", { requireLossless, report: true }));
      const direct = encodeNamedTensor(tensor, {
        name: "w",
        roundNumber: 3,
        tags: ["trained", "delta"],
        report: true,
        lossless: requireLossless,
      });
      assert.deepEqual(named, direct);
      assert.deepEqual(named.tags, COMPRESSED_TAGS);
      assert.equal(named.lossless, requireLossless);
    }
  });

  it("defaults tags to none and report to false, and needs no gzip", async () => {
    const named = await encodeTensor(t([], 0.5), {
      name: "w",
      roundNumber: 3,
      pipeline: { kind: "none" },
      requireLossless: true,
    });
    assert.deepEqual(
      named,
      expected(["compressed"], [{ intList: [] }], codeBytes(0.5), { lossless: true }),
    );
  });

  it("is the lossless pipeline of every lossy plan: tag compressed, no gzip needed", async () => {
    for (const kind of ["stc", "skc", "kc", "eden"] as const) {
      const named = await encodeTensor(
        t([3], 1, -2, 3),
        options(kind, { requireLossless: true, gzip: undefined, tags: ["trained"] }),
      );
      assert.deepEqual(
        named,
        expected(["compressed", "trained"], [{ intList: [3] }], codeBytes(1, -2, 3), {
          lossless: true,
        }),
        kind,
      );
    }
  });
});

describe("encodeTensor: RandomShiftPipeline", () => {
  const draws = (...values: number[]) => {
    let i = 0;
    return () => values[i++] as number;
  };

  it("sends x + s with entries [{int_to_float: shifts, int_list}, {int_list}], tag compressed", async () => {
    for (const requireLossless of [true, false]) {
      const named = await encodeTensor(
        t([2, 2], 1, 2, 3, 4),
        options("random-shift", { requireLossless, random: draws(0, 0.25, 0.5, 0.75) }),
      );
      assert.deepEqual(
        named,
        expected(
          COMPRESSED_TAGS,
          [{ intToFloat: { 0: -20, 1: -10, 2: 0, 3: 10 }, intList: [2, 2] }, { intList: [2, 2] }],
          codeBytes(-19, -8, 3, 14),
          { lossless: requireLossless },
        ),
      );
    }
  });

  it("shifts a scalar, a 1-element and an empty tensor", async () => {
    const scalar = await encodeTensor(t([], 2), options("random-shift", { random: () => 0.5 }));
    assert.deepEqual(
      scalar,
      expected(
        COMPRESSED_TAGS,
        [{ intToFloat: { 0: 0 }, intList: [] }, { intList: [] }],
        codeBytes(2),
      ),
    );
    const one = await encodeTensor(t([1], 2), options("random-shift", { random: () => 0 }));
    assert.deepEqual(one.transformerMetadata[0]?.intToFloat, { 0: -20 });
    assert.deepEqual(one.dataBytes, codeBytes(-18));
    const empty = await encodeTensor(t([0, 3]), options("random-shift", { random: () => 0 }));
    assert.deepEqual(
      empty,
      expected(COMPRESSED_TAGS, [{ intList: [0, 3] }, { intList: [0, 3] }], new Uint8Array(0)),
    );
  });

  it("uses Math.random by default: shifts in [-20, 20], decoded within float32 rounding", async () => {
    const tensor = { shape: [40, 25], data: noise(1000, 3, 100) };
    const { named, decoded } = await roundTrip(
      tensor,
      options("random-shift", { gzip: undefined }),
    );
    const shifts = Object.values(named.transformerMetadata[0]?.intToFloat ?? {});
    assert.equal(shifts.length, 1000);
    assert.ok(shifts.every((s) => s >= -20 && s <= 20));
    assert.ok(new Set(shifts).size > 900, "independent draws");
    tensor.data.forEach((x, i) => {
      const error = Math.abs((decoded.tensor.data[i] as number) - x);
      assert.ok(error <= 2 ** -23 * (Math.abs(x) + 20), `element ${i}: ${error}`);
    });
  });

  it("is deterministic with a seeded random, and carries NaN and infinities through", async () => {
    const tensor = t([3], Number.NaN, Number.POSITIVE_INFINITY, 1);
    const a = await encodeTensor(tensor, options("random-shift", { random: seeded(1) }));
    const b = await encodeTensor(tensor, options("random-shift", { random: seeded(1) }));
    assert.deepEqual(a, b);
    const decoded = await decodeTensor(a, { pipeline: { kind: "random-shift" } });
    assert.ok(Number.isNaN(decoded.tensor.data[0]));
    assert.equal(decoded.tensor.data[1], Number.POSITIVE_INFINITY);
  });

  it("refuses a random() outside [0, 1)", async () => {
    await refuses(
      encodeTensor(t([1], 1), options("random-shift", { random: () => 1 })),
      InvalidOptionError,
      "option 'random': expected a function returning numbers in [0, 1), got number 1",
    );
  });
});

describe("encodeTensor: STCPipeline", () => {
  it("tags a lossy tensor given no tags ['lossy_compressed'] alone", async () => {
    const named = await encodeTensor(t([2], 1, -1), {
      name: "w",
      roundNumber: 0,
      pipeline: { kind: "stc" },
      requireLossless: false,
      gzip,
    });
    assert.deepEqual([named.tags, named.lossless], [["lossy_compressed"], false]);
  });

  it("sends [{int_list}, {int_to_float}, {}] and gzip of float32 codes, tag lossy_compressed", async () => {
    // 10 elements at p 0.1: only 4 is kept; mean magnitude 0.4.
    const recorded = recordingGzip();
    const named = await encodeTensor(
      t([2, 5], 0, -2, 0, 4, 1, 0, 0, 0, 0, 0),
      options("stc", { gzip: recorded.gzip, report: true }),
    );
    assert.deepEqual(
      named,
      expected(
        LOSSY_TAGS,
        [{ intList: [2, 5] }, { intToFloat: { 0: 0, 1: f(0.4) } }, {}],
        Uint8Array.of(0x1f, 0x8b, 1),
        { report: true },
      ),
    );
    assert.deepEqual(recorded.inputs, [codeBytes(0, 0, 0, 1, 0, 0, 0, 0, 0, 0)]);
  });

  it("ternarizes at p_sparsity, codes moved up where 0 would be code 0's key", async () => {
    // p 0.5 keeps -3 and 2 (nudged by 1e-7, lost in float32); m = 5 / 4.
    const recorded = recordingGzip();
    const named = await encodeTensor(
      t([4], 1, -3, 0.5, 2),
      options("stc", { pipeline: { kind: "stc", pSparsity: 0.5 }, gzip: recorded.gzip }),
    );
    assert.deepEqual(named.transformerMetadata[1]?.intToFloat, { 1: -1.25, 2: 0, 3: 1.25 });
    assert.deepEqual(recorded.inputs, [codeBytes(2, 1, 2, 3)]);
  });

  it("decodes a scalar, a 1-element tensor and a tensor kept whole to sign times mean", async () => {
    const scalar = await roundTrip(t([], -3.5), options("stc"));
    assert.deepEqual(scalar.decoded.tensor.data, Float32Array.of(-3.5));
    assert.deepEqual(scalar.named.transformerMetadata[0]?.intList, []);
    const one = await roundTrip(t([1], 0.75), options("stc"));
    assert.deepEqual(one.decoded.tensor.data, Float32Array.of(0.75));
    const whole = await roundTrip(
      t([4], 1, -3, 2, -2),
      options("stc", { pipeline: { kind: "stc", pSparsity: 1 } }),
    );
    assert.deepEqual(whole.decoded.tensor.data, Float32Array.of(2, -2, 2, -2));
  });

  it("sends an all-zero tensor as OpenFL does: the kept zeros become 1e-7", async () => {
    // 12 elements at p 0.1 keep ceil(1.2000000000000002) = 2: the last two.
    const { decoded } = await roundTrip(t([3, 4], ...new Array(12).fill(0)), options("stc"));
    const m = f((2 * TOPK_NUDGE) / 12);
    assert.deepEqual(decoded.tensor.data, Float32Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, m, m));
    assert.deepEqual(decoded.tags, ["delta", "lossy_decompressed", "trained"]);
  });

  it("breaks ties in magnitude towards the later element", async () => {
    const { decoded } = await roundTrip(
      t([5], 2, -2, 2, -2, 1),
      options("stc", { pipeline: { kind: "stc", pSparsity: 0.4 } }),
    );
    // Kept: 2 and -2, the last two of magnitude 2; -2 < 1e-7, so both are nudged first.
    const m = f((f(2 + TOPK_NUDGE) - f(-2 + TOPK_NUDGE)) / 5);
    assert.deepEqual(decoded.tensor.data, Float32Array.of(0, 0, m, -m, 0));
    assert.notEqual(m, f(4 / 5));
  });

  it("decodes random tensors to sign(top-k) times the mean magnitude, in every map order", async () => {
    for (const [seed, n, p] of [
      [1, 1000, 0.1],
      [2, 77, 0.3],
      [3, 20, 0.05],
    ] as const) {
      const data = noise(n, seed, 5);
      const { named, decoded } = await roundTrip(
        { shape: [n], data },
        options("stc", { pipeline: { kind: "stc", pSparsity: p } }),
      );
      // An independent top-k: sort indices by magnitude (later first among equals).
      const order = Array.from(data.keys()).sort(
        (a, b) => Math.abs(data[b] as number) - Math.abs(data[a] as number) || b - a,
      );
      const kept = order.slice(0, keptCount(n, p));
      const nudge = Math.min(...kept.map((i) => data[i] as number)) < TOPK_NUDGE;
      const value = (i: number) =>
        (nudge ? f((data[i] as number) + TOPK_NUDGE) : data[i]) as number;
      const mean = f(kept.reduce((s, i) => s + Math.abs(value(i)), 0) / n);
      const want = new Float32Array(n);
      for (const i of kept) want[i] = Math.sign(value(i)) * mean;
      assert.deepEqual(decoded.tensor.data, want, `seed ${seed}`);
      const table = named.transformerMetadata[1]?.intToFloat ?? {};
      assert.equal(Object.keys(table).length, new Set(want).size);
    }
  });
});

describe("encodeTensor: SKCPipeline", () => {
  it("sparsifies, clusters the sparse values and codes them: [{int_list}, {int_to_float}, {}]", async () => {
    // p 0.5 keeps -3 and 2; three distinct values (6 clusters): exact; codes from 3.
    const recorded = recordingGzip();
    const named = await encodeTensor(
      t([2, 2], 1, -3, 0.5, 2),
      options("skc", { pipeline: { kind: "skc", pSparsity: 0.5 }, gzip: recorded.gzip }),
    );
    assert.deepEqual(
      named,
      expected(
        LOSSY_TAGS,
        [{ intList: [2, 2] }, { intToFloat: { 3: -3, 4: 0, 5: 2 } }, {}],
        Uint8Array.of(0x1f, 0x8b, 1),
      ),
    );
    assert.deepEqual(recorded.inputs, [codeBytes(4, 3, 4, 5)]);
  });

  it("meets the k-means bound on the sparsified tensor, with n_clusters levels", async () => {
    for (const [seed, n, p, k] of [
      [4, 1200, 0.1, 6],
      [5, 300, 0.5, 3],
      [6, 64, 1, 2],
    ] as const) {
      const data = noise(n, seed, 2);
      const pipeline = { kind: "skc", pSparsity: p, nClusters: k } as const;
      const { named, decoded } = await roundTrip(
        { shape: [n], data },
        options("skc", { pipeline }),
      );
      const levels = Object.values(named.transformerMetadata[1]?.intToFloat ?? {});
      assert.equal(levels.length, k, `seed ${seed}`);
      const sparse = sparsify(data, keptCount(n, p));
      assert.equal(kmeansBoundViolation(sparse, decoded.tensor.data, levels), undefined);
    }
  });

  it("decodes a scalar and a 1-element tensor exactly (up to the 1e-7 nudge)", async () => {
    const scalar = await roundTrip(t([], 4), options("skc"));
    assert.deepEqual(scalar.decoded.tensor.data, Float32Array.of(4));
    const one = await roundTrip(t([1], -0.5), options("skc"));
    assert.deepEqual(one.decoded.tensor.data, Float32Array.of(f(-0.5 + TOPK_NUDGE)));
  });
});

describe("encodeTensor: KCPipeline", () => {
  it("sends [{int_to_float, int_list}, {}] and gzip of float32 codes", async () => {
    const recorded = recordingGzip();
    const named = await encodeTensor(
      t([2, 2], 3, 1, 3, -2),
      options("kc", { gzip: recorded.gzip }),
    );
    assert.deepEqual(
      named,
      expected(
        LOSSY_TAGS,
        [{ intToFloat: { 0: -2, 1: 1, 2: 3 }, intList: [2, 2] }, {}],
        Uint8Array.of(0x1f, 0x8b, 1),
      ),
    );
    assert.deepEqual(recorded.inputs, [codeBytes(2, 1, 2, 0)]);
  });

  it("encodes an empty tensor as OpenFL does: an empty table, gzip of no codes", async () => {
    const recorded = recordingGzip();
    const named = await encodeTensor(t([0, 2]), options("kc", { gzip: recorded.gzip }));
    assert.deepEqual(
      named,
      expected(LOSSY_TAGS, [{ intList: [0, 2] }, {}], Uint8Array.of(0x1f, 0x8b, 1)),
    );
    assert.deepEqual(recorded.inputs, [new Uint8Array(0)]);
    const { decoded } = await roundTrip(t([0, 2]), options("kc"));
    assert.deepEqual(decoded.tensor.data, new Float32Array(0));
  });

  it("reproduces a scalar, ties and at most n_clusters distinct values exactly", async () => {
    for (const tensor of [t([], -7.25), t([1], 0), t([6], 1, 1, 2, 2, 1, 2), t([2], -0, 0)]) {
      const { decoded } = await roundTrip(tensor, options("kc"));
      assert.deepEqual(
        decoded.tensor.data,
        tensor.data.map((v) => v + 0),
      );
    }
    const { decoded } = await roundTrip(
      t([4], 1, 2, 3, 4),
      options("kc", { pipeline: { kind: "kc", nClusters: 4 } }),
    );
    assert.deepEqual(decoded.tensor.data, Float32Array.of(1, 2, 3, 4));
  });

  it("meets the k-means bound, with n_clusters levels", async () => {
    for (const [seed, n, k] of [
      [7, 2000, 6],
      [8, 100, 3],
      [9, 7, 6],
    ] as const) {
      const data = noise(n, seed, 3);
      const pipeline = { kind: "kc", nClusters: k } as const;
      const { named, decoded } = await roundTrip({ shape: [n], data }, options("kc", { pipeline }));
      const levels = Object.values(named.transformerMetadata[0]?.intToFloat ?? {});
      assert.equal(levels.length, k, `seed ${seed}`);
      assert.equal(kmeansBoundViolation(data, decoded.tensor.data, levels), undefined);
      // and within half the largest gap between levels (and the range) of each value
      decoded.tensor.data.forEach((d, i) => {
        assert.ok(Math.abs(d - (data[i] as number)) <= 3 + float32Step(3));
      });
    }
  });

  it("accepts an async gzip", async () => {
    const named = await encodeTensor(
      t([2], 1, 2),
      options("kc", { gzip: async (bytes) => gzipSync(bytes) }),
    );
    // levels 1 and 2 are coded 1 and 2 (with codes 0 and 1, level 1 would be the key of 2)
    assert.deepEqual(new Uint8Array(gunzipSync(named.dataBytes)), codeBytes(1, 2));
  });
});

describe("encodeTensor: what OpenFL cannot encode, and refusals", () => {
  it("sends an empty tensor under STC or SKC through NoCompressionPipeline, without gzip", async () => {
    const never: Gzip = () => assert.fail("no gzip expected");
    for (const kind of ["stc", "skc"] as const) {
      const named = await encodeTensor(t([0, 3]), options(kind, { gzip: never }));
      assert.deepEqual(named, expected(COMPRESSED_TAGS, [{ intList: [0, 3] }], new Uint8Array(0)));
      const decoded = await decodeTensor(named, { pipeline: { kind }, gunzip });
      assert.equal(decoded.decodedWith, "NoCompressionPipeline");
    }
  });

  it("refuses a missing gzip for a lossy encode, before anything else", async () => {
    for (const kind of ["stc", "skc", "kc"] as const) {
      await refuses(
        encodeTensor(t([2], 1), options(kind, { gzip: undefined })),
        InvalidOptionError,
        `option 'gzip': expected a function (bytes) => bytes, needed by ${
          { stc: "STCPipeline", skc: "SKCPipeline", kc: "KCPipeline" }[kind]
        }, got undefined`,
      );
    }
  });

  it("refuses a shape that does not hold the data, under every pipeline", async () => {
    for (const kind of ["none", "random-shift", "stc", "skc", "kc", "eden"] as const) {
      await refuses(
        encodeTensor(t([2, 2], 1, 2, 3), options(kind)),
        TensorCodecError,
        "tensor 'w': shape [2, 2] holds 4 values, data has 3",
      );
      await refuses(
        encodeTensor(t([2, -1], 1), options(kind)),
        TensorCodecError,
        "tensor 'w': shape [2, -1] has an invalid dimension -1",
      );
    }
  });

  it("refuses NaN and infinities under a lossy encode, naming the element", async () => {
    const classes = { stc: "STCPipeline", skc: "SKCPipeline", kc: "KCPipeline" } as const;
    for (const kind of ["stc", "skc", "kc"] as const) {
      await refuses(
        encodeTensor(t([3], 1, Number.NaN, 2), options(kind)),
        TensorCodecError,
        `tensor 'w': ${classes[kind]} cannot encode element 1 (NaN): its codes need finite values`,
      );
      await refuses(
        encodeTensor(t([2], Number.NEGATIVE_INFINITY, 2), options(kind)),
        TensorCodecError,
        `tensor 'w': ${classes[kind]} cannot encode element 0 (-Infinity): its codes need finite values`,
      );
    }
  });

  it("refuses a lossy EdenPipeline encode", async () => {
    await refuses(
      encodeTensor(t([1], 1), options("eden")),
      TensorCodecError,
      "tensor 'w': EdenPipeline encoding is not supported (it needs torch); only tensors sent with requireLossless: true can be encoded",
    );
  });

  it("refuses settings out of range", async () => {
    await refuses(
      encodeTensor(t([1], 1), options("stc", { pipeline: { kind: "stc", pSparsity: 0 } })),
      InvalidOptionError,
      "option 'pipeline.pSparsity': expected a number in (0, 1], got number 0",
    );
    await refuses(
      encodeTensor(t([1], 1), options("skc", { pipeline: { kind: "skc", nClusters: 0 } })),
      InvalidOptionError,
      "option 'pipeline.nClusters': expected an integer >= 1, got number 0",
    );
    await refuses(
      encodeTensor(t([1], 1), options("kc", { pipeline: { kind: "kc", nClusters: 2.5 } })),
      InvalidOptionError,
      "option 'pipeline.nClusters': expected an integer >= 1, got number 2.5",
    );
  });

  it("names the tensor when gzip fails, keeping the cause", async () => {
    const boom = new Error("boom");
    await assert.rejects(
      encodeTensor(t([2], 1, 2), options("kc", { gzip: () => Promise.reject(boom) })),
      (error: unknown) => {
        assert.ok(error instanceof TensorCodecError);
        assert.equal(error.message, "tensor 'w': gzip of 8 bytes of codes failed: boom");
        assert.equal(error.cause, boom);
        return true;
      },
    );
    await refuses(
      encodeTensor(
        t([1], 1),
        options("stc", {
          gzip: () => {
            throw "no zlib";
          },
        }),
      ),
      TensorCodecError,
      "tensor 'w': gzip of 4 bytes of codes failed: no zlib",
    );
  });
});
