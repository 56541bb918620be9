import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pairwiseSum } from "./pairwise-sum.js";

/** 1e16 every eighth element, else 1, 2 or 3: each branch of numpy's summation rounds apart. */
function values(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => (i % 8 === 0 ? 1e16 : 1 + (i % 3)));
}

function naiveSum(a: Float64Array): number {
  let sum = 0;
  for (const v of a) sum += v;
  return sum;
}

describe("pairwiseSum (numpy's np.add.reduce of float64)", () => {
  it("equals numpy's sum bit for bit (values printed by numpy 2.3)", () => {
    const numpy: [number, number][] = [
      [0, 0],
      [3, 1.0000000000000004e16],
      [7, 1.0000000000000008e16],
      [8, 1.0000000000000014e16],
      [9, 2.0000000000000016e16],
      [16, 2.0000000000000028e16],
      [20, 3.000000000000003e16],
      [128, 1.6000000000000022e17],
      [129, 1.7000000000000022e17],
      [300, 3.800000000000005e17],
      [1000, 1.2500000000000018e18],
    ];
    for (const [n, sum] of numpy) assert.equal(pairwiseSum(values(n)), sum, `n = ${n}`);
  });

  it("splits where numpy does: 128 values in one block of eight accumulators, more in halves rounded down to a multiple of 8", () => {
    // 2^53 then ones: every 1 added to 2^53 alone is lost, so the sum tells which ones were
    // summed first with each other. numpy 2.3: 112 over 2^53 for n = 128 (one block), 240 for
    // 256 (two blocks), 290 for 300 (halves of 144 and 156, not 156 and 144).
    for (const [n, over] of [
      [128, 112],
      [256, 240],
      [300, 290],
    ] as const) {
      const a = new Float64Array(n).fill(1);
      a[0] = 2 ** 53;
      assert.equal(pairwiseSum(a) - 2 ** 53, over, `n = ${n}`);
    }
  });

  it("sums fewer than 8 values in order, and 8 or more differently from a plain loop", () => {
    assert.equal(pairwiseSum(values(7)), naiveSum(values(7)));
    assert.notEqual(pairwiseSum(values(8)), naiveSum(values(8)));
    assert.notEqual(pairwiseSum(values(300)), naiveSum(values(300)));
  });

  it("sums a range given by start and count", () => {
    const a = Float64Array.of(100, 1, 2, 3, 100);
    assert.equal(pairwiseSum(a, 1, 3), 6);
    assert.equal(pairwiseSum(a, 2), 105);
    assert.equal(pairwiseSum(values(400), 200, 129), pairwiseSum(values(400).slice(200, 329)));
  });
});
