import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodeNamedTensor,
  encodeNamedTensor,
  MAX_TIMER_MS,
  type NamedTensor,
  type TaskAssignment,
} from "@openfl-connect/core";
import {
  type CollaboratorClient,
  CollaboratorService,
  DEFAULT_MAX_SLEEP_SECONDS,
  UnknownTaskError,
} from "./collaborator-service.js";
import { TaskFailedError } from "./encode-results.js";
import type { TaskContext, TaskSet } from "./task-set.js";

interface Sent {
  round: number;
  taskName: string;
  dataSize: number;
  tensors: readonly NamedTensor[];
}

/** A scripted aggregator: answers getTasks from `script`, records every call. */
function fakeClient(script: TaskAssignment[], options: { uploadDelayMs?: number } = {}) {
  const calls: string[] = [];
  const sent: Sent[] = [];
  let i = 0;
  const client: CollaboratorClient = {
    async resendPending() {
      calls.push("resendPending");
      return 0;
    },
    async getTasks(o) {
      o?.signal?.throwIfAborted();
      calls.push("getTasks");
      const next = script[Math.min(i++, script.length - 1)];
      assert.ok(next);
      return next;
    },
    async getAggregatedTensor(name, round, o) {
      calls.push(`get ${name}@${round} ${o?.tags?.join(",")} lossless=${o?.requireLossless}`);
      // The model of round r is [r, r + 1], so every round's aggregated delta is [1, 1].
      if (o?.tags?.includes("delta")) {
        return encodeNamedTensor(
          { shape: [2], data: [1, 1] },
          { name, roundNumber: round, tags: ["aggregated", "delta"] },
        );
      }
      return encodeNamedTensor(
        { shape: [2], data: [round, round + 1] },
        { name, roundNumber: round, tags: ["model"] },
      );
    },
    async sendLocalTaskResults(round, taskName, dataSize, tensors, o) {
      calls.push(`send ${taskName}@${round}`);
      if (options.uploadDelayMs) await new Promise((r) => setTimeout(r, options.uploadDelayMs));
      o?.signal?.throwIfAborted();
      sent.push({ round, taskName, dataSize, tensors });
    },
  };
  return { client, calls, sent };
}

/** Lets the loop run up to its next wait (the fake client answers in promise callbacks). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const tasksOf = (names: string[], round: number): TaskAssignment => ({
  tasks: names.map((name) => ({ name, functionName: "", taskType: "", applyLocal: false })),
  roundNumber: round,
  sleepTime: 0,
  quit: false,
});
const noTasks = (round: number, sleepTime: number): TaskAssignment => ({
  tasks: [],
  roundNumber: round,
  sleepTime,
  quit: false,
});
const quit: TaskAssignment = { tasks: [], roundNumber: 1, sleepTime: 0, quit: true };

function recordingTaskSet(seen: TaskContext[]): TaskSet {
  return {
    modelTensorNames: ["w"],
    tasks: {
      validate: async (ctx) => {
        seen.push(ctx);
        return { dataSize: 5, metrics: { accuracy: 0.5 } };
      },
      train: async (ctx) => {
        seen.push(ctx);
        return { dataSize: 7, tensors: { w: { shape: [2], data: Float32Array.of(9, 9) } } };
      },
      local: {
        modelTensors: [],
        metricTags: ["validate_local"],
        run: async (ctx) => {
          seen.push(ctx);
          return { dataSize: 5, metrics: { accuracy: 0.75 } };
        },
      },
    },
  };
}

describe("CollaboratorService loop", () => {
  it("runs the round's tasks in order, fetching the model once per round with tags ['model'] and require_lossless", async () => {
    const seen: TaskContext[] = [];
    const { client, calls, sent } = fakeClient([tasksOf(["validate", "train", "local"], 0), quit]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet(seen),
    });
    const outcome = await service.run();
    assert.deepEqual(outcome, { t: "quit", roundsWorked: 1, tasksRun: 3 });
    assert.deepEqual(calls, [
      "resendPending",
      "getTasks",
      "get w@0 model lossless=true",
      "send validate@0",
      "send train@0",
      "send local@0",
      "getTasks",
    ]);
    assert.deepEqual(
      sent.map((s) => [s.taskName, s.dataSize]),
      [
        ["validate", 5],
        ["train", 7],
        ["local", 5],
      ],
    );
    assert.deepEqual([...(seen[0]?.model.w?.data ?? [])], [0, 1]);
    assert.equal(seen[0]?.collaboratorName, "col1");
    assert.equal(seen[0]?.round, 0);
    // The locally tuned task sees what train produced this round, and no fetched model.
    assert.deepEqual(Object.keys(seen[2]?.model ?? {}), []);
    assert.deepEqual([...(seen[2]?.localTensors.w?.data ?? [])], [9, 9]);
  });

  it("sleeps sleep_time seconds when there are no tasks, then polls again", async () => {
    const { client, calls } = fakeClient([noTasks(0, 0.2), tasksOf(["validate"], 0), quit]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
    });
    const started = Date.now();
    const outcome = await service.run();
    const elapsed = Date.now() - started;
    assert.equal(outcome.t, "quit");
    assert.ok(elapsed >= 190, `slept ${elapsed} ms`);
    assert.deepEqual(calls.filter((c) => c === "getTasks").length, 3);
  });

  it("caps the sleep at maxSleepSeconds", async () => {
    const { client } = fakeClient([noTasks(0, 3600), quit]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
      maxSleepSeconds: 0.05,
    });
    assert.equal((await service.run()).t, "quit");
  });

  it("sleeps a sleep_time longer than one timer holds (>= 2,147,484 s) in full, not 1 ms", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const sleepTime = 2_147_484;
    const { client, calls } = fakeClient([noTasks(0, sleepTime), quit]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
      maxSleepSeconds: Number.POSITIVE_INFINITY,
    });
    const run = service.run();
    const polls = async (ms: number) => {
      t.mock.timers.tick(ms);
      await settle();
      return calls.filter((c) => c === "getTasks").length;
    };
    assert.equal(await polls(0), 1);
    assert.equal(await polls(1000), 1, "polled again before sleep_time had passed");
    // Mock timers arm a timer set inside tick() from the tick's end: tick to each timer's due time.
    assert.equal(await polls(MAX_TIMER_MS - 1000), 1);
    assert.equal(await polls(sleepTime * 1000 - MAX_TIMER_MS - 1), 1);
    assert.equal(await polls(1), 2);
    assert.equal((await run).t, "quit");
  });

  it("caps the aggregator's sleep_time at DEFAULT_MAX_SLEEP_SECONDS (1 h) without maxSleepSeconds", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { client, calls } = fakeClient([noTasks(0, 2 ** 31 - 1), quit]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
    });
    const run = service.run();
    const polls = async (ms: number) => {
      t.mock.timers.tick(ms);
      await settle();
      return calls.filter((c) => c === "getTasks").length;
    };
    assert.equal(DEFAULT_MAX_SLEEP_SECONDS, 3600);
    assert.equal(await polls(0), 1);
    assert.equal(await polls(3600 * 1000 - 1), 1, "polled again before an hour had passed");
    assert.equal(await polls(1), 2);
    assert.equal((await run).t, "quit");
  });

  it("refuses a progress interval a timer cannot hold, and a maxSleepSeconds that is not a number >= 0", () => {
    const { client } = fakeClient([quit]);
    const base = { client, collaboratorName: "col1", taskSet: recordingTaskSet([]) };
    assert.throws(
      () => new CollaboratorService({ ...base, progressIntervalSeconds: 2_147_484 }),
      /progressIntervalSeconds must be > 0 and at most 2147483.647/,
    );
    assert.throws(
      () => new CollaboratorService({ ...base, progressIntervalSeconds: 0 }),
      RangeError,
    );
    assert.throws(
      () => new CollaboratorService({ ...base, maxSleepSeconds: Number.NaN }),
      /maxSleepSeconds must be >= 0/,
    );
  });

  it("stops on quit without running anything", async () => {
    const { client, calls } = fakeClient([quit]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
    });
    assert.deepEqual(await service.run(), { t: "quit", roundsWorked: 0, tasksRun: 0 });
    assert.deepEqual(calls, ["resendPending", "getTasks"]);
  });

  it("clears the local tensors when a new round starts", async () => {
    const seen: TaskContext[] = [];
    const { client } = fakeClient([tasksOf(["train"], 0), tasksOf(["local"], 1), quit]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet(seen),
    });
    await service.run();
    assert.deepEqual(Object.keys(seen[1]?.localTensors ?? {}), []);
  });

  it("rejects with UnknownTaskError for a task the module does not export", async () => {
    const { client } = fakeClient([tasksOf(["mystery"], 0)]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
    });
    await assert.rejects(service.run(), UnknownTaskError);
  });
});

describe("CollaboratorService results as OpenFL's aggregator keys them", () => {
  const accuracyTask = async () => ({ dataSize: 4, metrics: { accuracy: 0.5 } });

  it("tags the metrics of OpenFL's default validation tasks validate_agg and validate_local", async () => {
    const { client, sent } = fakeClient([
      tasksOf(["aggregated_model_validation", "locally_tuned_model_validation"], 0),
      quit,
    ]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: {
        tasks: {
          aggregated_model_validation: accuracyTask,
          locally_tuned_model_validation: accuracyTask,
        },
      },
    });
    await service.run();
    assert.deepEqual(
      sent.map((s) => [s.taskName, s.tensors.map((t) => [t.name, t.tags.join(",")])]),
      [
        ["aggregated_model_validation", [["accuracy", "compressed,metric,validate_agg"]]],
        ["locally_tuned_model_validation", [["accuracy", "compressed,metric,validate_local"]]],
      ],
    );
  });

  it("refuses, before uploading, a task whose metric repeats another task's name and tags this round", async () => {
    const { client, sent } = fakeClient([tasksOf(["check_a", "check_b"], 0), quit]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: { tasks: { check_a: accuracyTask, check_b: accuracyTask } },
    });
    await assert.rejects(
      service.run(),
      (e: unknown) =>
        e instanceof TaskFailedError &&
        e.taskName === "check_b" &&
        /'accuracy'.*same name and tags.*'check_a'/.test(e.message),
    );
    assert.deepEqual(
      sent.map((s) => s.taskName),
      ["check_a"],
    );
  });

  it("with useDeltaUpdates sends trained - model tagged delta (lossless false) and rebuilds the next round's model from the aggregated delta", async () => {
    const seen: TaskContext[] = [];
    const { client, calls, sent } = fakeClient([
      tasksOf(["train"], 0),
      tasksOf(["train"], 1),
      quit,
    ]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet(seen),
      useDeltaUpdates: true,
    });
    await service.run();
    assert.deepEqual(
      calls.filter((c) => c.startsWith("get ")),
      ["get w@0 model lossless=true", "get w@1 aggregated,delta,compressed lossless=false"],
    );
    // Round 1's model: round 0's [0, 1] plus the delta [1, 1].
    assert.deepEqual([...(seen[1]?.model.w?.data ?? [])], [1, 2]);
    const uploads = sent.map((s) => {
      const w = s.tensors[0];
      assert.ok(w);
      return [w.tags.join(","), w.lossless, [...decodeNamedTensor(w).data]];
    });
    // train returns [9, 9]: minus round 0's [0, 1], then minus round 1's [1, 2].
    assert.deepEqual(uploads, [
      ["compressed,delta,trained", false, [9, 8]],
      ["compressed,delta,trained", false, [8, 7]],
    ]);
  });

  it("without useDeltaUpdates sends whole trained tensors, lossless", async () => {
    const { client, sent } = fakeClient([tasksOf(["train"], 0), quit]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
    });
    await service.run();
    const w = sent[0]?.tensors[0];
    assert.ok(w);
    assert.deepEqual(
      [w.tags.join(","), w.lossless, [...decodeNamedTensor(w).data]],
      ["compressed,trained", true, [9, 9]],
    );
  });
});

describe("CollaboratorService shutdown", () => {
  it("an abort during the no-task sleep ends run() at once with 'aborted'", async () => {
    const { client } = fakeClient([noTasks(0, 3600)]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
    });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 50);
    const started = Date.now();
    assert.deepEqual(await service.run({ signal: stop.signal }), { t: "aborted", tasksRun: 0 });
    assert.ok(Date.now() - started < 1000);
  });

  it("lets an upload in flight finish when only the poll signal aborts", async () => {
    const { client, sent, calls } = fakeClient([tasksOf(["validate"], 0), quit], {
      uploadDelayMs: 150,
    });
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
    });
    const stop = new AbortController();
    const uploads = new AbortController();
    setTimeout(() => stop.abort(), 50);
    const outcome = await service.run({ signal: stop.signal, uploadSignal: uploads.signal });
    assert.deepEqual(outcome, { t: "aborted", tasksRun: 1 });
    assert.equal(sent.length, 1);
    assert.equal(calls.filter((c) => c === "getTasks").length, 1);
  });

  it("gives up an upload when the upload signal aborts", async () => {
    const { client, sent } = fakeClient([tasksOf(["validate"], 0), quit], { uploadDelayMs: 150 });
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
    });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 50);
    const outcome = await service.run({ signal: stop.signal, uploadSignal: stop.signal });
    assert.equal(outcome.t, "aborted");
    assert.equal(sent.length, 0);
  });
});
