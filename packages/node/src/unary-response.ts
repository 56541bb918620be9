import { Code, ConnectError } from "@connectrpc/connect";
import {
  ENVELOPE_COMPRESSED_FLAG as COMPRESSED_FLAG,
  copyParts,
  envelopeMessageLength,
  ENVELOPE_PREFIX_BYTES as PREFIX_BYTES,
} from "@openfl-connect/core/internal";

/**
 * The one message of a unary gRPC response body, in one buffer, with the errors connect's own
 * decoder raises (same messages and codes); undefined for a body without a message (trailers
 * only).
 *
 * Why not connect's decoder: it copies every message into a buffer of its own, so a large
 * tensor was copied twice (assembled, then copied again), each into freshly mapped memory.
 * Here the body's chunks are kept as they arrive and copied once, into a buffer allocated when
 * the whole message is there (never sized from the length the server announced alone).
 * Parsing it then leaves the tensor's data_bytes as a view of that buffer.
 */
export async function readUnaryMessage(
  body: AsyncIterable<Uint8Array>,
  readMaxBytes: number,
): Promise<Uint8Array | undefined> {
  const prefix = new Uint8Array(PREFIX_BYTES);
  let prefixFilled = 0;
  /** The message's length once its prefix is in, and the pieces received so far. */
  let length = -1;
  let pieces: Uint8Array[] = [];
  let received = 0;
  let message: Uint8Array | undefined;
  const complete = () => {
    if (message !== undefined) {
      throw new ConnectError(
        "protocol error: received extra output message for unary method",
        Code.Unimplemented,
      );
    }
    if ((prefix[0] ?? 0) & COMPRESSED_FLAG) {
      throw new ConnectError(
        "received compressed envelope, but do not know how to decompress",
        Code.Internal,
      );
    }
    // A copy even of a single piece: a piece is a Node Buffer over the HTTP/2 session's read
    // buffer, shared with other bytes (and a Buffer's slice() is a view, not a copy).
    message = copyParts(pieces);
    pieces = [];
    received = 0;
    length = -1;
    prefixFilled = 0;
  };
  for await (const chunk of body) {
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (length < 0) {
        const n = Math.min(PREFIX_BYTES - prefixFilled, chunk.byteLength - offset);
        prefix.set(chunk.subarray(offset, offset + n), prefixFilled);
        prefixFilled += n;
        offset += n;
        if (prefixFilled < PREFIX_BYTES) break;
        length = envelopeMessageLength(prefix);
        if (length > readMaxBytes) {
          throw new ConnectError(
            `message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`,
            Code.ResourceExhausted,
          );
        }
      }
      // An empty message (length 0) completes here too, with an empty piece.
      const n = Math.min(length - received, chunk.byteLength - offset);
      pieces.push(chunk.subarray(offset, offset + n));
      received += n;
      offset += n;
      if (received === length) complete();
    }
  }
  if (prefixFilled > 0) {
    throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  }
  return message;
}
