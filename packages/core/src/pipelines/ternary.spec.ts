import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ternarize } from "./ternary.js";

const ternary = (...values: number[]) => {
  const { levels, labels } = ternarize(Float64Array.from(values));
  return { levels, labels: Array.from(labels) };
};

describe("TernaryTransformer.forward", () => {
  it("maps each element by its sign to -m, 0 or m, m the mean magnitude over all elements", () => {
    assert.deepEqual(ternary(0, -2, 0, 4), { levels: [-1.5, 0, 1.5], labels: [1, 0, 1, 2] });
  });

  it("lists only the levels present, ascending", () => {
    assert.deepEqual(ternary(1, 3), { levels: [2], labels: [0, 0] });
    assert.deepEqual(ternary(0, 3), { levels: [0, 1.5], labels: [0, 1] });
    assert.deepEqual(ternary(-1, 3), { levels: [-2, 2], labels: [0, 1] });
    assert.deepEqual(ternary(-1, 0), { levels: [-0.5, 0], labels: [0, 1] });
    assert.deepEqual(ternary(-4), { levels: [-4], labels: [0] });
    assert.deepEqual(ternary(0, 0), { levels: [0], labels: [0, 0] });
  });

  it("rounds m to float32, as the wire's int_to_float does", () => {
    const a = Math.fround(0.1);
    const b = Math.fround(0.7);
    const m = Math.fround((a + b) / 3);
    assert.deepEqual(ternary(a, 0, b), { levels: [0, m], labels: [1, 0, 1] });
    assert.notEqual(m, (a + b) / 3);
  });
});
