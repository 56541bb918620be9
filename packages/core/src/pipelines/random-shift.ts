import { InvalidOptionError, TensorCodecError } from "../errors.js";

/** RandomShiftTransformer's shifts are uniform in [-SHIFT_BOUND, SHIFT_BOUND). */
export const SHIFT_BOUND = 20;

/**
 * OpenFL: RandomShiftTransformer.backward. The sender sent v = x + s (float32), s_i being
 * int_to_float[i] for element i in C order; this returns v - s. OpenFL computes the difference
 * in float64 (its shifts are a float64 array) and keeps it so; here it is rounded once to
 * float32, which is what OpenFL's value becomes as soon as it is cast to float32.
 */
export function undoRandomShift(
  values: Float32Array,
  shifts: { readonly [index: number]: number },
  where: string,
): Float32Array {
  const count = Object.keys(shifts).length;
  if (count !== values.length) {
    throw new TensorCodecError(
      `${where}: RandomShiftPipeline's int_to_float holds ${count} shifts, the tensor has ${values.length} elements`,
    );
  }
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const shift = shifts[i];
    if (shift === undefined) {
      throw new TensorCodecError(
        `${where}: RandomShiftPipeline's int_to_float has no shift for element ${i} (keys must be 0..${count - 1})`,
      );
    }
    out[i] = (values[i] as number) - shift;
  }
  return out;
}

/**
 * OpenFL: RandomShiftTransformer.forward. Each shift is numpy's `uniform(low=-20, high=20)`,
 * `-20 + 40 r` for r uniform in [0, 1), cast to float32 (so it may round to 20 itself); each
 * value is `x + s` in float32. `random` must return numbers in [0, 1).
 */
export function shiftedValues(
  data: Float32Array,
  random: () => number,
): { values: Float32Array; shifts: Float32Array } {
  const shifts = new Float32Array(data.length);
  const values = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const r = random();
    if (!(r >= 0 && r < 1)) {
      throw new InvalidOptionError("random", "a function returning numbers in [0, 1)", r);
    }
    shifts[i] = -SHIFT_BOUND + 2 * SHIFT_BOUND * r;
    values[i] = (data[i] as number) + (shifts[i] as number);
  }
  return { values, shifts };
}
