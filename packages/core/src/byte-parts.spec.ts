import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { concatParts, copyParts, partsByteLength } from "./byte-parts.js";

describe("byte parts", () => {
  const parts = [Uint8Array.of(1, 2), Uint8Array.of(), Uint8Array.of(3)];

  it("joins parts in order and counts their bytes", () => {
    assert.equal(partsByteLength(parts), 3);
    assert.deepEqual([...concatParts(parts)], [1, 2, 3]);
    assert.deepEqual([...copyParts(parts)], [1, 2, 3]);
  });

  it("returns a single part itself from concatParts, but always a copy from copyParts", () => {
    const backing = new Uint8Array([9, 1, 2, 9]);
    const view = backing.subarray(1, 3);
    assert.equal(concatParts([view]), view);
    const copy = copyParts([view]);
    assert.notEqual(copy.buffer, backing.buffer);
    backing[1] = 7;
    assert.deepEqual([...copy], [1, 2]);
  });
});
