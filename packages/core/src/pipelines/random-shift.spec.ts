import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidOptionError, TensorCodecError } from "../errors.js";
import { SHIFT_BOUND, shiftedValues, undoRandomShift } from "./random-shift.js";

describe("RandomShift backward", () => {
  it("subtracts each element's shift in C order", () => {
    const values = Float32Array.of(10.5, -3, 0.25);
    assert.deepEqual(
      undoRandomShift(values, { 0: 0.5, 1: -4, 2: 0.25 }, "t"),
      Float32Array.of(10, 1, 0),
    );
  });

  it("rounds the float64 difference once to float32", () => {
    // 2^24 - 0.5 is not a float32: it rounds (to even) to 2^24.
    assert.deepEqual(
      undoRandomShift(Float32Array.of(16777216), { 0: 0.5 }, "t"),
      Float32Array.of(16777216),
    );
    assert.deepEqual(
      undoRandomShift(Float32Array.of(16777216), { 0: 1 }, "t"),
      Float32Array.of(16777215),
    );
  });

  it("decodes an empty tensor with an empty table", () => {
    assert.deepEqual(undoRandomShift(new Float32Array(0), {}, "t"), new Float32Array(0));
  });

  it("refuses one shift too few or too many", () => {
    assert.throws(
      () => undoRandomShift(Float32Array.of(1, 2), { 0: 1 }, "tensor 'w'"),
      new TensorCodecError(
        "tensor 'w': RandomShiftPipeline's int_to_float holds 1 shifts, the tensor has 2 elements",
      ),
    );
    assert.throws(
      () => undoRandomShift(Float32Array.of(1, 2), { 0: 1, 1: 2, 2: 3 }, "tensor 'w'"),
      new TensorCodecError(
        "tensor 'w': RandomShiftPipeline's int_to_float holds 3 shifts, the tensor has 2 elements",
      ),
    );
  });

  it("refuses keys other than 0..n-1", () => {
    assert.throws(
      () => undoRandomShift(Float32Array.of(1, 2, 3), { 0: 1, 2: 2, 3: 3 }, "tensor 'w'"),
      new TensorCodecError(
        "tensor 'w': RandomShiftPipeline's int_to_float has no shift for element 1 (keys must be 0..2)",
      ),
    );
  });
});

describe("RandomShift forward", () => {
  const draws = (...values: number[]) => {
    let i = 0;
    return () => values[i++] as number;
  };

  it("shifts by -20 + 40 r as float32, one draw per element in C order", () => {
    const { values, shifts } = shiftedValues(
      Float32Array.of(1, 2, 3, 4),
      draws(0, 0.25, 0.5, 0.75),
    );
    assert.deepEqual(shifts, Float32Array.of(-20, -10, 0, 10));
    assert.deepEqual(values, Float32Array.of(-19, -8, 3, 14));
    assert.equal(SHIFT_BOUND, 20);
  });

  it("rounds shift and sum to float32 (a shift may round up to 20 itself)", () => {
    const { values, shifts } = shiftedValues(Float32Array.of(0.1, 1e-3), draws(0.999999999, 0.3));
    assert.deepEqual(shifts, Float32Array.of(20, Math.fround(-20 + 40 * 0.3)));
    assert.deepEqual(
      values,
      Float32Array.of(
        Math.fround(Math.fround(0.1) + 20),
        Math.fround(Math.fround(1e-3) + (shifts[1] as number)),
      ),
    );
  });

  it("shifts nothing for an empty tensor, without drawing", () => {
    const none = () => assert.fail("no draw expected");
    assert.deepEqual(shiftedValues(new Float32Array(0), none), {
      values: new Float32Array(0),
      shifts: new Float32Array(0),
    });
  });

  it("refuses a draw outside [0, 1)", () => {
    for (const r of [1, -0.5, Number.NaN, 2]) {
      assert.throws(
        () => shiftedValues(Float32Array.of(5), () => r),
        (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError);
          assert.equal(
            error.message,
            `option 'random': expected a function returning numbers in [0, 1), got number ${r}`,
          );
          return true;
        },
      );
    }
    assert.deepEqual(shiftedValues(Float32Array.of(5), () => 0).shifts, Float32Array.of(-20));
  });
});
