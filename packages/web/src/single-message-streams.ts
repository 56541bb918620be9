import type {
  DescMessage,
  DescMethodStreaming,
  DescMethodUnary,
  MessageInitShape,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type StreamResponse, type Transport } from "@connectrpc/connect";

/**
 * Lets a fetch-based gRPC-web transport carry client-streaming calls whose stream holds
 * exactly one message. connect-web refuses every client stream ("The fetch API does not
 * support streaming request bodies"), but a client stream of one message is, on the wire,
 * the same single-envelope POST as a unary call: same path, same framing, one response
 * message plus trailers. So for a `client_streaming` method this drains the input, and
 * sends its one message with `transport.unary()` under a copy of the method descriptor
 * marked unary. Server-streaming, bidi and unary calls pass through unchanged.
 *
 * A client stream of zero or several messages fails with Code.InvalidArgument before
 * anything is sent (the core client sends one DataStream when the connector's
 * `uploadChunkBytes` is Infinity).
 */
export function withSingleMessageClientStreams(transport: Transport): Transport {
  return {
    unary: (method, signal, timeoutMs, header, input, contextValues) =>
      transport.unary(method, signal, timeoutMs, header, input, contextValues),
    stream: <I extends DescMessage, O extends DescMessage>(
      method: DescMethodStreaming<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      input: AsyncIterable<MessageInitShape<I>>,
      contextValues?: Parameters<Transport["stream"]>[5],
    ): Promise<StreamResponse<I, O>> => {
      if (method.methodKind !== "client_streaming") {
        return transport.stream(method, signal, timeoutMs, header, input, contextValues);
      }
      return sendSingleMessage(transport, method, signal, timeoutMs, header, input, contextValues);
    },
  };
}

async function sendSingleMessage<I extends DescMessage, O extends DescMessage>(
  transport: Transport,
  method: DescMethodStreaming<I, O>,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  header: HeadersInit | undefined,
  input: AsyncIterable<MessageInitShape<I>>,
  contextValues: Parameters<Transport["stream"]>[5],
): Promise<StreamResponse<I, O>> {
  const messages: MessageInitShape<I>[] = [];
  for await (const message of input) {
    messages.push(message);
    if (messages.length > 1) break;
  }
  const [only] = messages;
  if (messages.length !== 1 || only === undefined) {
    throw new ConnectError(
      `${method.parent.typeName}/${method.name}: gRPC-web carries a client stream of exactly one message, got ${messages.length === 0 ? "none" : "more than one"} (set the connector's uploadChunkBytes to Infinity)`,
      Code.InvalidArgument,
    );
  }
  const asUnary = { ...method, methodKind: "unary" } as unknown as DescMethodUnary<I, O>;
  const response = await transport.unary(asUnary, signal, timeoutMs, header, only, contextValues);
  return {
    stream: true,
    service: response.service,
    method,
    header: response.header,
    trailer: response.trailer,
    message: singleton(response.message),
  };
}

async function* singleton<T>(value: T): AsyncGenerator<T> {
  yield value;
}
