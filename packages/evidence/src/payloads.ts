// Random (seeded) tensors for uploads and downloads, identified by SHA-256 of their bytes.
import { createHash } from "node:crypto";
import { encodeNamedTensor, type Float32Tensor, type NamedTensor } from "@openfl-connect/core";
import type { SeededRandom } from "./seeded-random.js";

export const MiB = 1024 * 1024;

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A size in bytes, a multiple of 4, log-uniform in [minBytes, maxBytes]. */
export function logUniformSize(random: SeededRandom, minBytes: number, maxBytes: number): number {
  const exponent = Math.log(minBytes) + random.next() * (Math.log(maxBytes) - Math.log(minBytes));
  return Math.max(4, Math.floor(Math.exp(exponent) / 4) * 4);
}

/**
 * A lossless float32 NamedTensor (as OpenFL's NoCompressionPipeline sends it) whose data_bytes
 * are `bytes` as given: core's encoder over a Float32Array view of them (zeroCopy), so no copy
 * and no float round trip. `bytes` must start at a multiple of 4 (fresh buffers do).
 */
export function trainedTensor(name: string, round: number, bytes: Uint8Array): NamedTensor {
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return encodeNamedTensor(
    { shape: [data.length], data },
    { name, roundNumber: round, tags: ["trained"], zeroCopy: true },
  );
}

/** A float32 model tensor of `byteLength` bytes with values in [0, 1), and its bytes' SHA-256. */
export function modelTensor(
  random: SeededRandom,
  byteLength: number,
): { tensor: Float32Tensor; sha256: string } {
  const data = new Float32Array(byteLength / 4);
  for (let i = 0; i < data.length; i++) data[i] = random.next();
  return {
    tensor: { shape: [data.length], data },
    sha256: sha256(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
  };
}
