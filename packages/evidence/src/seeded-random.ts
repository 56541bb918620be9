/** A small seeded PRNG (mulberry32): the same seed gives the same faults and payloads. */
export interface SeededRandom {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** A whole number in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** `count` pseudo-random bytes. */
  bytes(count: number): Uint8Array;
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const nextU32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    seed,
    next: () => nextU32() / 2 ** 32,
    int: (min, max) => min + Math.floor((nextU32() / 2 ** 32) * (max - min + 1)),
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError("pick from an empty list");
      return items[Math.floor((nextU32() / 2 ** 32) * items.length)] as T;
    },
    bytes(count) {
      const words = new Uint32Array(Math.ceil(count / 4));
      for (let i = 0; i < words.length; i++) words[i] = nextU32();
      return new Uint8Array(words.buffer, 0, count);
    },
  };
}

/** The seed from `env[name]` (decimal), else a fresh one; callers print it so a run can be repeated. */
export function seedFrom(env: NodeJS.ProcessEnv, name: string): number {
  const given = env[name];
  if (given !== undefined && given !== "") {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`${name} must be a whole number in [0, 2^32), got ${given}`);
    }
    return seed;
  }
  return Math.floor(Math.random() * 0xffffffff);
}
