import { Code, ConnectError } from "@connectrpc/connect";
import {
  ENVELOPE_COMPRESSED_FLAG as COMPRESSED_FLAG,
  envelopeMessageLength,
  ENVELOPE_PREFIX_BYTES as PREFIX_BYTES,
  wholeEnvelopes,
} from "@openfl-connect/core/internal";

/**
 * The one message of a unary gRPC response body, in one buffer, with the errors connect's own
 * decoder raises (same messages and codes); undefined for a body without a message (trailers
 * only).
 *
 * Why not connect's decoder: it copies every message into a buffer of its own, so a large
 * tensor was copied twice (assembled, then copied again), each into freshly mapped memory.
 * Here core's `wholeEnvelopes` assembles the message as its chunks arrive, into one buffer
 * allocated once enough of it is there (never sized from the announced length alone), so each
 * chunk is copied while the next is still on the wire and is garbage as soon as it is copied;
 * parsing then leaves the tensor's data_bytes as a view of that buffer.
 */
export async function readUnaryMessage(
  body: AsyncIterable<Uint8Array>,
  readMaxBytes: number,
): Promise<Uint8Array | undefined> {
  /** The buffers `wholeEnvelopes` assembled (ours alone); any other envelope is a view of a chunk. */
  const assembled = new WeakSet<Uint8Array>();
  const allocate = (bytes: number) => {
    const buffer = new Uint8Array(bytes);
    assembled.add(buffer);
    return buffer;
  };
  let message: Uint8Array | undefined;
  for await (const envelope of wholeEnvelopes(body, readMaxBytes, allocate)) {
    const length = envelope.byteLength < PREFIX_BYTES ? -1 : envelopeMessageLength(envelope);
    if (length > readMaxBytes) {
      throw new ConnectError(
        `message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`,
        Code.ResourceExhausted,
      );
    }
    if (length < 0 || envelope.byteLength < PREFIX_BYTES + length) {
      throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
    }
    if (message !== undefined) {
      throw new ConnectError(
        "protocol error: received extra output message for unary method",
        Code.Unimplemented,
      );
    }
    if ((envelope[0] ?? 0) & COMPRESSED_FLAG) {
      throw new ConnectError(
        "received compressed envelope, but do not know how to decompress",
        Code.Internal,
      );
    }
    // A view of a chunk is copied into a plain Uint8Array of its own: a chunk is a Node Buffer
    // over the HTTP/2 session's read buffer, shared with other bytes.
    message = assembled.has(envelope)
      ? envelope.subarray(PREFIX_BYTES)
      : new Uint8Array(envelope.subarray(PREFIX_BYTES));
  }
  return message;
}
