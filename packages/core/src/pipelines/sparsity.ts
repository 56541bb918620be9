/** OpenFL's `10e-8` (which is 1e-7), as the float32 numpy adds it to float32 values. */
export const TOPK_NUDGE = Math.fround(10e-8);

/**
 * How many elements OpenFL's SparsityTransformer keeps: `int(np.ceil(n_elements * p))`, in
 * float64 as numpy computes it (so 100 elements at p 0.07 keep 8: 100 * 0.07 is 7.000000000000001).
 */
export function keptCount(elements: number, pSparsity: number): number {
  return Math.ceil(elements * pSparsity);
}

/**
 * OpenFL: SparsityTransformer.forward (STC and SKC share it) on a flattened tensor of finite
 * values. Keeps the `kept` elements of largest magnitude (`_topk_func`; between equal
 * magnitudes the later element wins, as numpy's stable argsort would have it) and zeroes the
 * rest. When the smallest kept value (signed, as OpenFL compares) is below 1e-7, OpenFL adds
 * 1e-7 to every kept value, in float32 ("avoid zeros"): so does this. The result is float64,
 * as OpenFL's `np.zeros(shape)` is. Needs 1 <= kept <= values.length.
 */
export function sparsify(values: Float32Array, kept: number): Float64Array {
  const n = values.length;
  const sparse = new Float64Array(n);
  const magnitudes = new Float32Array(n);
  for (let i = 0; i < n; i++) magnitudes[i] = Math.abs(values[i] as number);
  magnitudes.sort();
  const threshold = magnitudes[n - kept] as number;
  let above = 0;
  for (let i = 0; i < n; i++) if (Math.abs(values[i] as number) > threshold) above++;
  let tiesLeft = kept - above;
  const selected: number[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const magnitude = Math.abs(values[i] as number);
    if (magnitude > threshold || (magnitude === threshold && tiesLeft-- > 0)) selected.push(i);
  }
  let smallest = Number.POSITIVE_INFINITY;
  for (const i of selected) smallest = Math.min(smallest, values[i] as number);
  const nudge = smallest < TOPK_NUDGE;
  for (const i of selected) {
    const value = values[i] as number;
    sparse[i] = nudge ? Math.fround(value + TOPK_NUDGE) : value;
  }
  return sparse;
}
