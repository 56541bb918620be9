import { Code, ConnectError } from "@connectrpc/connect";
import { partsByteLength } from "@openfl-connect/core";
import { dataStreamFraming } from "@openfl-connect/core/internal";
import type { DataStream } from "@openfl-connect/core/protocol";

/** The media type of OpenFL's REST upload. */
export const PROTOBUF_STREAM = "application/x-protobuf-stream";

/**
 * The body of an upload to OpenFL's REST server (`POST tasks/results`): DataStream messages,
 * each after its length as a big-endian uint32, ending with an empty one (length 0). OpenFL's
 * server parses the first message as the whole TaskResults and requires the next length to be
 * 0 (`_parse_protobuf_stream`), so the chunks core yields become one DataStream whose npbytes
 * are the chunks' bytes, passed on as the views they are (no copy). Returned as the parts to
 * write and their total, the Content-Length.
 */
export async function taskResultsStreamBody(
  chunks: AsyncIterable<DataStream>,
  maxMessageBytes: number,
): Promise<{ readonly parts: readonly Uint8Array[]; readonly byteLength: number }> {
  const content: Uint8Array[] = [];
  for await (const chunk of chunks) if (chunk.npbytes.byteLength > 0) content.push(chunk.npbytes);
  const contentBytes = partsByteLength(content);
  const framing = dataStreamFraming(contentBytes, contentBytes);
  const messageBytes = framing.byteLength + contentBytes;
  if (messageBytes > maxMessageBytes) {
    throw new ConnectError(
      `message size ${messageBytes} is larger than configured writeMaxBytes ${maxMessageBytes}`,
      Code.ResourceExhausted,
    );
  }
  const prefix = new Uint8Array(4 + framing.byteLength);
  new DataView(prefix.buffer).setUint32(0, messageBytes);
  prefix.set(framing, 4);
  const end = new Uint8Array(4); // length 0: an empty DataStream serializes to no bytes
  const parts = [prefix, ...content, end];
  return { parts, byteLength: partsByteLength(parts) };
}
