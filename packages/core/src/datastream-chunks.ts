import { create } from "@bufbuild/protobuf";
import { type DataStream, DataStreamSchema } from "./gen/openfl/protocols/base_pb.js";

/** OpenFL's chunk size for SendLocalTaskResults: 2 MiB. */
export const OPENFL_CHUNK_BYTES = 2 * 1024 * 1024;

/**
 * Splits one serialized message into DataStream chunks of at most `chunkBytes`.
 * Each chunk's `npbytes` is a view into `serialized` (no copies); a message under
 * the chunk size is one chunk (Infinity: always one chunk), and an empty message is one empty chunk (the server
 * then answers "Empty stream message", as with OpenFL's client).
 */
export function* dataStreamChunks(
  serialized: Uint8Array,
  chunkBytes: number = OPENFL_CHUNK_BYTES,
): Generator<DataStream> {
  if (!isChunkSize(chunkBytes)) {
    throw new RangeError(`chunkBytes must be a positive integer or Infinity, got ${chunkBytes}`);
  }
  if (serialized.byteLength === 0) {
    yield create(DataStreamSchema, { size: 0, npbytes: serialized });
    return;
  }
  for (let offset = 0; offset < serialized.byteLength; offset += chunkBytes) {
    const npbytes = serialized.subarray(
      offset,
      Math.min(offset + chunkBytes, serialized.byteLength),
    );
    yield create(DataStreamSchema, { size: npbytes.byteLength, npbytes });
  }
}

/** Joins chunks back into one buffer (what the server does before parsing). */
export function joinDataStreamChunks(chunks: readonly DataStream[]): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.npbytes.byteLength, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    joined.set(c.npbytes, offset);
    offset += c.npbytes.byteLength;
  }
  return joined;
}

/** A usable chunk size: a positive whole number of bytes, or Infinity for one chunk. */
export function isChunkSize(value: unknown): value is number {
  return (
    typeof value === "number" &&
    value > 0 &&
    (Number.isInteger(value) || value === Number.POSITIVE_INFINITY)
  );
}
