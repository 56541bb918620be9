import type { DataStream } from "./gen/openfl/protocols/base_pb.js";
import { ENVELOPE_PREFIX_BYTES, writeEnvelopePrefix } from "./grpc-envelope.js";
import { varint } from "./protobuf-varint.js";

const SIZE_FIELD_TAG = (1 << 3) | 0; // DataStream.size = 1, varint
const NPBYTES_FIELD_TAG = (2 << 3) | 2; // DataStream.npbytes = 2, length-delimited

/**
 * One DataStream as a gRPC message on the wire (envelope prefix: flags 0 and the length as a
 * big-endian uint32, then the protobuf), in two parts: the framing, then `npbytes` itself as a
 * view. Concatenated, the parts equal the envelope of `toBinary(DataStreamSchema, chunk)`; the
 * chunk's bytes are not copied. Fields at their default (0, empty) are left out, as protobuf-es
 * does.
 */
export function dataStreamEnvelopeParts(chunk: DataStream): {
  readonly framing: Uint8Array;
  readonly npbytes: Uint8Array;
  /** Length of the protobuf message (without the 5-byte envelope prefix). */
  readonly messageBytes: number;
} {
  const data = chunk.npbytes;
  const size = chunk.size > 0 ? [SIZE_FIELD_TAG, ...varint(chunk.size)] : [];
  const bytes = data.byteLength > 0 ? [NPBYTES_FIELD_TAG, ...varint(data.byteLength)] : [];
  const messageBytes = size.length + bytes.length + data.byteLength;
  const framing = new Uint8Array(ENVELOPE_PREFIX_BYTES + size.length + bytes.length);
  writeEnvelopePrefix(framing, messageBytes);
  framing.set(size, ENVELOPE_PREFIX_BYTES);
  framing.set(bytes, ENVELOPE_PREFIX_BYTES + size.length);
  return { framing, npbytes: data, messageBytes };
}
