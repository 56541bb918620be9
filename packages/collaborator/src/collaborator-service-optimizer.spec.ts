// Model tensors that depend on the round: OpenFL's KerasTaskRunner under opt_treatment
// CONTINUE_GLOBAL sends the optimizer's state tagged trained with the model from round 0 and asks
// for it with the model (tags "model") from round 1 on, fetched and sent as model tensors are.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeNamedTensor, type NamedTensor, type TaskAssignment } from "@openfl-connect/core";
import { type CollaboratorClient, CollaboratorService } from "./collaborator-service.js";
import { exitCodeFor } from "./exit-codes.js";
import {
  resolveTask,
  type TaskContext,
  TaskDeclarationError,
  type TaskSet,
  taskSetProblem,
} from "./task-set.js";

const round = (n: number, tasks: string[]): TaskAssignment => ({
  tasks: tasks.map((name) => ({ name, functionName: "", taskType: "", applyLocal: false })),
  roundNumber: n,
  sleepTime: 0,
  quit: false,
});
const quit: TaskAssignment = { tasks: [], roundNumber: 3, sleepTime: 0, quit: true };

/**
 * An aggregator holding, for round r, model w = [r, r] and optimizer state opt = [10 r] from
 * round 1 on (round 0 holds the initial model only, as OpenFL's does); deltas are [1, 1] / [10].
 */
function aggregator(script: TaskAssignment[]) {
  const fetched: string[] = [];
  const sent: { round: number; task: string; tensors: readonly NamedTensor[] }[] = [];
  let i = 0;
  const client: CollaboratorClient = {
    resendPending: async () => 0,
    getTasks: async () => script[Math.min(i++, script.length - 1)] as TaskAssignment,
    async getAggregatedTensor(name, r, o) {
      const tags = o?.tags ?? [];
      fetched.push(`${name}@${r} ${tags.join(",")}`);
      if (name === "opt" && r === 0) throw new Error("round 0 holds no optimizer state");
      const delta = tags.includes("delta");
      const values = name === "opt" ? [delta ? 10 : 10 * r] : delta ? [1, 1] : [r, r];
      return encodeNamedTensor(
        { shape: [values.length], data: values },
        { name, roundNumber: r, tags: delta ? ["aggregated", "delta"] : ["model"] },
      );
    },
    async sendLocalTaskResults(r, task, _dataSize, tensors) {
      sent.push({ round: r, task, tensors });
    },
  };
  return { client, fetched, sent };
}

/** A Keras-like task set: train needs the optimizer state from round 1 on and sends it always. */
function continueGlobal(seen: TaskContext[]): TaskSet {
  return {
    modelTensorNames: ["w"],
    optimizerTensorNames: ["opt"],
    tasks: {
      validate: async (ctx) => {
        seen.push(ctx);
        return { dataSize: 3, metrics: { accuracy: 0.5 } };
      },
      train: {
        modelTensors: (r) => (r >= 1 ? ["w", "opt"] : ["w"]),
        run: async (ctx) => {
          seen.push(ctx);
          const w = ctx.model.w?.data[0] ?? -1;
          return {
            dataSize: 4,
            tensors: {
              w: { shape: [2], data: Float32Array.of(w + 0.5, w + 0.5) },
              opt: { shape: [1], data: Float32Array.of((ctx.model.opt?.data[0] ?? 0) + 1) },
            },
          };
        },
      },
    },
  };
}

/** Each tensor as it goes on the wire (OpenFL's codec adds "compressed" to every tag set). */
const summary = (tensors: readonly NamedTensor[]) =>
  tensors.map((t) => `${t.name} ${t.tags.join(",")} lossless=${t.lossless}`).sort();

describe("model tensors by round (opt_treatment CONTINUE_GLOBAL)", () => {
  for (const useDeltaUpdates of [false, true]) {
    it(`asks for the optimizer state from round 1 on, validation never, and sends it as OpenFL's collaborator does (use_delta_updates ${useDeltaUpdates})`, async () => {
      const seen: TaskContext[] = [];
      const { client, fetched, sent } = aggregator([
        round(0, ["validate", "train"]),
        round(1, ["validate", "train"]),
        round(2, ["validate", "train"]),
        quit,
      ]);
      const service = new CollaboratorService({
        client,
        collaboratorName: "col1",
        taskSet: continueGlobal(seen),
        useDeltaUpdates,
      });
      assert.deepEqual(await service.run(), { t: "quit", roundsWorked: 3, tasksRun: 6 });
      const delta = "aggregated,delta,compressed";
      assert.deepEqual(
        fetched,
        useDeltaUpdates
          ? // Round 1's optimizer state has no round 0 base here: fetched whole, as OpenFL's
            // collaborator does; round 2's is rebuilt from the aggregated delta.
            ["w@0 model", `w@1 ${delta}`, "opt@1 model", `w@2 ${delta}`, `opt@2 ${delta}`]
          : ["w@0 model", "w@1 model", "opt@1 model", "w@2 model", "opt@2 model"],
      );
      const train = (r: number) => seen.find((c) => c.taskName === "train" && c.round === r);
      const validate = (r: number) => seen.find((c) => c.taskName === "validate" && c.round === r);
      assert.deepEqual(Object.keys(train(0)?.model ?? {}), ["w"]);
      assert.deepEqual(Object.keys(train(1)?.model ?? {}).sort(), ["opt", "w"]);
      assert.deepEqual([...(train(1)?.model.opt?.data ?? [])], [10]);
      assert.deepEqual([...(train(2)?.model.opt?.data ?? [])], [20]);
      for (const r of [0, 1, 2]) assert.deepEqual(Object.keys(validate(r)?.model ?? {}), ["w"]);

      const trained = (r: number) =>
        summary(sent.find((s) => s.task === "train" && s.round === r)?.tensors ?? []);
      if (useDeltaUpdates) {
        // OpenFL's nparray_to_named_tensor: a delta where the round's model was fetched whole
        // ("The original model will not be present for the optimizer on the first round").
        assert.deepEqual(trained(0), [
          "opt compressed,trained lossless=true",
          "w compressed,delta,trained lossless=false",
        ]);
        assert.deepEqual(trained(1), [
          "opt compressed,delta,trained lossless=false",
          "w compressed,trained lossless=true",
        ]);
        assert.deepEqual(trained(2), [
          "opt compressed,trained lossless=true",
          "w compressed,trained lossless=true",
        ]);
      } else {
        for (const r of [0, 1, 2]) {
          assert.deepEqual(trained(r), [
            "opt compressed,trained lossless=true",
            "w compressed,trained lossless=true",
          ]);
        }
      }
    });
  }

  it("still refuses a trained tensor that is neither model nor optimizer state", async () => {
    const { client, sent } = aggregator([round(0, ["train"])]);
    const taskSet: TaskSet = {
      modelTensorNames: ["w"],
      optimizerTensorNames: ["opt"],
      tasks: {
        train: async () => ({
          dataSize: 1,
          tensors: { stray: { shape: [1], data: Float32Array.of(1) } },
        }),
      },
    };
    await assert.rejects(
      new CollaboratorService({ client, collaboratorName: "col1", taskSet }).run(),
      /trained tensor 'stray' is not a tensor of the model \(its tensors: w, opt\)/,
    );
    assert.deepEqual(sent, []);
  });

  it("refuses a modelTensors function that returns no list of names (a bad task module: exit 1)", async () => {
    const { client, fetched } = aggregator([round(4, ["train"])]);
    const taskSet = {
      tasks: { train: { modelTensors: () => ["w", 7], run: async () => ({ dataSize: 1 }) } },
    } as unknown as TaskSet;
    const error = await new CollaboratorService({ client, collaboratorName: "c", taskSet })
      .run()
      .catch((e: unknown) => e);
    assert.ok(error instanceof TaskDeclarationError);
    assert.equal(
      error.message,
      "tasks.train.modelTensors(4) must return an array of tensor names, got [string, number]",
    );
    assert.equal(exitCodeFor(error), 1);
    assert.deepEqual(fetched, []);
    const named = (value: unknown) =>
      resolveTask(
        {
          tasks: { t: { modelTensors: () => value, run: async () => ({ dataSize: 1 }) } },
        } as unknown as TaskSet,
        "t",
      )?.modelTensors(0);
    assert.throws(
      () => named(null),
      /modelTensors\(0\) must return an array of tensor names, got null$/,
    );
    assert.throws(() => named("w"), /got string$/);
  });

  it("a task module may declare modelTensors as a function and optimizerTensorNames as names", () => {
    const run = async () => ({ dataSize: 1 });
    assert.equal(
      taskSetProblem({
        tasks: { train: { modelTensors: () => ["w"], run } },
        optimizerTensorNames: ["o"],
      }),
      undefined,
    );
    assert.equal(
      taskSetProblem({ tasks: { train: run }, optimizerTensorNames: [1] }),
      "`optimizerTensorNames` must be an array of strings",
    );
    assert.equal(
      taskSetProblem({ tasks: { train: { modelTensors: "w", run } } }),
      "tasks.train must be a function or { run, modelTensors?: string[] | (round) => string[], metricTags?: string[] }",
    );
    // A list (or the set's names) is the same for every round.
    const fixed = resolveTask({ modelTensorNames: ["w"], tasks: { train: run } }, "train");
    assert.deepEqual([fixed?.modelTensors(0), fixed?.modelTensors(9)], [["w"], ["w"]]);
  });
});
