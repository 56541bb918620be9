import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeNamedTensor } from "@openfl-connect/core";
import { encodeResults, RoundTensorKeys, TaskFailedError } from "./encode-results.js";

const options = { taskName: "train", round: 3, metricTags: [] };

describe("encodeResults", () => {
  it("tags trained tensors ['trained'] and metrics as 0-d ['metric'] report=true, both 'compressed'", async () => {
    const [bias, loss] = await encodeResults(
      {
        dataSize: 10,
        tensors: { "dense.bias": { shape: [2], data: Float32Array.of(1, 2) } },
        metrics: { loss: 0.25 },
      },
      options,
    );
    assert.ok(bias && loss);
    assert.deepEqual(
      [bias.tags, bias.report, bias.lossless, bias.roundNumber],
      [["compressed", "trained"], false, true, 3],
    );
    assert.deepEqual([loss.tags, loss.report], [["compressed", "metric"], true]);
    assert.deepEqual(decodeNamedTensor(loss).shape, []);
    assert.deepEqual([...decodeNamedTensor(loss).data], [0.25]);
  });

  it("adds the task's metric tags to its metrics only", async () => {
    const [w, accuracy] = await encodeResults(
      { dataSize: 1, tensors: { w: { shape: [1], data: [1] } }, metrics: { accuracy: 1 } },
      { ...options, metricTags: ["validate_local"] },
    );
    assert.deepEqual(w?.tags, ["compressed", "trained"]);
    assert.deepEqual(accuracy?.tags, ["compressed", "metric", "validate_local"]);
  });

  it("sends a trained tensor as a delta only when its base is held and has its size", async () => {
    const [w, b] = await encodeResults(
      {
        dataSize: 1,
        tensors: { w: { shape: [2], data: [5, 5] }, b: { shape: [1], data: [7] } },
      },
      {
        ...options,
        useDeltaUpdates: true,
        // b's base has another size (the model changed shape): b goes whole.
        roundModel: () => ({ shape: [2], data: Float32Array.of(1, 2) }),
      },
    );
    assert.deepEqual([w?.tags, w?.lossless], [["compressed", "delta", "trained"], false]);
    assert.deepEqual(w && [...decodeNamedTensor(w).data], [4, 3]);
    assert.deepEqual([b?.tags, b?.lossless], [["compressed", "trained"], true]);
  });

  it("sends whole tensors without useDeltaUpdates, though the round's model is held", async () => {
    const [w] = await encodeResults(
      { dataSize: 1, tensors: { w: { shape: [2], data: [5, 5] } } },
      { ...options, roundModel: () => ({ shape: [2], data: Float32Array.of(1, 2) }) },
    );
    assert.deepEqual([w?.tags, w?.lossless], [["compressed", "trained"], true]);
    assert.deepEqual(w && [...decodeNamedTensor(w).data], [5, 5]);
  });

  it("refuses a trained tensor the model does not have, naming the model's tensors", async () => {
    const result = {
      dataSize: 1,
      tensors: { "dense.bais": { shape: [2], data: Float32Array.of(1, 2) } },
    };
    await assert.rejects(
      () => encodeResults(result, { ...options, modelTensorNames: ["dense.weight", "dense.bias"] }),
      (e: unknown) =>
        e instanceof TaskFailedError &&
        /trained tensor 'dense\.bais' is not a tensor of the model \(its tensors: dense\.weight, dense\.bias\)/.test(
          e.message,
        ),
    );
    // Without a declared model nothing is checked; metrics may have any name.
    assert.equal((await encodeResults(result, options)).length, 1);
    const metric = { dataSize: 1, metrics: { anything: 1 } };
    assert.equal((await encodeResults(metric, { ...options, modelTensorNames: ["w"] })).length, 1);
  });

  it("rejects a result without a whole dataSize", async () => {
    await assert.rejects(
      () => encodeResults({ dataSize: 1.5 }, options),
      /dataSize must be a whole number/,
    );
  });

  it("takes dataSize from 0 to 2147483647 (data_size is an int32) and refuses -1 and 2147483648, naming the field, the task and the round", async () => {
    for (const refused of [-1, 2147483648, Number.NaN, Number.POSITIVE_INFINITY, undefined, "5"]) {
      await assert.rejects(
        () => encodeResults({ dataSize: refused, metrics: { accuracy: 1 } }, options),
        (e: unknown) =>
          e instanceof TaskFailedError &&
          e.name === "TaskFailedError" &&
          e.taskName === "train" &&
          e.round === 3 &&
          e.message ===
            `task 'train' (round 3) failed: dataSize must be a whole number from 0 to 2147483647 (or -1, no data size, for analytics alone), got ${String(refused)}`,
        String(refused),
      );
    }
    for (const accepted of [0, 1, 2147483646, 2147483647]) {
      assert.equal(
        (await encodeResults({ dataSize: accepted }, options)).length,
        0,
        String(accepted),
      );
    }
  });

  it("sends analytics results tagged ['analytics', 'compressed'], report false, lossless, with data_size -1 allowed for them alone", async () => {
    const histogram = { shape: [3], data: Float32Array.of(4, 0, 7) };
    const [h] = await encodeResults(
      { dataSize: -1, analytics: { "sepal length (cm) histogram": histogram } },
      { ...options, taskName: "analytics" },
    );
    assert.ok(h);
    assert.deepEqual(
      [h.name, h.tags, h.report, h.lossless],
      ["sepal length (cm) histogram", ["analytics", "compressed"], false, true],
    );
    assert.deepEqual([...decodeNamedTensor(h).data], [4, 0, 7]);
    // -1 with anything the aggregator weights by data_size is refused.
    for (const weighted of [
      { metrics: { accuracy: 1 } },
      { tensors: { w: { shape: [1], data: Float32Array.of(1) } } },
    ]) {
      await assert.rejects(
        encodeResults({ dataSize: -1, analytics: { h: histogram }, ...weighted }, options),
        /dataSize must be a whole number from 0 to 2147483647 \(or -1, no data size, for analytics alone\), got -1/,
      );
    }
    await assert.rejects(
      encodeResults({ dataSize: -2, analytics: { h: histogram } }, options),
      TaskFailedError,
    );
  });

  it("refuses a result that is not an object, and a metric that is not a number", async () => {
    for (const result of [null, undefined, 5, "result"]) {
      await assert.rejects(
        () => encodeResults(result, options),
        (e: unknown) =>
          e instanceof TaskFailedError &&
          e.message === "task 'train' (round 3) failed: returned no result object",
      );
    }
    await assert.rejects(
      () => encodeResults({ dataSize: 1, metrics: { loss: "0.5" } }, options),
      (e: unknown) =>
        e instanceof TaskFailedError &&
        e.message === "task 'train' (round 3) failed: metric 'loss' is not a number",
    );
  });

  it("sends every tensor and metric in order, each tagged with the results' round", async () => {
    const named = await encodeResults(
      {
        dataSize: 2,
        tensors: { a: { shape: [1], data: [1] }, b: { shape: [1], data: [2] } },
        metrics: { loss: 1, accuracy: 0.5 },
      },
      { ...options, round: 7, modelTensorNames: ["a", "b"] },
    );
    assert.deepEqual(
      named.map((t) => [t.name, t.roundNumber, t.report]),
      [
        ["a", 7, false],
        ["b", 7, false],
        ["loss", 7, true],
        ["accuracy", 7, true],
      ],
    );
  });
});

describe("RoundTensorKeys", () => {
  const metric = (tags: string[]) =>
    encodeResults({ dataSize: 1, metrics: { accuracy: 0.5 } }, { ...options, metricTags: tags });

  it("refuses a second task's tensor with the same name and tags in a round", async () => {
    const keys = new RoundTensorKeys();
    keys.claim(0, "a", await metric([]));
    const again = await metric([]);
    assert.throws(() => keys.claim(0, "b", again), TaskFailedError);
  });

  it("names the tensor, its tags, both tasks and the fix when refusing", async () => {
    const keys = new RoundTensorKeys();
    keys.claim(2, "check_a", await metric(["validate_agg"]));
    const same = await metric(["validate_agg"]);
    assert.throws(
      () => keys.claim(2, "check_b", same),
      (e: unknown) =>
        e instanceof TaskFailedError &&
        e.taskName === "check_b" &&
        e.round === 2 &&
        e.message.includes(
          "its tensor 'accuracy' (tags metric, validate_agg) has the same name and tags as one task 'check_a' sent this round",
        ) &&
        e.message.includes("metricTags"),
    );
  });

  it("keys a delta as the tensor it rebuilds: a trained delta repeats the same trained tensor", async () => {
    const trained = (delta: boolean) =>
      encodeResults(
        { dataSize: 1, tensors: { w: { shape: [1], data: [2] } } },
        {
          ...options,
          useDeltaUpdates: delta,
          roundModel: () => ({ shape: [1], data: Float32Array.of(1) }),
        },
      );
    const keys = new RoundTensorKeys();
    keys.claim(0, "a", await trained(true));
    const whole = await trained(false);
    assert.throws(() => keys.claim(0, "b", whole), TaskFailedError);
  });

  it("tells a metric (report true) from a trained tensor of the same name and tags apart", async () => {
    const keys = new RoundTensorKeys();
    const asMetric = await encodeResults({ dataSize: 1, metrics: { w: 1 } }, options);
    const asTrained = await encodeResults(
      { dataSize: 1, tensors: { w: { shape: [], data: [1] } } },
      options,
    );
    keys.claim(0, "a", asMetric);
    keys.claim(0, "b", asTrained);
  });

  it("forgets the previous round's keys, also when a round comes back", async () => {
    const keys = new RoundTensorKeys();
    keys.claim(0, "a", await metric([]));
    keys.claim(1, "c", await metric(["x"]));
    // Round 0 again (e.g. a resend after a restart): a's keys are gone.
    keys.claim(0, "b", await metric([]));
    const repeated = await metric([]);
    assert.throws(() => keys.claim(0, "a", repeated), TaskFailedError);
  });

  it("accepts the same name with other tags, the same task again, and the next round", async () => {
    const keys = new RoundTensorKeys();
    keys.claim(0, "a", await metric(["validate_agg"]));
    keys.claim(0, "b", await metric(["validate_local"]));
    keys.claim(0, "a", await metric(["validate_agg"]));
    keys.claim(1, "b", await metric(["validate_agg"]));
  });
});
