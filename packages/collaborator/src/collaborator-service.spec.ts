import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodeNamedTensor,
  encodeNamedTensor,
  formatBytes,
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
    await assert.rejects(service.run(), (e: unknown) => {
      assert.ok(e instanceof UnknownTaskError);
      assert.equal(e.name, "UnknownTaskError");
      assert.equal(e.taskName, "mystery");
      assert.equal(
        e.message,
        "the aggregator assigned task 'mystery' but the task module does not export it",
      );
      return true;
    });
  });

  it("resends pending uploads first, with the upload signal", async () => {
    const { client } = fakeClient([quit]);
    let given: AbortSignal | undefined;
    const uploads = new AbortController();
    await new CollaboratorService({
      client: {
        ...client,
        resendPending: async (o) => {
          given = o?.signal;
          return 0;
        },
      },
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
    }).run({ signal: new AbortController().signal, uploadSignal: uploads.signal });
    assert.equal(given, uploads.signal);
  });

  it("says once when a wait for tasks starts, again after tasks came, and warns after idleWarningSeconds", async () => {
    const script = [noTasks(0, 0.01), noTasks(0, 0.01), noTasks(0, 0.01), noTasks(0, 0)];
    const run = async (idleWarningSeconds: number) => {
      const log = recordingLogger();
      await new CollaboratorService({
        client: fakeClient([...script, tasksOf(["validate"], 0), noTasks(0, 0), quit]).client,
        collaboratorName: "col1",
        taskSet: recordingTaskSet([]),
        logger: log.logger,
        idleWarningSeconds,
      }).run();
      return log.events();
    };
    const long = await run(3600);
    assert.equal(long.filter((e) => e === "no tasks; waiting for the aggregator").length, 2);
    assert.equal(long.filter((e) => e === "still no tasks").length, 0);
    const short = await run(0.015);
    assert.ok(short.includes("still no tasks"), JSON.stringify(short));
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

  it("with useDeltaUpdates sends trained - model tagged delta (lossless false) from a model fetched whole, rebuilds the next round's model from the aggregated delta, and sends that round's tensor whole, as OpenFL does", async () => {
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
    // train returns [9, 9]: round 0 minus its whole model [0, 1]; round 1 whole, because
    // OpenFL's collaborator makes a delta only from a model it fetched whole that round (a model
    // rebuilt from an aggregated delta is cached under the aggregator's origin, not found).
    assert.deepEqual(uploads, [
      ["compressed,delta,trained", false, [9, 8]],
      ["compressed,trained", true, [9, 9]],
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

  it("after a stop during an upload, the round's next task does not start", async () => {
    const seen: TaskContext[] = [];
    const { client, sent } = fakeClient([tasksOf(["validate", "local"], 0), quit], {
      uploadDelayMs: 150,
    });
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet(seen),
    });
    const stop = new AbortController();
    const uploads = new AbortController();
    setTimeout(() => stop.abort(), 50);
    const outcome = await service.run({ signal: stop.signal, uploadSignal: uploads.signal });
    assert.deepEqual(outcome, { t: "aborted", tasksRun: 1 });
    assert.deepEqual(
      seen.map((c) => c.taskName),
      ["validate"],
    );
    assert.equal(sent.length, 1);
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

/** A logger that keeps every entry. */
function recordingLogger() {
  const entries: { level: string; event: string; fields: Record<string, unknown> }[] = [];
  const logger = (level: string, event: string, fields: Readonly<Record<string, unknown>> = {}) =>
    entries.push({ level, event, fields: { ...fields } });
  return { logger, entries, events: () => entries.map((e) => e.event) };
}

describe("CollaboratorService model requests (what GetAggregatedTensor asks for)", () => {
  /** The round-r model is [r, r + 1]; a delta answer is [100, 100], so taking one shows. */
  function deltaShowingClient(script: TaskAssignment[]) {
    const fake = fakeClient(script);
    const requests: { name: string; round: number; tags: string[]; lossless: unknown }[] = [];
    const client: CollaboratorClient = {
      ...fake.client,
      async getAggregatedTensor(name, round, o) {
        requests.push({ name, round, tags: [...(o?.tags ?? [])], lossless: o?.requireLossless });
        const delta = o?.tags?.includes("delta") ?? false;
        return encodeNamedTensor(
          { shape: [2], data: delta ? [100, 100] : [round, round + 1] },
          { name, roundNumber: round, tags: delta ? ["aggregated", "delta"] : ["model"] },
        );
      },
    };
    return { ...fake, client, requests };
  }
  const rounds = [tasksOf(["train"], 0), tasksOf(["train"], 1), tasksOf(["train"], 2), quit];

  it("with useDeltaUpdates false asks every round for the whole model (tags ['model'], require_lossless), never a delta", async () => {
    for (const useDeltaUpdates of [false, undefined]) {
      const seen: TaskContext[] = [];
      const { client, requests, sent } = deltaShowingClient(rounds);
      const service = new CollaboratorService({
        client,
        collaboratorName: "col1",
        taskSet: recordingTaskSet(seen),
        ...(useDeltaUpdates === undefined ? {} : { useDeltaUpdates }),
      });
      assert.deepEqual(await service.run(), { t: "quit", roundsWorked: 3, tasksRun: 3 });
      assert.deepEqual(requests, [
        { name: "w", round: 0, tags: ["model"], lossless: true },
        { name: "w", round: 1, tags: ["model"], lossless: true },
        { name: "w", round: 2, tags: ["model"], lossless: true },
      ]);
      assert.deepEqual(
        seen.map((c) => [...(c.model.w?.data ?? [])]),
        [
          [0, 1],
          [1, 2],
          [2, 3],
        ],
      );
      // Whole trained tensors, lossless, never "delta".
      for (const s of sent) {
        const w = s.tensors[0];
        assert.ok(w);
        assert.deepEqual([w.tags.join(","), w.lossless], ["compressed,trained", true]);
      }
    }
  });

  it("with useDeltaUpdates true asks round 0 for the whole model, and every later round for ('aggregated', 'delta', 'compressed') without require_lossless", async () => {
    const seen: TaskContext[] = [];
    const { client, requests } = deltaShowingClient(rounds);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet(seen),
      useDeltaUpdates: true,
    });
    await service.run();
    assert.deepEqual(requests, [
      { name: "w", round: 0, tags: ["model"], lossless: true },
      { name: "w", round: 1, tags: ["aggregated", "delta", "compressed"], lossless: false },
      { name: "w", round: 2, tags: ["aggregated", "delta", "compressed"], lossless: false },
    ]);
    // Each round's model is the previous round's plus the delta.
    assert.deepEqual(
      seen.map((c) => [...(c.model.w?.data ?? [])]),
      [
        [0, 1],
        [100, 101],
        [200, 201],
      ],
    );
  });
});

describe("CollaboratorService shutdown during a model download", () => {
  it("an abort while GetAggregatedTensor is in flight aborts the download at once and ends run() 'aborted', uploading nothing", async () => {
    const fake = fakeClient([tasksOf(["train"], 0), quit]);
    let downloadSignal: AbortSignal | undefined;
    let downloadStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      downloadStarted = resolve;
    });
    const client: CollaboratorClient = {
      ...fake.client,
      getAggregatedTensor(name, round, o) {
        downloadSignal = o?.signal;
        downloadStarted();
        // The download's own deadline: a download that ignores the signal ends after 3 s.
        return new Promise((resolve, reject) => {
          const timer = setTimeout(
            () =>
              resolve(
                encodeNamedTensor({ shape: [2], data: [0, 0] }, { name, roundNumber: round }),
              ),
            3000,
          );
          o?.signal?.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(o.signal?.reason);
          });
        });
      },
    };
    const seen: TaskContext[] = [];
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet(seen),
    });
    const stop = new AbortController();
    const uploads = new AbortController();
    const run = service.run({ signal: stop.signal, uploadSignal: uploads.signal });
    await started;
    const stopped = Date.now();
    stop.abort(new Error("stopped by SIGTERM"));
    assert.deepEqual(await run, { t: "aborted", tasksRun: 0 });
    const ms = Date.now() - stopped;
    assert.ok(ms < 1000, `the download went on for ${ms} ms after the stop`);
    assert.equal(downloadSignal?.aborted, true, "the download was not given the stop signal");
    assert.equal(seen.length, 0, "the task ran");
    assert.deepEqual(fake.sent, []);
  });

  it("an abort while a task runs hands the task the signal and ends run() 'aborted', not a task failure", async () => {
    const { client, sent } = fakeClient([tasksOf(["slow"], 0), quit]);
    let taskSignal: AbortSignal | undefined;
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: {
        tasks: {
          slow: {
            modelTensors: [],
            run: (ctx) =>
              new Promise((_resolve, reject) => {
                taskSignal = ctx.signal;
                const timer = setTimeout(() => reject(new Error("task deadline")), 3000);
                ctx.signal.addEventListener("abort", () => {
                  clearTimeout(timer);
                  reject(new Error("interrupted"));
                });
              }),
          },
        },
      },
    });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 50);
    const started = Date.now();
    assert.deepEqual(await service.run({ signal: stop.signal }), { t: "aborted", tasksRun: 0 });
    assert.ok(Date.now() - started < 1000);
    assert.equal(taskSignal, stop.signal);
    assert.deepEqual(sent, []);
  });

  it("a task that finishes after the abort uploads nothing", async () => {
    const { client, sent } = fakeClient([tasksOf(["late"], 0), quit]);
    const stop = new AbortController();
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: {
        tasks: {
          late: {
            modelTensors: [],
            run: async () => {
              stop.abort();
              return { dataSize: 1, metrics: { accuracy: 1 } };
            },
          },
        },
      },
    });
    const uploads = new AbortController();
    assert.deepEqual(await service.run({ signal: stop.signal, uploadSignal: uploads.signal }), {
      t: "aborted",
      tasksRun: 0,
    });
    assert.deepEqual(sent, []);
  });
});

describe("CollaboratorService limits and failures", () => {
  it("takes a progress interval from just above 0 to the longest timer, refusing 0, below and above", () => {
    const { client } = fakeClient([quit]);
    const base = { client, collaboratorName: "col1", taskSet: recordingTaskSet([]) };
    const longest = MAX_TIMER_MS / 1000;
    for (const refused of [-1, 0, (MAX_TIMER_MS + 1) / 1000, Number.NaN]) {
      assert.throws(
        () => new CollaboratorService({ ...base, progressIntervalSeconds: refused }),
        (e: unknown) =>
          e instanceof RangeError &&
          e.message ===
            `progressIntervalSeconds must be > 0 and at most ${longest} (the longest timer), got ${refused}`,
        String(refused),
      );
    }
    for (const accepted of [0.001, 1, longest - 0.001, longest]) {
      new CollaboratorService({ ...base, progressIntervalSeconds: accepted });
    }
  });

  it("takes maxSleepSeconds 0, 1 and Infinity, refusing -1", async () => {
    const { client } = fakeClient([quit]);
    const base = { client, collaboratorName: "col1", taskSet: recordingTaskSet([]) };
    assert.throws(
      () => new CollaboratorService({ ...base, maxSleepSeconds: -1 }),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message === "maxSleepSeconds must be >= 0 (or Infinity), got -1",
    );
    for (const accepted of [0, 1, Number.POSITIVE_INFINITY]) {
      new CollaboratorService({ ...base, maxSleepSeconds: accepted });
    }
    // maxSleepSeconds 0: a sleep_time of an hour does not delay the next poll.
    const zero = fakeClient([noTasks(0, 3600), noTasks(0, 3600), quit]);
    const service = new CollaboratorService({
      client: zero.client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
      maxSleepSeconds: 0,
    });
    const started = Date.now();
    assert.equal((await service.run()).t, "quit");
    assert.ok(Date.now() - started < 1000);
  });

  it("takes a negative sleep_time as no sleep", async () => {
    const { client, calls } = fakeClient([noTasks(0, -3600), quit]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
    });
    const started = Date.now();
    assert.equal((await service.run()).t, "quit");
    assert.ok(Date.now() - started < 1000);
    assert.equal(calls.filter((c) => c === "getTasks").length, 2);
  });

  it("rejects with TaskFailedError naming the task, the round and the task's error", async () => {
    const { client, sent } = fakeClient([tasksOf(["boom"], 4)]);
    const cause = new Error("out of memory");
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: {
        tasks: {
          boom: {
            modelTensors: [],
            run: async () => {
              throw cause;
            },
          },
        },
      },
    });
    await assert.rejects(service.run(), (e: unknown) => {
      assert.ok(e instanceof TaskFailedError);
      assert.equal(e.message, "task 'boom' (round 4) failed: out of memory");
      assert.deepEqual([e.taskName, e.round, e.cause], ["boom", 4, cause]);
      return true;
    });
    assert.deepEqual(sent, []);
  });

  it("passes an aggregator failure through (no abort: not 'aborted')", async () => {
    const failure = new Error("UNAVAILABLE");
    const { client } = fakeClient([quit]);
    const service = new CollaboratorService({
      client: {
        ...client,
        getTasks: async () => {
          throw failure;
        },
      },
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
    });
    await assert.rejects(service.run(), (e: unknown) => e === failure);
  });

  it("refuses, before uploading, a trained tensor outside the task's model tensors and the set's modelTensorNames", async () => {
    const { client, sent } = fakeClient([tasksOf(["train"], 0)]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: {
        tasks: {
          train: {
            modelTensors: ["w"],
            run: async () => ({
              dataSize: 1,
              tensors: {
                w: { shape: [2], data: Float32Array.of(1, 1) },
                v: { shape: [1], data: Float32Array.of(1) },
              },
            }),
          },
        },
      },
    });
    await assert.rejects(
      service.run(),
      (e: unknown) =>
        e instanceof TaskFailedError && /trained tensor 'v' .*\(its tensors: w\)/.test(e.message),
    );
    assert.deepEqual(sent, []);
  });

  it("keeps the round's local tensors when the round's tasks come in several answers, and counts rounds worked", async () => {
    const seen: TaskContext[] = [];
    const { client } = fakeClient([
      tasksOf(["train"], 0),
      tasksOf(["local"], 0),
      tasksOf(["train"], 1),
      quit,
    ]);
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet(seen),
    });
    assert.deepEqual(await service.run(), { t: "quit", roundsWorked: 2, tasksRun: 3 });
    assert.deepEqual([...(seen[1]?.localTensors.w?.data ?? [])], [9, 9]);
    assert.deepEqual(
      seen.map((c) => [c.taskName, c.round]),
      [
        ["train", 0],
        ["local", 0],
        ["train", 1],
      ],
    );
  });
});

describe("CollaboratorService log lines", () => {
  it("logs the round's tasks, each task's result, the quit and the resent uploads", async () => {
    const { client } = fakeClient([tasksOf(["validate"], 2), quit]);
    const log = recordingLogger();
    const service = new CollaboratorService({
      client: { ...client, resendPending: async () => 2 },
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
      logger: log.logger,
    });
    await service.run();
    const by = (event: string) => log.entries.find((e) => e.event === event)?.fields;
    assert.deepEqual(by("resent pending uploads"), { count: 2 });
    assert.deepEqual(by("tasks received"), { round: 2, tasks: ["validate"] });
    const done = by("task done");
    assert.equal(done?.task, "validate");
    assert.equal(done?.round, 2);
    assert.equal(done?.dataSize, 5);
    assert.equal(done?.accuracy, 0.5);
    assert.ok(typeof done?.ms === "number" && done.ms >= 0 && done.ms < 60_000, String(done?.ms));
    assert.deepEqual(by("results sent"), {
      round: 2,
      task: "validate",
      tensors: 1,
      lossyTensors: 0,
      bytes: 4,
    });
    assert.deepEqual(by("aggregator says quit"), { round: 1 });
    // No resent line when nothing was pending; no progress lines for small transfers.
    const quiet = recordingLogger();
    await new CollaboratorService({
      client: fakeClient([tasksOf(["train"], 0), quit]).client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
      logger: quiet.logger,
    }).run();
    assert.deepEqual(
      quiet.events().filter((e) => /resent|started|progress|done$/.test(e) && e !== "task done"),
      [],
    );
  });

  it("logs start, progress and end of a transfer at least progressMinBytes large, with its size and rate", async () => {
    const { client } = fakeClient([tasksOf(["train"], 0), quit], { uploadDelayMs: 250 });
    const log = recordingLogger();
    const service = new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
      logger: log.logger,
      progressMinBytes: 8,
      progressIntervalSeconds: 0.05,
    });
    await service.run();
    const upload = log.entries.filter((e) => e.event.startsWith("upload "));
    assert.equal(upload[0]?.event, "upload started");
    assert.deepEqual(upload[0]?.fields, { what: "train results", size: "8 B" });
    const progress = upload.filter((e) => e.event === "upload in progress");
    assert.ok(progress.length >= 1, "no progress line in 250 ms");
    // Every 50 ms, not every millisecond.
    assert.ok(progress.length <= 20, `${progress.length} progress lines in 250 ms`);
    assert.deepEqual(Object.keys(progress[0]?.fields ?? {}), ["what", "size", "elapsedSeconds"]);
    assert.ok((progress[0]?.fields.elapsedSeconds as number) <= 1);
    const done = upload.at(-1);
    assert.equal(done?.event, "upload done");
    assert.equal(done?.fields.what, "train results");
    assert.equal(done?.fields.size, "8 B");
    const seconds = done?.fields.seconds as number;
    assert.ok(seconds >= 0.2 && seconds < 60, String(seconds));
    assert.equal(done?.fields.rate, `${formatBytes(8 / seconds)}/s`);
    // The model download (8 bytes) is logged once done: its size is known only then.
    const download = log.entries.filter((e) => e.event.startsWith("download "));
    assert.deepEqual(
      download.map((e) => [e.event, e.fields.what, e.fields.size]),
      [["download done", "w", "8 B"]],
    );
    // A transfer one byte under the minimum logs nothing.
    const small = recordingLogger();
    await new CollaboratorService({
      client: fakeClient([tasksOf(["train"], 0), quit]).client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
      logger: small.logger,
      progressMinBytes: 9,
    }).run();
    assert.deepEqual(
      small.events().filter((e) => /^(upload|download) /.test(e)),
      [],
    );
  });

  it("logs 'stopped' with the tasks run when aborted", async () => {
    const { client } = fakeClient([noTasks(0, 3600)]);
    const log = recordingLogger();
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 20);
    await new CollaboratorService({
      client,
      collaboratorName: "col1",
      taskSet: recordingTaskSet([]),
      logger: log.logger,
    }).run({ signal: stop.signal });
    assert.deepEqual(log.entries.at(-1), {
      level: "info",
      event: "stopped",
      fields: { tasksRun: 0 },
    });
  });
});
