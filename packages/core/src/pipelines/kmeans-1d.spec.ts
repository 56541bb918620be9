import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BIN_SPLITS, kmeans1d, nearest } from "./kmeans-1d.js";
import { kmeansBoundViolation } from "./lossy-bounds.js";

/** Deterministic pseudo-random float32 values in [-scale, scale). */
function noise(n: number, seed: number, scale = 1): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 2 * scale - scale;
  });
}

function decodedOf(values: ArrayLike<number>, clusters: number) {
  const { levels, labels } = kmeans1d(values, clusters);
  return { levels, decoded: Float64Array.from(labels, (label) => levels[label] as number) };
}

function assertBound(values: ArrayLike<number>, clusters: number): readonly number[] {
  const { levels, decoded } = decodedOf(values, clusters);
  assert.equal(kmeansBoundViolation(values, decoded, levels), undefined);
  assert.ok(levels.length <= clusters);
  for (let a = 0; a + 1 < levels.length; a++) {
    assert.ok((levels[a] as number) < (levels[a + 1] as number), "levels ascend");
  }
  for (const level of levels) assert.equal(Math.fround(level), level, "levels are float32");
  return levels;
}

function squaredError(values: ArrayLike<number>, decoded: ArrayLike<number>): number {
  let error = 0;
  for (let i = 0; i < values.length; i++) {
    error += ((values[i] as number) - (decoded[i] as number)) ** 2;
  }
  return error;
}

/** The least squared error over every split of the sorted values into `clusters` runs. */
function bruteForceError(values: ArrayLike<number>, clusters: number): number {
  const sorted = Array.from(values).sort((a, b) => a - b);
  const runError = (from: number, to: number) => {
    const run = sorted.slice(from, to);
    const mean = run.reduce((s, v) => s + v, 0) / run.length;
    return run.reduce((s, v) => s + (v - mean) ** 2, 0);
  };
  const best = (from: number, left: number): number => {
    if (left === 1) return runError(from, sorted.length);
    let least = Number.POSITIVE_INFINITY;
    for (let to = from + 1; to <= sorted.length - left + 1; to++) {
      least = Math.min(least, runError(from, to) + best(to, left - 1));
    }
    return least;
  };
  return best(0, clusters);
}

describe("kmeans1d", () => {
  it("keeps every value when there are at most n_clusters distinct ones", () => {
    const { levels, labels } = kmeans1d(Float32Array.of(3, 1, 3, -2), 3);
    assert.deepEqual(levels, [-2, 1, 3]);
    assert.deepEqual(Array.from(labels), [2, 1, 2, 0]);
    assert.deepEqual(kmeans1d(Float32Array.of(5, 5), 1).levels, [5]);
    const empty = kmeans1d(new Float32Array(0), 6);
    assert.deepEqual([empty.levels, empty.labels], [[], new Uint32Array(0)]);
  });

  it("treats -0 and 0 as one value, 0", () => {
    const { levels, labels } = kmeans1d(Float32Array.of(-0, 0, 1), 6);
    assert.deepEqual(levels, [0, 1]);
    assert.ok(Object.is(levels[0], 0));
    assert.deepEqual(Array.from(labels), [0, 0, 1]);
  });

  it("finds the obvious clusters, each level the mean of its values", () => {
    const { levels, labels } = kmeans1d(Float32Array.of(20, 0, 11, 1, 21, 10), 3);
    assert.deepEqual(levels, [0.5, 10.5, 20.5]);
    assert.deepEqual(Array.from(labels), [2, 0, 1, 0, 2, 1]);
    assert.deepEqual(kmeans1d(Float32Array.of(1, 2, 3, 10), 1).levels, [4]);
  });

  it("gives an outlier its own level", () => {
    const bulk = Array.from({ length: 100 }, (_, i) => i / 100);
    const { levels } = kmeans1d(Float32Array.from([...bulk, 1000]), 2);
    const mean = Float32Array.from(bulk).reduce((s, v) => s + v, 0) / 100;
    assert.deepEqual(levels, [Math.fround(mean), 1000]);
  });

  it("reaches the least squared error on small inputs (brute force over all splits)", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const values = noise(9 + (seed % 5), seed, 10);
      const clusters = 2 + (seed % 3);
      const { decoded } = decodedOf(values, clusters);
      const least = bruteForceError(values, clusters);
      assert.ok(
        squaredError(values, decoded) <= least * (1 + 1e-6) + 1e-9,
        `seed ${seed}: ${squaredError(values, decoded)} > ${least}`,
      );
    }
  });

  it("meets its bound on dense, sparse and clustered data", () => {
    assert.equal(assertBound(noise(2000, 7), 6).length, 6);
    const sparse = noise(3000, 8, 0.1).map((v, i) => (i % 10 === 0 ? v : 0));
    assert.equal(assertBound(sparse, 6).length, 6);
    const clumps = noise(1500, 9, 0.01).map((v, i) => v + (i % 3) * 5);
    assert.deepEqual(
      assertBound(clumps, 3).map((level) => Math.round(level) + 0),
      [0, 5, 10],
    );
    assertBound(noise(50, 10), 1);
    assertBound(Float32Array.of(1, 1, 1, 2, 2, 3, 100, 100, -50), 4);
  });

  it("meets its bound with more distinct values than bins, and beyond BIN_SPLITS clusters", () => {
    const many = noise(5 * BIN_SPLITS, 11);
    assert.equal(assertBound(many, 6).length, 6);
    const outliers = Float32Array.from([...noise(4 * BIN_SPLITS, 12), 1e6, -1e6]);
    const levels = assertBound(outliers, 4);
    assert.deepEqual([levels[0], levels[3]], [-1e6, 1e6]);
    assert.equal(
      assertBound(noise(3 * BIN_SPLITS, 13), BIN_SPLITS + 1).length > BIN_SPLITS / 2,
      true,
    );
  });

  it("is deterministic", () => {
    const values = noise(500, 14);
    assert.deepEqual(kmeans1d(values, 6), kmeans1d(values, 6));
  });
});

describe("nearest level", () => {
  it("picks the nearest, the lower one on a tie", () => {
    assert.equal(nearest([0, 2], 1), 0);
    assert.equal(nearest([0, 2], Math.fround(1.0000001)), 1);
    assert.equal(nearest([0, 2], 0.9999999), 0);
    assert.equal(nearest([0, 2, 4], 3), 1);
    assert.equal(nearest([0, 2, 4], 3.5), 2);
    assert.equal(nearest([0, 2, 4], -7), 0);
    assert.equal(nearest([0, 2, 4], 9), 2);
    assert.equal(nearest([5], -1), 0);
  });
});
