// A message kept as parts (protobuf framing and views of tensor bytes, never joined until it
// has to be): their length, and one buffer holding them.

export function partsByteLength(parts: readonly Uint8Array[]): number {
  let total = 0;
  for (const part of parts) total += part.byteLength;
  return total;
}

/** One buffer holding all parts: a view when there is a single part, else a copy. */
export function concatParts(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  return copyParts(parts);
}

/**
 * A new buffer holding all parts, even a single one: for bytes that must outlive what they
 * view (a Node Buffer over a socket's read buffer; a record stored in IndexedDB).
 */
export function copyParts(parts: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(partsByteLength(parts));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}
