import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TensorCodecError } from "../errors.js";
import { codesToValues, readCodes, tableIsOrderDependent } from "./lossy-codes.js";

function float32Bytes(...values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

describe("lossy codes", () => {
  it("reads four bytes per code", () => {
    assert.deepEqual(readCodes(float32Bytes(0, 2, 1), [3], 3, "t"), Float32Array.of(0, 2, 1));
    assert.deepEqual(readCodes(new Uint8Array(0), [0, 4], 0, "t"), new Float32Array(0));
  });

  it("refuses one byte too few or too many", () => {
    const message = (found: number) =>
      new TensorCodecError(
        `tensor 'w': shape [2, 1] needs 2 float32 codes (8 bytes), gunzipped data_bytes has ${found} bytes`,
      );
    assert.throws(() => readCodes(new Uint8Array(7), [2, 1], 2, "tensor 'w'"), message(7));
    assert.equal(readCodes(new Uint8Array(8), [2, 1], 2, "tensor 'w'").length, 2);
    assert.throws(() => readCodes(new Uint8Array(9), [2, 1], 2, "tensor 'w'"), message(9));
  });

  it("maps each code to its table value", () => {
    const codes = Float32Array.of(0, 2, 1, 1, 0);
    assert.deepEqual(
      codesToValues(codes, { 0: -0.5, 1: 0, 2: 0.5 }, "t"),
      Float32Array.of(-0.5, 0.5, 0, 0, -0.5),
    );
    assert.deepEqual(codesToValues(new Float32Array(0), {}, "t"), new Float32Array(0));
  });

  it("reads code -0 as code 0, as numpy's comparison does", () => {
    assert.deepEqual(codesToValues(Float32Array.of(-0), { 0: 7 }, "t"), Float32Array.of(7));
  });

  it("refuses a code with no table entry: unknown, fractional or NaN", () => {
    const refused = (code: number, size: number) =>
      new TensorCodecError(
        `tensor 'w': code ${code} of element 1 has no int_to_float entry (the table has ${size} codes)`,
      );
    const table = { 0: 1, 1: 2 };
    assert.throws(() => codesToValues(Float32Array.of(0, 2), table, "tensor 'w'"), refused(2, 2));
    assert.throws(
      () => codesToValues(Float32Array.of(1, 0.5), table, "tensor 'w'"),
      refused(0.5, 2),
    );
    assert.throws(
      () => codesToValues(Float32Array.of(0, Number.NaN), { 0: 1 }, "tensor 'w'"),
      refused(Number.NaN, 1),
    );
  });

  it("finds no order dependence when no value is another code with a different value", () => {
    assert.equal(tableIsOrderDependent({}), false);
    assert.equal(tableIsOrderDependent({ 0: 5 }), false);
    assert.equal(tableIsOrderDependent({ 0: 0, 1: 1, 2: 2 }), false);
    assert.equal(tableIsOrderDependent({ 0: -0 }), false);
    assert.equal(tableIsOrderDependent({ 0: 1, 1: 1 }), false);
    assert.equal(tableIsOrderDependent({ 0: -0.2, 1: 0.5, 2: 1.5 }), false);
    assert.equal(tableIsOrderDependent({ 0: Number.NaN, 1: 3 }), false);
  });

  it("finds order dependence when a value is another code whose value differs", () => {
    // STC's table when the mean magnitude is exactly 1: OpenFL may turn the +1 into 0.
    assert.equal(tableIsOrderDependent({ 0: -1, 1: 0, 2: 1 }), true);
    // KC's table of [1, 3] (fewer values than clusters): OpenFL may decode [3, 3].
    assert.equal(tableIsOrderDependent({ 0: 1, 1: 3 }), true);
    // Only the sign of zero differs.
    assert.equal(tableIsOrderDependent({ 0: 0, 1: -0 }), true);
    assert.equal(tableIsOrderDependent({ 0: -0, 1: 0 }), true);
  });
});
