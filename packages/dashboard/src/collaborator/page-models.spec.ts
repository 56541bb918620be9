import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backendPreference, pageModelFrom, useDeltaUpdatesFrom } from "./page-models.js";

describe("what the federation's link says about the model and the plan", () => {
  it("model=: the softmax regression by default, the digits CNN by name, anything else refused", () => {
    assert.equal(pageModelFrom("?aggregatorUuid=a"), "softmax");
    assert.equal(pageModelFrom("?model=digits-cnn"), "digits-cnn");
    assert.throws(
      () => pageModelFrom("?model=resnet"),
      /model="resnet" is not one of: softmax, digits-cnn/,
    );
  });

  it("backends=: WebGL then CPU by default, the link's list otherwise", () => {
    assert.deepEqual(backendPreference(""), ["webgl", "cpu"]);
    assert.deepEqual(backendPreference("?backends=cpu"), ["cpu"]);
  });

  it("useDeltaUpdates=: false by default, true or false only", () => {
    assert.equal(useDeltaUpdatesFrom(""), false);
    assert.equal(useDeltaUpdatesFrom("?useDeltaUpdates=true"), true);
    assert.throws(() => useDeltaUpdatesFrom("?useDeltaUpdates=yes"), /must be true or false/);
  });
});
