import { concatParts } from "./byte-parts.js";
import {
  envelopeMessageLength as messageLength,
  ENVELOPE_PREFIX_BYTES as PREFIX_BYTES,
} from "./grpc-envelope.js";

/** An envelope up to this size gets its buffer as soon as its first bytes arrive. */
const UPFRONT_BYTES = 1024 * 1024;
/**
 * A larger one gets it once the bytes that arrived are at least 1/GROWTH of its size: a peer
 * can make the client allocate at most UPFRONT_BYTES + GROWTH x what it actually sent.
 */
const GROWTH = 4;

/** Allocates the buffer of one envelope (a seam for tests; default `new Uint8Array`). */
export type AllocateEnvelope = (bytes: number) => Uint8Array;

/**
 * Re-chunks a response body of gRPC envelopes so that every chunk is exactly one whole
 * envelope (prefix + message), the bytes unchanged.
 *
 * Why: connect-es's envelope decoder queues the chunks of a message and re-sums the queue's
 * length on every chunk, so receiving one large message is quadratic in its chunk count (a
 * 256 MiB tensor arrives in ~16 000 HTTP/2 frames). Fed one chunk per envelope it does constant
 * work per message.
 *
 * Each message is assembled in one buffer of its announced size, allocated only once enough of
 * it has arrived (UPFRONT_BYTES, GROWTH): the prefix alone, 5 bytes, may announce 4 GiB. Until
 * then the arrived chunks are held as they are, and copied into the buffer when it is
 * allocated, so every byte is still copied once and a message has one buffer.
 *
 * A message longer than `readMaxBytes` is not assembled: its prefix is passed on alone, so the
 * decoder fails the call with its usual ResourceExhausted error. A body that ends inside an
 * envelope passes on what it had, so the decoder reports the incomplete envelope as before.
 */
export async function* wholeEnvelopes(
  body: AsyncIterable<Uint8Array>,
  readMaxBytes: number,
  allocate: AllocateEnvelope = (bytes) => new Uint8Array(bytes),
): AsyncGenerator<Uint8Array> {
  const prefix = new Uint8Array(PREFIX_BYTES);
  let prefixFilled = 0;
  /** The envelope being assembled: its size (0: none), how much has arrived, where it is. */
  let size = 0;
  let filled = 0;
  let held: Uint8Array[] = [];
  let envelope: Uint8Array | undefined;
  for await (const chunk of body) {
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (size === 0) {
        // A whole envelope inside the chunk: pass a view, no copy.
        if (prefixFilled === 0 && chunk.byteLength - offset >= PREFIX_BYTES) {
          const length = messageLength(chunk, offset);
          if (length > readMaxBytes) {
            yield chunk.subarray(offset, offset + PREFIX_BYTES);
            return;
          }
          if (chunk.byteLength - offset >= PREFIX_BYTES + length) {
            yield chunk.subarray(offset, offset + PREFIX_BYTES + length);
            offset += PREFIX_BYTES + length;
            continue;
          }
        }
        const n = Math.min(PREFIX_BYTES - prefixFilled, chunk.byteLength - offset);
        prefix.set(chunk.subarray(offset, offset + n), prefixFilled);
        prefixFilled += n;
        offset += n;
        if (prefixFilled < PREFIX_BYTES) break;
        const length = messageLength(prefix, 0);
        if (length > readMaxBytes) {
          yield prefix;
          return;
        }
        prefixFilled = 0;
        if (length === 0) {
          yield prefix.slice();
          continue;
        }
        size = PREFIX_BYTES + length;
        filled = PREFIX_BYTES;
        held = [prefix.slice()];
        continue;
      }
      const n = Math.min(size - filled, chunk.byteLength - offset);
      const piece = chunk.subarray(offset, offset + n);
      offset += n;
      if (envelope !== undefined) {
        envelope.set(piece, filled);
        filled += n;
      } else {
        held.push(piece);
        filled += n;
        if (size <= UPFRONT_BYTES + GROWTH * filled) {
          envelope = allocate(size);
          let at = 0;
          for (const part of held) {
            envelope.set(part, at);
            at += part.byteLength;
          }
          held = [];
        }
      }
      if (filled === size && envelope !== undefined) {
        yield envelope;
        envelope = undefined;
        size = 0;
      }
    }
  }
  if (size !== 0) yield envelope === undefined ? concatParts(held) : envelope.subarray(0, filled);
  else if (prefixFilled > 0) yield prefix.subarray(0, prefixFilled);
}
