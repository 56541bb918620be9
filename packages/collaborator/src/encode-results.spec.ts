import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeNamedTensor } from "@openfl-connect/core";
import { encodeResults, RoundTensorKeys, TaskFailedError } from "./encode-results.js";

const options = { taskName: "train", round: 3, metricTags: [] };

describe("encodeResults", () => {
  it("tags trained tensors ['trained'] and metrics as 0-d ['metric'] report=true, both 'compressed'", () => {
    const [bias, loss] = encodeResults(
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

  it("adds the task's metric tags to its metrics only", () => {
    const [w, accuracy] = encodeResults(
      { dataSize: 1, tensors: { w: { shape: [1], data: [1] } }, metrics: { accuracy: 1 } },
      { ...options, metricTags: ["validate_local"] },
    );
    assert.deepEqual(w?.tags, ["compressed", "trained"]);
    assert.deepEqual(accuracy?.tags, ["compressed", "metric", "validate_local"]);
  });

  it("sends a trained tensor as a delta only when its base is held and has its size", () => {
    const [w, b] = encodeResults(
      {
        dataSize: 1,
        tensors: { w: { shape: [2], data: [5, 5] }, b: { shape: [1], data: [7] } },
      },
      {
        ...options,
        deltaBase: (name) =>
          name === "w" ? { shape: [2], data: Float32Array.of(1, 2) } : undefined,
      },
    );
    assert.deepEqual([w?.tags, w?.lossless], [["compressed", "delta", "trained"], false]);
    assert.deepEqual(w && [...decodeNamedTensor(w).data], [4, 3]);
    assert.deepEqual([b?.tags, b?.lossless], [["compressed", "trained"], true]);
  });

  it("refuses a trained tensor the model does not have, naming the model's tensors", () => {
    const result = {
      dataSize: 1,
      tensors: { "dense.bais": { shape: [2], data: Float32Array.of(1, 2) } },
    };
    assert.throws(
      () => encodeResults(result, { ...options, modelTensorNames: ["dense.weight", "dense.bias"] }),
      (e: unknown) =>
        e instanceof TaskFailedError &&
        /trained tensor 'dense\.bais' is not a tensor of the model \(its tensors: dense\.weight, dense\.bias\)/.test(
          e.message,
        ),
    );
    // Without a declared model nothing is checked; metrics may have any name.
    assert.equal(encodeResults(result, options).length, 1);
    const metric = { dataSize: 1, metrics: { anything: 1 } };
    assert.equal(encodeResults(metric, { ...options, modelTensorNames: ["w"] }).length, 1);
  });

  it("rejects a result without a whole dataSize", () => {
    assert.throws(
      () => encodeResults({ dataSize: 1.5 }, options),
      /dataSize must be a whole number/,
    );
  });
});

describe("RoundTensorKeys", () => {
  const metric = (tags: string[]) =>
    encodeResults({ dataSize: 1, metrics: { accuracy: 0.5 } }, { ...options, metricTags: tags });

  it("refuses a second task's tensor with the same name and tags in a round", () => {
    const keys = new RoundTensorKeys();
    keys.claim(0, "a", metric([]));
    assert.throws(() => keys.claim(0, "b", metric([])), TaskFailedError);
  });

  it("accepts the same name with other tags, the same task again, and the next round", () => {
    const keys = new RoundTensorKeys();
    keys.claim(0, "a", metric(["validate_agg"]));
    keys.claim(0, "b", metric(["validate_local"]));
    keys.claim(0, "a", metric(["validate_agg"]));
    keys.claim(1, "b", metric(["validate_agg"]));
  });
});
