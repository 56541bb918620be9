import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TensorCodecError } from "./errors.js";
import { applyDelta, generateDelta } from "./tensor-delta.js";

describe("tensor deltas (OpenFL's generate_delta / apply_delta)", () => {
  it("subtracts and adds element by element in float32", () => {
    const delta = generateDelta({ data: [4, 2, 0.75] }, { data: Float32Array.of(1, 2, 0.5) }, "w");
    assert.ok(delta instanceof Float32Array);
    assert.deepEqual([...delta], [3, 0, 0.25]);
    assert.deepEqual([...applyDelta({ data: [1, 1] }, { data: [2, 3] }, "w")], [3, 4]);
  });

  it("refuses a delta whose size differs from its base, naming the tensor", () => {
    assert.throws(
      () => applyDelta({ data: [1, 2] }, { data: [1] }, "dense.bias"),
      (e: unknown) =>
        e instanceof TensorCodecError && /'dense.bias'.*2 values, got 1/.test(e.message),
    );
  });

  it("refuses to generate a delta against a base of another size", () => {
    assert.throws(
      () => generateDelta({ data: [1, 2, 3] }, { data: [1, 2] }, "conv/kernel"),
      (e: unknown) =>
        e instanceof TensorCodecError &&
        e.message === "tensor 'conv/kernel': a delta needs the base's 2 values, got 3",
    );
  });
});
