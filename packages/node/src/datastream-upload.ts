import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { UniversalClientFn } from "@connectrpc/connect/protocol";
import { dataStreamEnvelopeParts } from "@openfl-connect/core/internal";
import { type DataStream, DataStreamSchema } from "@openfl-connect/core/protocol";

/**
 * Client-streaming uploads of DataStream messages (SendLocalTaskResults) written to HTTP/2 as
 * framing plus views of the caller's bytes, instead of connect serializing each chunk (protobuf
 * writer, then envelope: two copies of every tensor byte, and two fresh 2 MiB buffers per
 * chunk).
 *
 * Connect has no public hook for a message's serialization, so two public hooks meet here: an
 * interceptor (it sees the call's messages) records them under the call's AbortSignal, and
 * the HTTP client (it sees the same signal) sends them as the body in place of connect's
 * serialized one, which is then never read. Calls of other kinds pass through untouched.
 */
export function dataStreamUploads(
  httpClient: UniversalClientFn,
  maxMessageBytes: number,
): { interceptor: Interceptor; httpClient: UniversalClientFn } {
  const pending = new WeakMap<AbortSignal, AsyncIterable<DataStream>>();
  const interceptor: Interceptor = (next) => async (request) => {
    if (request.stream && request.method.input.typeName === DataStreamSchema.typeName) {
      pending.set(request.signal, request.message as AsyncIterable<DataStream>);
    }
    return next(request);
  };
  return {
    interceptor,
    httpClient: (request) => {
      const messages = request.signal && pending.get(request.signal);
      if (!request.signal || !messages) return httpClient(request);
      pending.delete(request.signal);
      return httpClient({ ...request, body: dataStreamBody(messages, maxMessageBytes) });
    },
  };
}

/** The request body: each DataStream as its envelope framing, then a view of its bytes. */
export async function* dataStreamBody(
  messages: AsyncIterable<DataStream>,
  maxMessageBytes: number,
): AsyncGenerator<Uint8Array> {
  for await (const message of messages) {
    const { framing, npbytes, messageBytes } = dataStreamEnvelopeParts(message);
    if (messageBytes > maxMessageBytes) {
      // What connect's serializer says for a message over writeMaxBytes.
      throw new ConnectError(
        `message size ${messageBytes} is larger than configured writeMaxBytes ${maxMessageBytes}`,
        Code.ResourceExhausted,
      );
    }
    yield framing;
    if (npbytes.byteLength > 0) yield npbytes;
  }
}
