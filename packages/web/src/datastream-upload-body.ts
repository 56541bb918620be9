import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { dataStreamEnvelopeParts } from "@openfl-connect/core/internal";
import { type DataStream, DataStreamSchema } from "@openfl-connect/core/protocol";

/** The gRPC(-web) envelope's length field is a uint32. */
const MAX_MESSAGE_BYTES = 0xffffffff;

/**
 * An upload's one DataStream (SendLocalTaskResults through gRPC-web, see
 * withSingleMessageClientStreams) sent as a Blob of its envelope framing and a view of its bytes,
 * instead of connect-web serializing it (protobuf writer, then envelope: two copies of every
 * tensor byte in the page's memory before fetch takes the body).
 *
 * connect-web has no public hook for a message's serialization, so two public hooks meet here:
 * an interceptor (innermost, after the application's own, which still see the real message)
 * records the DataStream under the call's AbortSignal and lets connect-web serialize an empty one
 * in its place; the fetch (it receives the same signal) sends the recorded one as the body instead
 * of that placeholder. Other calls pass through untouched.
 */
export function dataStreamUploadBodies(fetchFn: typeof globalThis.fetch): {
  readonly interceptor: Interceptor;
  readonly fetch: typeof globalThis.fetch;
} {
  const pending = new WeakMap<AbortSignal, DataStream>();
  const interceptor: Interceptor = (next) => async (request) => {
    if (request.stream || request.method.input.typeName !== DataStreamSchema.typeName) {
      return next(request);
    }
    // A WeakMap: an entry whose fetch never comes (a later interceptor failed) goes with the
    // call's signal.
    pending.set(request.signal, request.message as DataStream);
    return next({ ...request, message: create(DataStreamSchema) });
  };
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const message = init?.signal ? pending.get(init.signal) : undefined;
    if (message === undefined) return fetchFn(input, init);
    const { framing, npbytes, messageBytes } = dataStreamEnvelopeParts(message);
    if (messageBytes > MAX_MESSAGE_BYTES) {
      // What connect's serializer says for a message over writeMaxBytes.
      throw new ConnectError(
        `message size ${messageBytes} is larger than configured writeMaxBytes ${MAX_MESSAGE_BYTES}`,
        Code.ResourceExhausted,
      );
    }
    return fetchFn(input, {
      ...init,
      // Never shared memory here: the tensors' bytes are ordinary ArrayBuffers.
      body: new Blob([framing, npbytes] as Uint8Array<ArrayBuffer>[]),
    });
  };
  return { interceptor, fetch };
}
