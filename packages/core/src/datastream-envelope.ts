import type { DataStream } from "./gen/openfl/protocols/base_pb.js";
import { ENVELOPE_PREFIX_BYTES, writeEnvelopePrefix } from "./grpc-envelope.js";
import { varint } from "./protobuf-varint.js";

const SIZE_FIELD_TAG = (1 << 3) | 0; // DataStream.size = 1, varint
const NPBYTES_FIELD_TAG = (2 << 3) | 2; // DataStream.npbytes = 2, length-delimited

/**
 * The protobuf bytes of a DataStream that come before its `npbytes` content: the size field,
 * then the npbytes tag and length. Followed by `npbytesLength` bytes of content, they are
 * `toBinary(DataStreamSchema, { size, npbytes })`. Fields at their default (0, empty) are left
 * out, as protobuf-es does.
 */
export function dataStreamFraming(size: number, npbytesLength: number): Uint8Array {
  const sizeField = size > 0 ? [SIZE_FIELD_TAG, ...varint(size)] : [];
  const bytesField = npbytesLength > 0 ? [NPBYTES_FIELD_TAG, ...varint(npbytesLength)] : [];
  return Uint8Array.from([...sizeField, ...bytesField]);
}

/**
 * One DataStream as a gRPC message on the wire (envelope prefix: flags 0 and the length as a
 * big-endian uint32, then the protobuf), in two parts: the framing, then `npbytes` itself as a
 * view. Concatenated, the parts equal the envelope of `toBinary(DataStreamSchema, chunk)`; the
 * chunk's bytes are not copied.
 */
export function dataStreamEnvelopeParts(chunk: DataStream): {
  readonly framing: Uint8Array;
  readonly npbytes: Uint8Array;
  /** Length of the protobuf message (without the 5-byte envelope prefix). */
  readonly messageBytes: number;
} {
  const data = chunk.npbytes;
  const fields = dataStreamFraming(chunk.size, data.byteLength);
  const messageBytes = fields.byteLength + data.byteLength;
  const framing = new Uint8Array(ENVELOPE_PREFIX_BYTES + fields.byteLength);
  writeEnvelopePrefix(framing, messageBytes);
  framing.set(fields, ENVELOPE_PREFIX_BYTES);
  return { framing, npbytes: data, messageBytes };
}
