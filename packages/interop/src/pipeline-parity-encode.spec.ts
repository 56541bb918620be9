// Parity of our encodeTensor (packages/core/src/pipelines) with OpenFL 1.9's own receivers: we
// encode tensors as OpenFL's Collaborator would send them (a trained delta under
// requireLossless false, every other tensor under requireLossless true), and
// python/pipeline_encode_parity.py decodes the wire bytes with OpenFL's TensorCodec.decompress as
// Collaborator.named_tensor_to_nparray calls it. OpenFL's values must equal our own decodeTensor's
// bit for bit and stay within each encoder's bound; the script also encodes the same tensors with
// OpenFL's sender, so STC codes are compared bit for bit and k-means codes by squared error.
// Seed: PIPELINE_PARITY_SEED (default 1, as pipeline-parity.spec.ts; other seeds run by hand: 0-5).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { toBinary } from "@bufbuild/protobuf";
import {
  type CompressionPipeline,
  decodeTensor,
  encodeTensor,
  OPENFL_PIPELINE_CLASS,
  pipelineFromTemplate,
} from "@openfl-connect/core";
import {
  float32Step,
  keptCount,
  kmeansBoundViolation,
  sparsify,
} from "@openfl-connect/core/internal";
import { type NamedTensor, NamedTensorSchema } from "@openfl-connect/core/protocol";
import { PYTHON, REPO_ROOT, requirePython } from "./openfl-fixture.js";

const SCRIPT = join(REPO_ROOT, "packages", "interop", "python", "pipeline_encode_parity.py");
const seed = Number(process.env.PIPELINE_PARITY_SEED ?? 1);

/** The plan's compression_pipeline.settings of each case, as pipeline_parity.py's PIPELINES. */
const PIPELINES: [id: string, template: string, settings: Record<string, number>][] = [
  ["none", "NoCompressionPipeline", {}],
  ["random-shift", "RandomShiftPipeline", {}],
  ["stc", "STCPipeline", {}],
  ["stc-p0.5", "STCPipeline", { p_sparsity: 0.5 }],
  ["skc", "SKCPipeline", {}],
  ["skc-p0.3-k3", "SKCPipeline", { p_sparsity: 0.3, n_clusters: 3 }],
  ["kc", "KCPipeline", {}],
  ["kc-k3", "KCPipeline", { n_clusters: 3 }],
];

const MODES = {
  "collaborator-delta": { tags: ["trained", "delta"], requireLossless: false },
  lossless: { tags: ["trained"], requireLossless: true },
} as const;
type Mode = keyof typeof MODES;

/** A seeded uniform [0, 1) (an LCG), and standard normals from it (Box-Muller). */
function generator(start: number) {
  let state = (start * 2654435761) >>> 0;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  const integer = (low: number, high: number) => low + Math.floor(uniform() * (high - low));
  return { uniform, normal, integer };
}

interface Source {
  readonly name: string;
  readonly shape: number[];
  readonly data: Float32Array;
}

/** pipeline_parity.py's test arrays, drawn from our own generator. */
function sources(): Source[] {
  const g = generator(seed);
  const of = (name: string, shape: number[], draw: (i: number) => number): Source => {
    const count = shape.reduce((a, b) => a * b, 1);
    return { name, shape, data: Float32Array.from({ length: count }, (_, i) => draw(i)) };
  };
  return [
    of("scalar", [], () => 1.25),
    of("scalar-negative", [], () => -3.5),
    of("empty", [0], () => 0),
    of("empty-2d", [0, 3], () => 0),
    of("one-element", [1], () => 0.75),
    of("ties", [6, 5], () => g.integer(-2, 4)),
    of("ties-halves", [4, 4], () => g.integer(-3, 3) / 2),
    of("all-zeros", [3, 4], () => 0),
    of("stc-mean-one", [20], (i) => (i === 3 ? 10 : i === 11 ? -10 : 0)),
    of("few-values", [2], (i) => [1, 3][i] as number),
    of("random", [7, 13], () => g.normal()),
    of("random-3d", [3, 4, 5], () => g.normal() * 10),
    of("random-large", [32, 50], () => g.normal()),
  ];
}

interface EncodeCase {
  readonly id: string;
  readonly pipelineId: string;
  readonly pipeline: CompressionPipeline;
  readonly mode: Mode;
  readonly source: Source;
  readonly named: NamedTensor;
}

interface Reference {
  readonly encodeError?: string;
  readonly values?: string;
  readonly lookupValues?: string;
}

interface Decoded {
  readonly id: string;
  readonly decodeError?: string;
  readonly values64?: string;
  readonly shape?: number[];
  readonly tags?: string[];
  readonly decodedWith?: string;
  readonly lookupValues?: string;
  readonly openflMatchesLookup?: boolean;
  readonly reference: Reference;
}

const gzip = (bytes: Uint8Array) => new Uint8Array(gzipSync(bytes));
const gunzip = (bytes: Uint8Array) => gunzipSync(bytes);
const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const bytesOf = (text: string | undefined) => new Uint8Array(Buffer.from(text ?? "", "base64"));
const float32Of = (text: string | undefined) => {
  const bytes = bytesOf(text);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
};
const float64Of = (text: string | undefined) => {
  const bytes = bytesOf(text);
  return new Float64Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
};
const bitsOf = (data: Float32Array) =>
  new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

async function encodeCases(): Promise<EncodeCase[]> {
  const random = generator(seed + 1000).uniform;
  const cases: EncodeCase[] = [];
  for (const [pipelineId, template, settings] of PIPELINES) {
    const pipeline = pipelineFromTemplate(`openfl.pipelines.${template}`, settings);
    for (const source of sources()) {
      for (const mode of Object.keys(MODES) as Mode[]) {
        const named = await encodeTensor(source, {
          name: source.name,
          roundNumber: 3,
          ...MODES[mode],
          pipeline,
          gzip,
          random,
        });
        cases.push({
          id: `${pipelineId}/${source.name}/${mode}`,
          pipelineId,
          pipeline,
          mode,
          source,
          named,
        });
      }
    }
  }
  return cases;
}

function runScript(cases: EncodeCase[]): Promise<Decoded[]> {
  const request = {
    seed,
    cases: cases.map((c) => ({
      id: c.id,
      pipeline: OPENFL_PIPELINE_CLASS[c.pipeline.kind],
      settings: (PIPELINES.find(([id]) => id === c.pipelineId) as (typeof PIPELINES)[number])[2],
      mode: c.mode,
      name: c.source.name,
      shape: c.source.shape,
      source: base64(bitsOf(c.source.data)),
      wire: base64(toBinary(NamedTensorSchema, c.named)),
    })),
  };
  return new Promise((resolve, reject) => {
    const child = execFile(
      PYTHON,
      [SCRIPT, "--seed", String(seed)],
      { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, KERAS_BACKEND: "jax" } },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(new Error(`pipeline_encode_parity.py failed: ${error.message}\n${stderr}`));
          return;
        }
        resolve((JSON.parse(stdout) as { cases: Decoded[] }).cases);
      },
    );
    child.stdin?.end(JSON.stringify(request));
  });
}

/** Whether every sender keeps the same elements: the k-th and (k+1)-th magnitudes differ. */
function unambiguousTopK(data: Float32Array, p: number): boolean {
  const k = keptCount(data.length, p);
  const magnitudes = Array.from(data, Math.abs).sort((a, b) => b - a);
  return k === data.length || (magnitudes[k - 1] as number) > (magnitudes[k] as number);
}

function squaredError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let error = 0;
  for (let i = 0; i < a.length; i++) error += ((a[i] as number) - (b[i] as number)) ** 2;
  return error;
}

const sparsityOf = (pipeline: CompressionPipeline) =>
  pipeline.kind === "stc" || pipeline.kind === "skc" ? (pipeline.pSparsity ?? 0.1) : 1;

await requirePython();
const cases = await encodeCases();
const decoded = new Map((await runScript(cases)).map((d) => [d.id, d]));

describe(`compression pipelines: encodeTensor decoded by OpenFL 1.9's own receiver (seed ${seed})`, () => {
  for (const c of cases) {
    it(c.id, async () => {
      const openfl = decoded.get(c.id) as Decoded;
      assert.equal(openfl.decodeError, undefined);
      const ours = await decodeTensor(c.named, { pipeline: c.pipeline, gunzip });
      assert.deepEqual(openfl.shape, c.source.shape);
      assert.deepEqual(openfl.tags, ours.tags);
      assert.equal(openfl.decodedWith, ours.decodedWith);
      const values64 = float64Of(openfl.values64);
      const values = Float32Array.from(values64);
      assert.deepEqual(bitsOf(values), bitsOf(ours.tensor.data), "OpenFL's values are ours");
      const x = c.source.data;
      const lossy = c.named.tags.includes("lossy_compressed");
      if (c.pipeline.kind === "random-shift") {
        x.forEach((xi, i) => {
          const error = Math.abs((values64[i] as number) - xi);
          assert.ok(error <= float32Step(Math.abs(xi) + 20) / 2, `element ${i}: ${error}`);
        });
      } else if (!lossy) {
        assert.deepEqual(bitsOf(values), bitsOf(x), "lossless");
      } else {
        assert.equal(openfl.openflMatchesLookup, true, "OpenFL decodes our codes in its map order");
        const p = sparsityOf(c.pipeline);
        const sameKept = unambiguousTopK(x, p);
        const reference = float32Of(openfl.reference.lookupValues);
        if (c.pipeline.kind === "stc") {
          if (sameKept)
            assert.deepEqual(bitsOf(values), bitsOf(reference), "OpenFL's own STC codes");
        } else {
          const clustered = c.pipeline.kind === "skc" ? sparsify(x, keptCount(x.length, p)) : x;
          const table = c.named.transformerMetadata[c.pipeline.kind === "skc" ? 1 : 0]?.intToFloat;
          const levels = Object.values(table ?? {});
          assert.equal(kmeansBoundViolation(clustered, values, levels), undefined);
          if (sameKept) {
            const ourError = squaredError(clustered, values);
            const theirError = squaredError(clustered, reference);
            assert.ok(
              ourError <= theirError * (1 + 1e-6) + 1e-12,
              `squared error ${ourError}, sklearn's ${theirError}`,
            );
          }
        }
      }
    });
  }

  it("covers every pipeline, both modes, and OpenFL's own failures on empty tensors", () => {
    assert.deepEqual(
      [...new Set(cases.map((c) => OPENFL_PIPELINE_CLASS[c.pipeline.kind]))].sort(),
      ["KCPipeline", "NoCompressionPipeline", "RandomShiftPipeline", "SKCPipeline", "STCPipeline"],
    );
    assert.deepEqual([...new Set(cases.map((c) => c.mode))].sort(), [
      "collaborator-delta",
      "lossless",
    ]);
    const lossy = cases.filter((c) => c.named.tags.includes("lossy_compressed"));
    assert.ok(lossy.length >= 40, `${lossy.length} lossy cases`);
    // Where OpenFL's sender raises, we sent the empty tensor through NoCompressionPipeline.
    const failed = cases.filter((c) => decoded.get(c.id)?.reference.encodeError !== undefined);
    assert.equal(failed.length, 8);
    for (const c of failed) {
      assert.equal(
        decoded.get(c.id)?.reference.encodeError,
        "ValueError: min() arg is an empty sequence",
      );
      assert.deepEqual(c.named.tags, ["compressed", "delta", "trained"]);
      assert.equal(decoded.get(c.id)?.decodedWith, "NoCompressionPipeline");
    }
  });

  it("compares most lossy cases with OpenFL's own encoding (the rest have ties at the top-k)", () => {
    const compared = cases.filter(
      (c) =>
        c.named.tags.includes("lossy_compressed") &&
        unambiguousTopK(c.source.data, sparsityOf(c.pipeline)),
    );
    const stc = compared.filter((c) => c.pipeline.kind === "stc");
    assert.ok(stc.length >= 14, `${stc.length} STC cases compared bit for bit`);
    assert.ok(compared.length - stc.length >= 30, `${compared.length - stc.length} k-means cases`);
  });

  it("k-means: squared error against sklearn's, as a diagnostic", (t) => {
    const kmeans = cases.filter(
      (c) =>
        (c.pipeline.kind === "kc" || c.pipeline.kind === "skc") &&
        c.mode === "collaborator-delta" &&
        c.source.data.length > 0 &&
        unambiguousTopK(c.source.data, sparsityOf(c.pipeline)),
    );
    const lines = kmeans.map((c) => {
      const openfl = decoded.get(c.id) as Decoded;
      const x = c.source.data;
      const p = sparsityOf(c.pipeline);
      const clustered = c.pipeline.kind === "skc" ? sparsify(x, keptCount(x.length, p)) : x;
      const ours = squaredError(clustered, Float32Array.from(float64Of(openfl.values64)));
      const theirs = squaredError(clustered, float32Of(openfl.reference.lookupValues));
      return `${c.id}: ours ${ours.toPrecision(6)}, sklearn ${theirs.toPrecision(6)}`;
    });
    t.diagnostic(lines.join("; "));
    assert.ok(lines.length > 0);
  });
});
