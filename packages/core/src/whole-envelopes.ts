/** Bytes of a gRPC envelope prefix: 1 byte of flags, then the message length (uint32, big-endian). */
const PREFIX_BYTES = 5;

/**
 * Re-chunks a response body of gRPC envelopes so that every chunk is exactly one whole
 * envelope (prefix + message), the bytes unchanged.
 *
 * Why: connect-es's envelope decoder queues the chunks of a message and re-sums the queue's
 * length on every chunk, so receiving one large message is quadratic in its chunk count (a
 * 256 MiB tensor arrives in ~16 000 HTTP/2 frames). Fed one chunk per envelope it does constant
 * work per message. Each message is assembled here in one buffer of its announced size.
 *
 * A message longer than `readMaxBytes` is not assembled: its prefix is passed on alone, so the
 * decoder fails the call with its usual ResourceExhausted error. A body that ends inside an
 * envelope passes on what it had, so the decoder reports the incomplete envelope as before.
 */
export async function* wholeEnvelopes(
  body: AsyncIterable<Uint8Array>,
  readMaxBytes: number,
): AsyncGenerator<Uint8Array> {
  const prefix = new Uint8Array(PREFIX_BYTES);
  let prefixFilled = 0;
  /** The envelope being assembled (prefix included), and how much of it is filled. */
  let envelope: Uint8Array | undefined;
  let filled = 0;
  for await (const chunk of body) {
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (envelope === undefined) {
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
        envelope = new Uint8Array(PREFIX_BYTES + length);
        envelope.set(prefix);
        filled = PREFIX_BYTES;
      }
      const n = Math.min(envelope.byteLength - filled, chunk.byteLength - offset);
      envelope.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === envelope.byteLength) {
        yield envelope;
        envelope = undefined;
      }
    }
  }
  if (envelope !== undefined) yield envelope.subarray(0, filled);
  else if (prefixFilled > 0) yield prefix.subarray(0, prefixFilled);
}

function messageLength(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + offset + 1, 4).getUint32(0);
}
