/**
 * The gRPC message envelope (the framing of every message on the wire): 1 byte of flags, the
 * message length as a big-endian uint32, then the message.
 */
export const ENVELOPE_PREFIX_BYTES = 5;

/** Flag bit of a compressed message (OpenFL compresses none). */
export const ENVELOPE_COMPRESSED_FLAG = 0x01;

/** The message length announced by the envelope prefix that starts at `offset`. */
export function envelopeMessageLength(bytes: Uint8Array, offset = 0): number {
  return new DataView(bytes.buffer, bytes.byteOffset + offset + 1, 4).getUint32(0);
}

/** Writes an uncompressed envelope prefix announcing `messageBytes` at the start of `target`. */
export function writeEnvelopePrefix(target: Uint8Array, messageBytes: number): void {
  target[0] = 0;
  new DataView(target.buffer, target.byteOffset + 1, 4).setUint32(0, messageBytes);
}
