import { TensorCodecError } from "./errors.js";

/**
 * OpenFL's TensorCodec.generate_delta: `tensor - base`, element by element in float32, for
 * sending only the change (trained - round model; aggregated - previous model).
 */
export function generateDelta(
  tensor: { readonly data: ArrayLike<number> },
  base: { readonly data: ArrayLike<number> },
  name: string,
): Float32Array {
  sameLength(tensor, base, name);
  const delta = new Float32Array(tensor.data.length);
  for (let i = 0; i < delta.length; i++) {
    delta[i] = (tensor.data[i] as number) - (base.data[i] as number);
  }
  return delta;
}

/** OpenFL's TensorCodec.apply_delta: `base + delta`, element by element in float32. */
export function applyDelta(
  base: { readonly data: ArrayLike<number> },
  delta: { readonly data: ArrayLike<number> },
  name: string,
): Float32Array {
  sameLength(delta, base, name);
  const data = new Float32Array(delta.data.length);
  for (let i = 0; i < data.length; i++) {
    data[i] = (base.data[i] as number) + (delta.data[i] as number);
  }
  return data;
}

function sameLength(
  a: { readonly data: ArrayLike<number> },
  base: { readonly data: ArrayLike<number> },
  name: string,
): void {
  if (a.data.length !== base.data.length) {
    throw new TensorCodecError(
      `tensor '${name}': a delta needs the base's ${base.data.length} values, got ${a.data.length}`,
    );
  }
}
