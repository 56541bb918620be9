import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { TaskResultsSchema } from "./gen/openfl/protocols/aggregator_pb.js";
import { NamedTensorSchema } from "./gen/openfl/protocols/base_pb.js";
import { varint } from "./protobuf-varint.js";

const TENSORS_FIELD_TAG = (5 << 3) | 2; // TaskResults.tensors = 5, length-delimited
const DATA_BYTES_FIELD_TAG = (7 << 3) | 2; // NamedTensor.data_bytes = 7, length-delimited

/**
 * Serializes a TaskResults as consecutive parts whose concatenation is exactly
 * `toBinary(TaskResultsSchema, results)`: the protobuf framing is written here and each
 * tensor's data_bytes is passed through as a view, so uploading N MiB of tensors does not
 * make a second N MiB buffer. Relies on `tensors` (5) being TaskResults' last field and
 * `data_bytes` (7) NamedTensor's last field, which protobuf-es writes in field order.
 */
export function serializeTaskResultsParts(
  results: MessageInitShape<typeof TaskResultsSchema>,
): Uint8Array[] {
  const message = create(TaskResultsSchema, results);
  const parts: Uint8Array[] = [toBinary(TaskResultsSchema, { ...message, tensors: [] })];
  for (const named of message.tensors) {
    const data = named.dataBytes;
    const meta = toBinary(NamedTensorSchema, { ...named, dataBytes: new Uint8Array(0) });
    const dataFraming =
      data.byteLength > 0 ? [DATA_BYTES_FIELD_TAG, ...varint(data.byteLength)] : [];
    const tensorLength = meta.byteLength + dataFraming.length + data.byteLength;
    parts.push(Uint8Array.from([TENSORS_FIELD_TAG, ...varint(tensorLength)]), meta);
    if (data.byteLength > 0) parts.push(Uint8Array.from(dataFraming), data);
  }
  return parts;
}
