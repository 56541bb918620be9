import type { Quantized } from "./code-table.js";
import { pairwiseSum } from "./pairwise-sum.js";

/**
 * OpenFL: TernaryTransformer.forward on sparsified data. Every element becomes `m`, 0 or `-m`
 * by its sign, where `m = np.mean(np.abs(data))` is the mean magnitude over all elements, the
 * zeroed ones included (computed as numpy does, so it rounds alike). The levels are the float32
 * values present, ascending. Needs at least one element.
 */
export function ternarize(sparse: Float64Array): Quantized {
  const magnitudes = new Float64Array(sparse.length);
  for (let i = 0; i < sparse.length; i++) magnitudes[i] = Math.abs(sparse[i] as number);
  const mean = Math.fround(pairwiseSum(magnitudes) / sparse.length);
  let negative = false;
  let zero = false;
  let positive = false;
  for (const value of sparse) {
    if (value > 0) positive = true;
    else if (value < 0) negative = true;
    else zero = true;
  }
  const levels: number[] = [];
  if (negative) levels.push(-mean);
  if (zero) levels.push(0);
  if (positive) levels.push(mean);
  const labels = new Uint32Array(sparse.length);
  const zeroLabel = negative ? 1 : 0;
  for (let i = 0; i < sparse.length; i++) {
    const value = sparse[i] as number;
    labels[i] = value < 0 ? 0 : value > 0 ? levels.length - 1 : zeroLabel;
  }
  return { levels, labels };
}
