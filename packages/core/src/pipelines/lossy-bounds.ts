/** The float32 step (ulp) at `value`: the distance to the next float32 away from zero. */
export function float32Step(value: number): number {
  const magnitude = Math.fround(Math.abs(value));
  const bits = new Uint32Array(Float32Array.of(magnitude).buffer);
  bits[0] = (bits[0] as number) + 1;
  return (new Float32Array(bits.buffer)[0] as number) - magnitude;
}

/**
 * Where a k-means decode breaks the bound kmeans1d guarantees (and so SKC's and KC's encoders):
 * every `source` value decodes to a level nearest to it, and every level is the mean of the
 * source values decoded to it, rounded to float32, within one float32 step (the mean depends
 * on summation order). `source` is what was clustered (SKC: the sparsified tensor), `decoded`
 * what the receiver got, `levels` the code table's values. The first break, in words, or
 * undefined.
 */
export function kmeansBoundViolation(
  source: ArrayLike<number>,
  decoded: ArrayLike<number>,
  levels: readonly number[],
): string | undefined {
  if (source.length !== decoded.length) {
    return `${source.length} source values, ${decoded.length} decoded`;
  }
  const sums = new Map<number, { sum: number; count: number }>();
  for (let i = 0; i < source.length; i++) {
    const x = source[i] as number;
    const d = decoded[i] as number;
    if (!levels.includes(d)) return `element ${i} decodes to ${d}, which is not a level`;
    for (const level of levels) {
      if (Math.abs(x - level) < Math.abs(x - d)) {
        return `element ${i} (${x}) decodes to ${d}, level ${level} is nearer`;
      }
    }
    const entry = sums.get(d) ?? { sum: 0, count: 0 };
    entry.sum += x;
    entry.count += 1;
    sums.set(d, entry);
  }
  for (const [level, { sum, count }] of sums) {
    const mean = sum / count;
    if (Math.abs(level - mean) > float32Step(mean)) {
      return `level ${level} is not the float32 mean ${mean} of the ${count} values decoded to it`;
    }
  }
  return undefined;
}
