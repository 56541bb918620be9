import { encodeNamedTensor, type NamedTensor } from "@openfl-connect/core";

/** The largest test upload the page offers, in MiB (OpenFL's message limit is 1 GiB). */
export const MAX_TEST_MIB = 1000;

/** 1 - 2^-24: the largest float32 less than 1. */
const LARGEST_FLOAT32_BELOW_1 = 1 - 2 ** -24;

/** Name of the tensor the page sends; tagged "trained" like a training output. */
export const TEST_TENSOR_NAME = "openfl_connect_dashboard_test";

/**
 * A float32 tensor of `mib` MiB (rounded down to whole values, at least one) of uniform
 * random values in [-1, 1), encoded as OpenFL's default pipeline does.
 */
export function randomTestTensor(
  mib: number,
  roundNumber: number,
  random: () => number = Math.random,
): NamedTensor {
  if (!(Number.isFinite(mib) && mib > 0 && mib <= MAX_TEST_MIB)) {
    throw new RangeError(`size must be more than 0 and at most ${MAX_TEST_MIB} MiB, got ${mib}`);
  }
  const count = Math.max(1, Math.floor((mib * 1024 * 1024) / 4));
  const data = new Float32Array(count);
  // In float32, values just under 1 round up to 1: keep the promise of [-1, 1).
  for (let i = 0; i < count; i++) data[i] = Math.min(random() * 2 - 1, LARGEST_FLOAT32_BELOW_1);
  return encodeNamedTensor(
    { shape: [count], data },
    { name: TEST_TENSOR_NAME, roundNumber, tags: ["trained"] },
  );
}

/** Hex SHA-256 (Web Crypto), as the aggregator side can compute for comparison. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
