// The service under the plan's compression pipeline: what it asks for, how it decodes the
// answers and what it sends, as OpenFL's Collaborator does under the same plan. The aggregator
// here encodes with core's encodeTensor and node:zlib (the service gzips with the platform's
// CompressionStream), so both gzip implementations meet.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  type CompressionPipeline,
  decodeTensor,
  encodeTensor,
  type Float32Tensor,
  type NamedTensor,
  type TaskAssignment,
} from "@openfl-connect/core";
import { type CollaboratorClient, CollaboratorService } from "./collaborator-service.js";
import type { Logger } from "./logger.js";
import type { TaskContext, TaskSet } from "./task-set.js";

const gzip = (b: Uint8Array) => new Uint8Array(gzipSync(b));
const gunzip = (b: Uint8Array) => new Uint8Array(gunzipSync(b));

const tasksOf = (names: string[], round: number): TaskAssignment => ({
  tasks: names.map((name) => ({ name, functionName: "", taskType: "", applyLocal: false })),
  roundNumber: round,
  sleepTime: 0,
  quit: false,
});
const quit: TaskAssignment = { tasks: [], roundNumber: 2, sleepTime: 0, quit: true };

/** Round r's model: w = [r, r + 1, ..., r + 9]; its aggregated delta from round r - 1: all 1. */
const modelOf = (round: number): Float32Tensor => ({
  shape: [2, 5],
  data: Float32Array.from({ length: 10 }, (_, i) => round + i),
});

interface Upload {
  readonly round: number;
  readonly taskName: string;
  readonly tensors: readonly NamedTensor[];
}

/**
 * An aggregator under `pipeline`, as OpenFL's answers: a whole model through the lossless
 * pipeline (require_lossless), an aggregated delta through the plan's own.
 */
function aggregator(pipeline: CompressionPipeline, script: TaskAssignment[]) {
  const requests: string[] = [];
  const uploads: Upload[] = [];
  let i = 0;
  const client: CollaboratorClient = {
    resendPending: async () => 0,
    getTasks: async () => script[Math.min(i++, script.length - 1)] as TaskAssignment,
    async getAggregatedTensor(name, round, o) {
      const tags = o?.tags ?? [];
      requests.push(`${name}@${round} ${tags.join(",")} lossless=${o?.requireLossless}`);
      const delta = tags.includes("delta");
      return encodeTensor(
        delta ? { shape: [2, 5], data: new Float32Array(10).fill(1) } : modelOf(round),
        {
          name,
          roundNumber: round,
          tags: delta ? ["aggregated", "delta"] : ["model"],
          pipeline,
          requireLossless: !delta,
          gzip,
          random: () => 0.75,
        },
      );
    },
    async sendLocalTaskResults(round, taskName, _dataSize, tensors) {
      uploads.push({ round, taskName, tensors });
    },
  };
  return { client, requests, uploads };
}

/** train returns the model plus 0.5 everywhere but 3 at element 7; validate reports accuracy. */
function taskSet(seen: TaskContext[]): TaskSet {
  return {
    modelTensorNames: ["w"],
    tasks: {
      train: async (ctx) => {
        seen.push(ctx);
        const w = ctx.model.w as Float32Tensor;
        const data = w.data.map((v, i) => v + (i === 7 ? 3 : 0.5));
        return { dataSize: 7, tensors: { w: { shape: w.shape, data } }, metrics: { loss: 0.25 } };
      },
    },
  };
}

describe("CollaboratorService under a lossy pipeline (STCPipeline, use_delta_updates)", () => {
  const pipeline: CompressionPipeline = { kind: "stc", pSparsity: 0.1 };

  it("asks round 1 for ('aggregated', 'delta', 'lossy_compressed') and rebuilds the model from the STC delta", async () => {
    const seen: TaskContext[] = [];
    const { client, requests } = aggregator(pipeline, [
      tasksOf(["train"], 0),
      tasksOf(["train"], 1),
      quit,
    ]);
    await new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: taskSet(seen),
      useDeltaUpdates: true,
      compression: pipeline,
    }).run();
    assert.deepEqual(requests, [
      "w@0 model lossless=true",
      "w@1 aggregated,delta,lossy_compressed lossless=false",
    ]);
    // STC of an all-ones delta keeps one element (p 0.1 of 10; of equal magnitudes the last),
    // at the sparse tensor's mean magnitude 1/10; the others are 0.
    const model1 = [...(seen[1]?.model.w?.data ?? [])];
    const round0 = [...modelOf(0).data];
    const moved = model1.map((v, i) => v - (round0[i] as number));
    assert.deepEqual(moved.slice(0, 9), new Array(9).fill(0));
    assert.ok(Math.abs((moved[9] as number) - 0.1) < 1e-6, String(moved[9]));
  });

  it("sends round 0's trained delta lossy (tags delta, lossy_compressed, trained; lossless false), the metric and round 1's tensor lossless", async () => {
    const { client, uploads } = aggregator(pipeline, [
      tasksOf(["train"], 0),
      tasksOf(["train"], 1),
      quit,
    ]);
    const sentLines: Record<string, unknown>[] = [];
    const logger: Logger = (_level, event, fields) => {
      if (event === "results sent") sentLines.push(fields ?? {});
    };
    await new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: taskSet([]),
      useDeltaUpdates: true,
      compression: pipeline,
      logger,
    }).run();
    // The debug line counts what went lossy: round 0's w, nothing in round 1.
    assert.deepEqual(
      sentLines.map((f) => [f.round, f.tensors, f.lossyTensors]),
      [
        [0, 2, 1],
        [1, 2, 0],
      ],
    );
    const [round0, round1] = uploads;
    assert.ok(round0 && round1);
    const [w0, loss0] = round0.tensors;
    assert.ok(w0 && loss0);
    assert.deepEqual([w0.tags, w0.lossless], [["delta", "lossy_compressed", "trained"], false]);
    assert.equal(w0.transformerMetadata.length, 3, "STC's three entries");
    // The delta is 0.5 everywhere but 3 at element 7: STC keeps element 7 (p 0.1 of 10), at the
    // sparse tensor's mean magnitude 3/10.
    const decoded = await decodeTensor(w0, { pipeline, gunzip });
    assert.deepEqual(decoded.tensor.shape, [2, 5]);
    assert.deepEqual([...decoded.tensor.data], [0, 0, 0, 0, 0, 0, 0, Math.fround(0.3), 0, 0]);
    assert.deepEqual(
      [loss0.tags, loss0.lossless, loss0.report],
      [["compressed", "metric"], true, true],
    );
    // Round 1's model was rebuilt from the aggregated delta: the whole tensor, lossless.
    const w1 = round1.tensors[0];
    assert.ok(w1);
    assert.deepEqual([w1.tags, w1.lossless], [["compressed", "trained"], true]);
    assert.equal(w1.transformerMetadata.length, 1);
  });

  it("sends whole tensors lossless in every round without use_delta_updates", async () => {
    const { client, requests, uploads } = aggregator(pipeline, [
      tasksOf(["train"], 0),
      tasksOf(["train"], 1),
      quit,
    ]);
    await new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: taskSet([]),
      compression: pipeline,
    }).run();
    assert.deepEqual(requests, ["w@0 model lossless=true", "w@1 model lossless=true"]);
    for (const upload of uploads) {
      assert.deepEqual(upload.tensors[0]?.tags, ["compressed", "trained"]);
    }
  });

  it("fails the run with TensorCodecError naming the tensor when an answer does not gunzip", async () => {
    const { client } = aggregator(pipeline, [tasksOf(["train"], 0), tasksOf(["train"], 1), quit]);
    const broken: CollaboratorClient = {
      ...client,
      async getAggregatedTensor(name, round, o) {
        const named = await client.getAggregatedTensor(name, round, o);
        if (o?.tags?.includes("delta")) named.dataBytes = Uint8Array.of(1, 2, 3);
        return named;
      },
    };
    await assert.rejects(
      new CollaboratorService({
        client: broken,
        collaboratorName: "col1",
        taskSet: taskSet([]),
        useDeltaUpdates: true,
        compression: pipeline,
      }).run(),
      (e: unknown) =>
        e instanceof Error &&
        e.name === "TensorCodecError" &&
        /tensor 'w': data_bytes \(3 bytes\) do not gunzip/.test(e.message),
    );
  });
});

describe("CollaboratorService under RandomShiftPipeline (lossless)", () => {
  const pipeline: CompressionPipeline = { kind: "random-shift" };

  it("decodes the shifted model and sends every tensor, the metric included, shifted", async () => {
    const seen: TaskContext[] = [];
    const { client, uploads } = aggregator(pipeline, [tasksOf(["train"], 0), quit]);
    await new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: taskSet(seen),
      compression: pipeline,
      random: () => 0.25,
    }).run();
    // The aggregator shifted by float32(0.75 * 40 - 20) = 10; decoded within float32 rounding.
    const model = [...(seen[0]?.model.w?.data ?? [])];
    for (const [i, v] of model.entries()) {
      assert.ok(Math.abs(v - i) <= 2 ** -23 * (i + 20), `${i}: ${v}`);
    }
    const [w, loss] = uploads[0]?.tensors ?? [];
    assert.ok(w && loss);
    for (const t of [w, loss]) {
      assert.equal(t.transformerMetadata.length, 2, `${t.name}: RandomShift's two entries`);
      assert.ok(t.tags.includes("compressed") && t.lossless);
      // The service's random: every shift is float32(0.25 * 40 - 20) = -10.
      assert.deepEqual(
        new Set(Object.values(t.transformerMetadata[0]?.intToFloat ?? {})),
        new Set([-10]),
      );
    }
    const decoded = (await decodeTensor(loss, { pipeline })).tensor.data[0] as number;
    assert.ok(Math.abs(decoded - 0.25) <= 2 ** -23 * 20.25, String(decoded));
  });
});
