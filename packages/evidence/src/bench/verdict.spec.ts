import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { verdict } from "./verdict.js";

describe("benchmark verdict", () => {
  it("reads 'no figure' when a run produced none, whatever the comparison says", () => {
    const best = Math.min(...([] as number[])); // Infinity: the best of no rows
    assert.equal(verdict(1 / best <= 2, best, 1.5), "no figure");
    const peak = Number(undefined); // NaN: an RSS reading that never came
    assert.equal(verdict(!(peak > 10), peak), "no figure");
  });

  it("reads 'holds' or 'MISSED' from the comparison when every figure is there", () => {
    assert.deepEqual([verdict(true, 1, 2), verdict(false, 1, 2)], ["holds", "MISSED"]);
  });
});
