import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TensorCodecError } from "./errors.js";
import { elementCount, formatShape, sameShape } from "./tensor-shape.js";

describe("tensor shape", () => {
  it("formats a shape as OpenFL's messages do", () => {
    assert.equal(formatShape([]), "[]");
    assert.equal(formatShape([2, 3]), "[2, 3]");
  });

  it("counts 1 value for a scalar, 0 for an empty tensor, the product otherwise", () => {
    assert.equal(elementCount([], "t"), 1);
    assert.equal(elementCount([0, 5], "t"), 0);
    assert.equal(elementCount([1], "t"), 1);
    assert.equal(elementCount([2, 3, 4], "t"), 24);
  });

  it("refuses a negative or fractional dimension", () => {
    assert.throws(
      () => elementCount([2, -1], "tensor 'w'"),
      new TensorCodecError("tensor 'w': shape [2, -1] has an invalid dimension -1"),
    );
    assert.throws(
      () => elementCount([1.5], "tensor 'w'"),
      new TensorCodecError("tensor 'w': shape [1.5] has an invalid dimension 1.5"),
    );
  });

  it("compares shapes by length and every dimension", () => {
    assert.equal(sameShape([], []), true);
    assert.equal(sameShape([2, 3], [2, 3]), true);
    assert.equal(sameShape([2, 3], [2, 4]), false);
    assert.equal(sameShape([2], [2, 3]), false);
    assert.equal(sameShape([2, 3], [2]), false);
  });
});
