import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { codeValues } from "./code-table.js";

const coded = (levels: number[], labels: number[]) => {
  const { table, codes } = codeValues({ levels, labels: Uint32Array.from(labels) });
  assert.ok(codes instanceof Float32Array);
  return { table, codes: Array.from(codes) };
};

describe("code table (OpenFL's _float_to_int)", () => {
  it("numbers the ascending levels 0, 1, 2, ... as OpenFL does", () => {
    assert.deepEqual(coded([-0.5, 0.25, 3.5], [2, 0, 1, 1]), {
      table: { 0: -0.5, 1: 0.25, 2: 3.5 },
      codes: [2, 0, 1, 1],
    });
    assert.deepEqual(coded([0], [0, 0]), { table: { 0: 0 }, codes: [0, 0] });
    assert.deepEqual(coded([-2, 1, 3], [0]), { table: { 0: -2, 1: 1, 2: 3 }, codes: [0] });
  });

  it("starts the codes higher where a level would be another level's code", () => {
    // STC's usual table {0: -m, 1: 0, 2: m}: 0 is code 0's key.
    assert.deepEqual(coded([-0.3, 0, 0.3], [1, 0, 2]), {
      table: { 1: -0.3, 2: 0, 3: 0.3 },
      codes: [2, 1, 3],
    });
    // Mean magnitude 1: offsets 0 and 1 both collide.
    assert.deepEqual(coded([-1, 0, 1], [0, 1, 2]), {
      table: { 2: -1, 3: 0, 4: 1 },
      codes: [2, 3, 4],
    });
    // A level equal to its own code is harmless.
    assert.deepEqual(coded([1, 2], [1, 0]), { table: { 1: 1, 2: 2 }, codes: [2, 1] });
    assert.deepEqual(coded([-3, 0, 2], [0, 1, 2]), {
      table: { 3: -3, 4: 0, 5: 2 },
      codes: [3, 4, 5],
    });
  });

  it("codes no elements for an empty tensor", () => {
    assert.deepEqual(coded([], []), { table: {}, codes: [] });
  });
});
