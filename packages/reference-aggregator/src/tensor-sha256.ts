// The SHA-256 of a received tensor's bytes, computed on first read so that an upload does not
// wait for it.
import { createHash } from "node:crypto";
import { platformIsLittleEndian } from "@openfl-connect/core/internal";

/**
 * Adds `sha256` (hex SHA-256 of `dataBytes`; of `data` for a tensor rebuilt from a delta,
 * which has no received bytes) to a decoded tensor as an enumerable property
 * computed on first read. On a little-endian platform the decoded `data` holds exactly
 * `dataBytes` (decoding is a byte copy), so the hash is taken from `data` and `dataBytes`
 * (a view of the whole received message) is not kept alive; elsewhere it is hashed at once.
 */
export function withSha256<T extends { readonly data: Float32Array }>(
  tensor: T,
  dataBytes: Uint8Array | undefined,
): T & { readonly sha256: string } {
  const hash = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
  if (!platformIsLittleEndian && dataBytes !== undefined) {
    return { ...tensor, sha256: hash(dataBytes) };
  }
  const { data } = tensor;
  let digest: string | undefined;
  return Object.defineProperty(tensor, "sha256", {
    enumerable: true,
    get: () => {
      digest ??= hash(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return digest;
    },
  }) as T & { readonly sha256: string };
}
