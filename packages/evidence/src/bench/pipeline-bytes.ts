// Benchmark (h): what each compression pipeline puts on the wire for one collaborator of the
// digits CNN (@openfl-connect/tfjs's example, the real-model federations' model), round by round,
// as OpenFL's Collaborator and Aggregator choose under use_delta_updates (the plan default):
// round 0 downloads the whole model (lossless) and uploads the trained delta through the plan's
// pipeline; later rounds download the aggregated delta through it and upload whole tensors
// (lossless: the model was rebuilt from a delta, see core's shouldSendLossy). Bytes are whole
// NamedTensor messages as core's encodeTensor makes them. The delta is a STAND-IN: Gaussian noise
// with each tensor's own scale (sigma = 1 % of the tensor's standard deviation), not a training
// step. Also encode and decode time per MiB of float32 (a 1M-element tensor), median of 5.
// Writes the "pipeline-bytes" section of docs/benchmarks.md (--print: stdout only).
// Run: pnpm --filter @openfl-connect/evidence run bench:pipelines
import "@tensorflow/tfjs-backend-cpu";
import { parseArgs } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import { toBinary } from "@bufbuild/protobuf";
import {
  type CompressionPipeline,
  decodeTensor,
  encodeTensor,
  type Float32Tensor,
  formatBytes,
  OPENFL_PIPELINE_CLASS,
} from "@openfl-connect/core";
import { NamedTensorSchema } from "@openfl-connect/core/protocol";
import { getModelWeights, selectBackend } from "@openfl-connect/tfjs";
import { digitsCnn } from "@openfl-connect/tfjs/examples/digits-cnn";
import { machineLines, writeSection } from "./report.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { print: { type: "boolean", default: false } },
});

const gzip = (b: Uint8Array) => new Uint8Array(gzipSync(b));
const gunzip = (b: Uint8Array) => new Uint8Array(gunzipSync(b));

/** OpenFL's defaults: p_sparsity 0.1, n_clusters 6. */
const PIPELINES: readonly CompressionPipeline[] = [
  { kind: "none" },
  { kind: "random-shift" },
  { kind: "stc" },
  { kind: "skc" },
  { kind: "kc" },
];

/** A seeded standard normal (Box-Muller over a 32-bit LCG): the same stand-in every run. */
function normals(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

function standInDelta(tensor: Float32Tensor, next: () => number): Float32Tensor {
  const n = tensor.data.length;
  const mean = tensor.data.reduce((s, v) => s + v, 0) / Math.max(n, 1);
  const sd = Math.sqrt(tensor.data.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(n, 1));
  const sigma = 0.01 * (sd > 0 ? sd : 1);
  return { shape: tensor.shape, data: Float32Array.from({ length: n }, () => sigma * next()) };
}

async function messageBytes(
  tensors: Readonly<Record<string, Float32Tensor>>,
  pipeline: CompressionPipeline,
  tags: readonly string[],
  requireLossless: boolean,
): Promise<number> {
  let bytes = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    const named = await encodeTensor(tensor, {
      name,
      roundNumber: 0,
      tags,
      pipeline,
      requireLossless,
      gzip,
    });
    bytes += toBinary(NamedTensorSchema, named).byteLength;
  }
  return bytes;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** ms to encode and to decode one MiB of float32 under `pipeline`'s lossy (or only) path. */
async function codecMsPerMiB(pipeline: CompressionPipeline): Promise<[number, number]> {
  const next = normals(7);
  const tensor = { shape: [1024, 1024], data: Float32Array.from({ length: 1 << 20 }, next) };
  const mib = (tensor.data.byteLength / 2 ** 20) as number;
  const enc: number[] = [];
  const dec: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    let t = performance.now();
    const named = await encodeTensor(tensor, {
      name: "w",
      roundNumber: 0,
      tags: ["trained", "delta"],
      pipeline,
      requireLossless: false,
      gzip,
    });
    enc.push((performance.now() - t) / mib);
    t = performance.now();
    await decodeTensor(named, { pipeline, gunzip });
    dec.push((performance.now() - t) / mib);
  }
  return [median(enc), median(dec)];
}

await selectBackend(["cpu"]);
const model = await getModelWeights(digitsCnn({ seed: 1 }));
const next = normals(1);
const delta = Object.fromEntries(
  Object.entries(model).map(([name, t]) => [name, standInDelta(t, next)]),
);
const elements = Object.values(model).reduce((n, t) => n + t.data.length, 0);

interface Row {
  readonly pipeline: CompressionPipeline;
  readonly down0: number;
  readonly up0: number;
  readonly downLater: number;
  readonly upLater: number;
  readonly encodeMs: number;
  readonly decodeMs: number;
}
const rows: Row[] = [];
for (const pipeline of PIPELINES) {
  const [encodeMs, decodeMs] = await codecMsPerMiB(pipeline);
  rows.push({
    pipeline,
    down0: await messageBytes(model, pipeline, ["model"], true),
    up0: await messageBytes(delta, pipeline, ["trained", "delta"], false),
    downLater: await messageBytes(delta, pipeline, ["aggregated", "delta"], false),
    upLater: await messageBytes(model, pipeline, ["trained"], true),
    encodeMs,
    decodeMs,
  });
}

const base = rows[0] as Row;
const cell = (bytes: number, of: number) => `${formatBytes(bytes)} (${(bytes / of).toFixed(2)}x)`;
const lines = [
  "## Benchmark (h): bytes on the wire per round, by compression pipeline",
  "",
  ...machineLines("pnpm --filter @openfl-connect/evidence run bench:pipelines"),
  "",
  `One collaborator of the digits CNN (${Object.keys(model).length} tensors, ${elements} float32 values), use_delta_updates true, OpenFL's default settings (p_sparsity 0.1, n_clusters 6). Whole NamedTensor messages (metrics left out: 3 scalars a task). The delta is a stand-in (Gaussian, 1 % of each tensor's spread), not a training step; STC/SKC/KC sizes depend on the values through gzip. (x) = vs NoCompressionPipeline.`,
  "",
  "| pipeline | round 0 download (whole model) | round 0 upload (trained delta) | later download (aggregated delta) | later upload (whole, lossless) | encode ms/MiB | decode ms/MiB |",
  "|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${OPENFL_PIPELINE_CLASS[r.pipeline.kind]} | ${cell(r.down0, base.down0)} | ${cell(r.up0, base.up0)} | ${cell(r.downLater, base.downLater)} | ${cell(r.upLater, base.upLater)} | ${r.encodeMs.toFixed(1)} | ${r.decodeMs.toFixed(1)} |`,
  ),
  "",
  "Under OpenFL 1.9's rule a collaborator sends a lossy delta only in a round whose model it fetched whole (round 0, or after a restart): from round 1 its uploads are whole tensors whatever the pipeline, and only its downloads (the aggregated deltas) shrink.",
];
if (values.print) console.log(lines.join("\n"));
else await writeSection("pipeline-bytes", lines);
