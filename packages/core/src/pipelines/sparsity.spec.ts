import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keptCount, sparsify, TOPK_NUDGE } from "./sparsity.js";

const f = Math.fround;

describe("SparsityTransformer.forward", () => {
  it("keeps ceil(n * p) elements, computed in float64 as numpy does", () => {
    assert.equal(keptCount(10, 0.1), 1);
    assert.equal(keptCount(30, 0.1), 3);
    assert.equal(keptCount(100, 0.07), 8); // 100 * 0.07 = 7.000000000000001
    assert.equal(keptCount(1, 0.1), 1);
    assert.equal(keptCount(20, 0.5), 10);
    assert.equal(keptCount(7, 1), 7);
    assert.equal(keptCount(0, 0.1), 0);
  });

  it("nudges by OpenFL's 10e-8, as float32", () => {
    assert.equal(TOPK_NUDGE, f(1e-7));
    assert.notEqual(TOPK_NUDGE, 1e-7);
  });

  it("keeps the largest magnitudes and zeroes the rest, in float64", () => {
    const sparse = sparsify(Float32Array.of(3, 1, 0.5, -0.25), 2);
    assert.ok(sparse instanceof Float64Array);
    assert.deepEqual(sparse, Float64Array.of(3, 1, 0, 0));
  });

  it("adds 1e-7 (in float32) to every kept value when the smallest kept one is below it", () => {
    const sparse = sparsify(Float32Array.of(-0.5, 2, 0.25), 2);
    assert.deepEqual(sparse, Float64Array.of(f(-0.5 + TOPK_NUDGE), f(2 + TOPK_NUDGE), 0));
    assert.notEqual(sparse[0], -0.5); // visible at 0.5
    assert.equal(sparse[1], 2); // lost in float32 rounding at 2
  });

  it("nudges below 1e-7 only: a kept value of exactly float32 1e-7 is not nudged", () => {
    assert.deepEqual(sparsify(Float32Array.of(TOPK_NUDGE, 0), 1), Float64Array.of(TOPK_NUDGE, 0));
    const below = f(9e-8);
    assert.deepEqual(
      sparsify(Float32Array.of(0, below), 1),
      Float64Array.of(0, f(below + TOPK_NUDGE)),
    );
  });

  it("between equal magnitudes keeps the later elements", () => {
    assert.deepEqual(
      sparsify(Float32Array.of(1, -1, 1, 0.5), 2),
      Float64Array.of(0, f(-1 + TOPK_NUDGE), f(1 + TOPK_NUDGE), 0),
    );
    assert.deepEqual(sparsify(Float32Array.of(2, 2, 2), 1), Float64Array.of(0, 0, 2));
    assert.deepEqual(sparsify(Float32Array.of(2, 5, 2, 2), 3), Float64Array.of(0, 5, 2, 2));
  });

  it("turns kept zeros into 1e-7 (all zeros: the last ones)", () => {
    assert.deepEqual(
      sparsify(new Float32Array(4), 2),
      Float64Array.of(0, 0, TOPK_NUDGE, TOPK_NUDGE),
    );
  });

  it("keeps everything when kept is the element count", () => {
    assert.deepEqual(
      sparsify(Float32Array.of(4, -0.5, 1), 3),
      Float64Array.of(4, f(-0.5 + TOPK_NUDGE), f(1 + TOPK_NUDGE)),
    );
    assert.deepEqual(sparsify(Float32Array.of(7), 1), Float64Array.of(7));
  });
});
