/** numpy's PW_BLOCKSIZE: blocks up to this length are summed with eight accumulators. */
const BLOCK = 128;

/**
 * The float64 sum numpy's `np.add.reduce` (and so `np.mean`) computes for a contiguous array:
 * its pairwise summation (`pairwise_sum_DOUBLE` in numpy's loops_utils.h), bit for bit, so that
 * a mean computed here rounds exactly as OpenFL's does.
 */
export function pairwiseSum(
  values: Float64Array,
  start = 0,
  count = values.length - start,
): number {
  if (count < 8) {
    let sum = 0;
    for (let i = start; i < start + count; i++) sum += values[i] as number;
    return sum;
  }
  if (count <= BLOCK) {
    const r = Array.from(values.subarray(start, start + 8));
    let i = 8;
    for (; i < count - (count % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] = (r[j] as number) + (values[start + i + j] as number);
    }
    const [r0, r1, r2, r3, r4, r5, r6, r7] = r as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    let sum = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < count; i++) sum += values[start + i] as number;
    return sum;
  }
  let half = Math.floor(count / 2);
  half -= half % 8;
  return pairwiseSum(values, start, half) + pairwiseSum(values, start + half, count - half);
}
