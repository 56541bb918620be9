import { create } from "@bufbuild/protobuf";
import { concatParts } from "./byte-parts.js";
import { type DataStream, DataStreamSchema } from "./gen/openfl/protocols/base_pb.js";

/** OpenFL's chunk size for SendLocalTaskResults: 2 MiB. */
export const OPENFL_CHUNK_BYTES = 2 * 1024 * 1024;

/** Pieces smaller than this are copied together into one chunk rather than sent alone. */
const COALESCE_BELOW_BYTES = 64 * 1024;

/**
 * Splits a serialized message (one buffer, or consecutive parts) into DataStream chunks of
 * at most `chunkBytes`. Large pieces go out as views (no copies); small pieces such as
 * protobuf framing are copied together so they do not each cost a message. Infinity
 * sends one chunk. An empty message is one empty chunk (the server then answers "Empty
 * stream message", as with OpenFL's client). The server concatenates all chunks.
 */
export function* dataStreamChunks(
  serialized: Uint8Array | readonly Uint8Array[],
  chunkBytes: number = OPENFL_CHUNK_BYTES,
): Generator<DataStream> {
  if (!isChunkSize(chunkBytes)) {
    throw new RangeError(`chunkBytes must be a positive integer or Infinity, got ${chunkBytes}`);
  }
  const parts = serialized instanceof Uint8Array ? [serialized] : serialized;
  if (chunkBytes === Number.POSITIVE_INFINITY) {
    yield chunk(concatParts(parts));
    return;
  }
  let group: Uint8Array[] = [];
  let groupBytes = 0;
  let sentAny = false;
  for (const part of parts) {
    for (let offset = 0; offset < part.byteLength; offset += chunkBytes) {
      const piece = part.subarray(offset, Math.min(offset + chunkBytes, part.byteLength));
      const small = piece.byteLength < COALESCE_BELOW_BYTES;
      if (groupBytes > 0 && (!small || groupBytes + piece.byteLength > chunkBytes)) {
        yield chunk(concatParts(group));
        sentAny = true;
        group = [];
        groupBytes = 0;
      }
      if (small) {
        group.push(piece);
        groupBytes += piece.byteLength;
      } else {
        yield chunk(piece);
        sentAny = true;
      }
    }
  }
  if (groupBytes > 0 || !sentAny) yield chunk(concatParts(group));
}

function chunk(npbytes: Uint8Array): DataStream {
  return create(DataStreamSchema, { size: npbytes.byteLength, npbytes });
}

/** Joins chunks back into one buffer (what the server does before parsing). */
export function joinDataStreamChunks(chunks: readonly DataStream[]): Uint8Array {
  return concatParts(chunks.map((c) => c.npbytes));
}

/** A usable chunk size: a positive whole number of bytes, or Infinity for one chunk. */
export function isChunkSize(value: unknown): value is number {
  return (
    typeof value === "number" &&
    value > 0 &&
    (Number.isInteger(value) || value === Number.POSITIVE_INFINITY)
  );
}
