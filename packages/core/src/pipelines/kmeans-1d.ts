import type { Quantized } from "./code-table.js";

/** Lloyd passes after the initial partition; in practice a few are needed. */
export const MAX_LLOYD_PASSES = 100;

/**
 * The initial partition is optimal among those whose runs start at bin edges over the sorted
 * distinct values. Each of three splits adds up to this many edges: equal-count quantiles (for
 * the bulk), an equal-width grid (so outliers get bins of their own) and equal runs of distinct
 * values (so there are always this many bins).
 */
export const BIN_SPLITS = 1024;

/** Distinct values, ascending, with how often each occurs. */
interface Histogram {
  readonly values: Float64Array;
  readonly counts: Float64Array;
}

/**
 * A deterministic k-means of finite float32 values (OpenFL's KmeansTransformer uses sklearn's
 * KMeans with random k-means++ starts; any k-means decodes alike, only the centroids differ).
 *
 * Guarantee, the bound the lossy encoders state: every value is labelled with a nearest level
 * (ties: the lower), and every level is the mean of the values labelled with it, rounded to
 * float32 (a fixed point of Lloyd's iteration computed in float32). It is reached from the
 * partition into `clusters` contiguous runs of least squared error (dynamic programming over
 * bins of the sorted distinct values; equal-count quantiles when `clusters` exceeds
 * BIN_SPLITS). Should MAX_LLOYD_PASSES pass first, the nearest-level guarantee still holds.
 * With at most `clusters` distinct values each is its own level and the values are reproduced
 * exactly (as in OpenFL's `n < n_cluster` case).
 */
export function kmeans1d(values: ArrayLike<number>, clusters: number): Quantized {
  const histogram = histogramOf(values);
  let levels: number[];
  if (histogram.values.length <= clusters) {
    levels = Array.from(histogram.values);
  } else {
    const starts =
      clusters <= BIN_SPLITS
        ? optimalStarts(histogram, clusters)
        : quantileStarts(histogram, clusters);
    levels = lloyd(histogram, meansOf(histogram, starts));
  }
  const labels = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) labels[i] = nearest(levels, values[i] as number);
  return { levels, labels };
}

/** The index of the level nearest to `value`, the lower of two equally near (levels ascending). */
export function nearest(levels: readonly number[], value: number): number {
  let lo = 0;
  let hi = levels.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (closerToNext(levels, mid, value)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function closerToNext(levels: readonly number[], a: number, value: number): boolean {
  return value - (levels[a] as number) > (levels[a + 1] as number) - value;
}

function histogramOf(data: ArrayLike<number>): Histogram {
  const sorted = Float64Array.from(data).sort();
  const values = new Float64Array(sorted.length);
  const counts = new Float64Array(sorted.length);
  let m = 0;
  for (const value of sorted) {
    if (m > 0 && values[m - 1] === value) {
      counts[m - 1] = (counts[m - 1] as number) + 1;
    } else {
      values[m] = value + 0; // -0 and 0 are one value, 0
      counts[m++] = 1;
    }
  }
  return { values: values.subarray(0, m), counts: counts.subarray(0, m) };
}

function totalCount(histogram: Histogram): number {
  let total = 0;
  for (const count of histogram.counts) total += count;
  return total;
}

/** Float32 means of the runs starting at `starts` (ascending, the first 0), empty runs dropped. */
function meansOf(histogram: Histogram, starts: readonly number[]): number[] {
  const means: number[] = [];
  for (let c = 0; c < starts.length; c++) {
    const end = c + 1 < starts.length ? (starts[c + 1] as number) : histogram.values.length;
    let sum = 0;
    let count = 0;
    for (let t = starts[c] as number; t < end; t++) {
      sum += (histogram.values[t] as number) * (histogram.counts[t] as number);
      count += histogram.counts[t] as number;
    }
    if (count === 0) continue;
    // Runs hold disjoint ranges of sorted float32 values: max(run) < min(next run), both float32,
    // so their float32 means differ too, ascending.
    means.push(Math.fround(sum / count));
  }
  return means;
}

/** Lloyd's iteration on the histogram, from `levels`, until the levels stop changing. */
function lloyd(histogram: Histogram, initial: number[]): number[] {
  let levels = initial;
  for (let pass = 0; pass < MAX_LLOYD_PASSES; pass++) {
    const starts = [0];
    for (let a = 0; a + 1 < levels.length; a++) {
      starts.push(firstCloserToNext(histogram.values, levels, a, starts[a] as number));
    }
    const next = meansOf(histogram, starts);
    if (next.length === levels.length && next.every((level, i) => level === levels[i])) break;
    levels = next;
  }
  return levels;
}

/** The first index from `from` whose value is nearer to level a + 1 than to level a. */
function firstCloserToNext(
  values: Float64Array,
  levels: readonly number[],
  a: number,
  from: number,
): number {
  let lo = from;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (closerToNext(levels, a, values[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Starts of up to `clusters` runs holding about equally many values. */
function quantileStarts(histogram: Histogram, clusters: number): number[] {
  const total = totalCount(histogram);
  const starts = [0];
  let seen = 0;
  // At most `clusters` starts: the last threshold, seen >= total, is met only at the last value,
  // which the loop does not reach.
  for (let t = 0; t + 1 < histogram.values.length; t++) {
    seen += histogram.counts[t] as number;
    if (seen >= (total * starts.length) / clusters) starts.push(t + 1);
  }
  return starts;
}

/**
 * Where bins of the distinct values start: a new bin begins where the equal-count quantile,
 * the equal-width cell or the equal run of distinct values changes, BIN_SPLITS of each.
 */
function binStarts(histogram: Histogram): number[] {
  const { values, counts } = histogram;
  const m = values.length;
  if (m <= 3 * BIN_SPLITS) return Array.from({ length: m }, (_, t) => t);
  const total = totalCount(histogram);
  const low = values[0] as number;
  const width = ((values[m - 1] as number) - low) / BIN_SPLITS;
  const starts: number[] = [];
  let seen = 0;
  const last = [-1, -1, -1];
  for (let t = 0; t < m; t++) {
    const bin = [
      Math.floor((seen * BIN_SPLITS) / total),
      Math.floor(((values[t] as number) - low) / width),
      Math.floor((t * BIN_SPLITS) / m),
    ];
    if (bin.some((edge, i) => edge !== last[i])) starts.push(t);
    bin.forEach((edge, i) => {
      last[i] = edge;
    });
    seen += counts[t] as number;
  }
  return starts;
}

/**
 * Starts of the `clusters` contiguous runs of least total squared error whose starts are bin
 * starts (exact 1-D k-means over the bins by dynamic programming, each layer by divide and
 * conquer over the monotone split points).
 */
function optimalStarts(histogram: Histogram, clusters: number): number[] {
  const bins = binStarts(histogram);
  const b = bins.length;
  const total = totalCount(histogram);
  let center = 0;
  for (let t = 0; t < histogram.values.length; t++) {
    center += ((histogram.values[t] as number) * (histogram.counts[t] as number)) / total;
  }
  // Per bin prefix sums of counts, of (value - center) and of its square.
  const w = new Float64Array(b + 1);
  const s = new Float64Array(b + 1);
  const q = new Float64Array(b + 1);
  for (let bin = 0; bin < b; bin++) {
    const end = bin + 1 < b ? (bins[bin + 1] as number) : histogram.values.length;
    let count = 0;
    let sum = 0;
    let squares = 0;
    for (let t = bins[bin] as number; t < end; t++) {
      const weight = histogram.counts[t] as number;
      const y = (histogram.values[t] as number) - center;
      count += weight;
      sum += weight * y;
      squares += weight * y * y;
    }
    w[bin + 1] = (w[bin] as number) + count;
    s[bin + 1] = (s[bin] as number) + sum;
    q[bin + 1] = (q[bin] as number) + squares;
  }
  /** Squared error of bins i..j (inclusive) about their mean. */
  const cost = (i: number, j: number): number => {
    const sum = (s[j + 1] as number) - (s[i] as number);
    const count = (w[j + 1] as number) - (w[i] as number);
    return Math.max((q[j + 1] as number) - (q[i] as number) - (sum * sum) / count, 0);
  };
  let previous = new Float64Array(b);
  for (let j = 0; j < b; j++) previous[j] = cost(0, j);
  const splits: Int32Array[] = [];
  for (let c = 1; c < clusters; c++) {
    const current = new Float64Array(b);
    const split = new Int32Array(b);
    const before = previous;
    const solve = (jLo: number, jHi: number, iLo: number, iHi: number): void => {
      if (jLo > jHi) return;
      const j = (jLo + jHi) >>> 1;
      let best = Number.POSITIVE_INFINITY;
      let bestI = iLo;
      for (let i = iLo; i <= Math.min(iHi, j); i++) {
        const error = (before[i - 1] as number) + cost(i, j);
        if (error < best) {
          best = error;
          bestI = i;
        }
      }
      current[j] = best;
      split[j] = bestI;
      solve(jLo, j - 1, iLo, bestI);
      solve(j + 1, jHi, bestI, iHi);
    };
    solve(c, b - 1, c, b - 1);
    splits.push(split);
    previous = current;
  }
  const starts: number[] = [];
  let end = b - 1;
  for (let c = clusters - 1; c >= 1; c--) {
    const start = (splits[c - 1] as Int32Array)[end] as number;
    starts.unshift(bins[start] as number);
    end = start - 1;
  }
  starts.unshift(0);
  return starts;
}
