import type { DescMessage, DescMethodUnary, MessageInitShape } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextValues,
  type Transport,
  type UnaryResponse,
} from "@connectrpc/connect";
import {
  createAsyncIterable,
  createMethodSerializationLookup,
  createMethodUrl,
  encodeEnvelope,
  runUnaryCall,
  type UniversalClientFn,
} from "@connectrpc/connect/protocol";
import {
  headerGrpcStatus,
  requestHeaderWithCompression,
  validateResponseWithCompression,
  validateTrailer,
} from "@connectrpc/connect/protocol-grpc";
import { readUnaryMessage } from "./unary-response.js";

/**
 * A gRPC unary call as connect's gRPC transport makes it (same request, same checks of status,
 * headers and trailers, same errors), except that the response message is read by
 * `readUnaryMessage`: one copy of its bytes instead of two, and the parsed message's bytes
 * fields (a tensor's data_bytes) are views of that one buffer.
 *
 * Connect's transport has no public hook for how a response body is decoded, so this is its
 * unary path rebuilt from connect's exported protocol building blocks. No compression either
 * way (OpenFL uses none) and no interceptors; streaming calls stay with connect.
 */
export function unaryCall(
  baseUrl: string,
  httpClient: UniversalClientFn,
  maxMessageBytes: number,
): Transport["unary"] {
  const limits = { readMaxBytes: maxMessageBytes, writeMaxBytes: maxMessageBytes };
  return async <I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: MessageInitShape<I>,
    contextValues?: ContextValues,
  ): Promise<UnaryResponse<I, O>> => {
    const serialization = createMethodSerializationLookup(method, undefined, undefined, limits);
    const timeout = timeoutMs === undefined || timeoutMs <= 0 ? undefined : timeoutMs;
    return runUnaryCall<I, O>({
      interceptors: [],
      signal,
      timeoutMs: timeout,
      req: {
        stream: false,
        service: method.parent,
        method,
        requestMethod: "POST",
        url: createMethodUrl(baseUrl, method),
        header: requestHeaderWithCompression(true, timeout, header, [], null),
        contextValues: contextValues ?? createContextValues(),
        message: input,
      },
      next: async (req) => {
        const body = encodeEnvelope(0, serialization.getI(true).serialize(req.message));
        const response = await httpClient({
          url: req.url,
          method: "POST",
          header: req.header,
          signal: req.signal,
          body: createAsyncIterable([body]),
        });
        const { headerError } = validateResponseWithCompression(
          [],
          response.status,
          response.header,
        );
        const bytes = await readUnaryMessage(response.body, maxMessageBytes);
        validateTrailer(response.trailer, response.header);
        if (bytes === undefined) {
          // Trailers only
          if (headerError) throw headerError;
          throw new ConnectError(
            "protocol error: missing output message for unary method",
            response.trailer.has(headerGrpcStatus) ? Code.Unimplemented : Code.Unknown,
          );
        }
        if (headerError) {
          throw new ConnectError(
            "protocol error: received output message for unary method with error status",
            Code.Unknown,
          );
        }
        return {
          stream: false,
          service: method.parent,
          method,
          header: response.header,
          message: serialization.getO(true).parse(bytes),
          trailer: response.trailer,
        };
      },
    });
  };
}
