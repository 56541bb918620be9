// The aggregator protocol over OpenFL's REST server, as a Connect Transport: core's client makes
// the same calls as over gRPC (header, validation, retry, resend, deadlines, cancellation), and
// this maps each to its HTTPS request and the JSON answer back to the protobuf message
// (protobuf's JSON mapping, which OpenFL's json_format writes and reads).
import type { IncomingMessage } from "node:http";
import {
  create,
  type DescMessage,
  type DescMethodStreaming,
  type DescMethodUnary,
  fromJson,
  type JsonValue,
  type MessageInitShape,
  type MessageShape,
  toJsonString,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type StreamResponse,
  type Transport,
  type UnaryResponse,
} from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import {
  type DataStream,
  GetAggregatedTensorRequestSchema,
  GetAggregatedTensorResponseSchema,
  GetTasksRequestSchema,
  InteropMessageSchema,
  type MessageHeader,
  PingRequestSchema,
} from "@openfl-connect/core/protocol";
import { type RestTarget, readText, restExchange } from "./rest-exchange.js";
import { restFailure } from "./rest-failure.js";
import { readJsonWithBytes } from "./rest-json-body.js";
import {
  getAggregatedTensorRequest,
  identityGetRequest,
  interopRelayRequest,
  type RestRequest,
  requestPath,
  sendLocalTaskResultsRequest,
} from "./rest-requests.js";
import { taskResultsStreamBody } from "./rest-upload-body.js";

/** Enough of an error page to read OpenFL's words. */
const ERROR_BODY_MAX_BYTES = 64 * 1024;

export interface RestTransportSettings {
  readonly target: RestTarget;
  readonly maxMessageBytes: number;
  /** The header of this collaborator's requests (core's requestHeader), for the upload's headers. */
  readonly header: MessageHeader;
}

/**
 * Base64 makes 3 bytes 4; a JSON answer carrying a message of maxMessageBytes is at most this
 * (plus the other fields, a few KiB).
 */
function maxBodyBytes(maxMessageBytes: number): number {
  return Math.ceil(maxMessageBytes / 3) * 4 + 64 * 1024;
}

export function restTransport(settings: RestTransportSettings): Transport {
  const { target, maxMessageBytes } = settings;

  /** The request, its answer checked (200, size) and parsed into `schema`. */
  async function exchange<O extends DescMessage>(
    request: RestRequest,
    body: { parts: readonly Uint8Array[]; byteLength: number } | undefined,
    schema: O,
    bytesPath: readonly string[],
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ): Promise<{ json: JsonValue; bytes: Uint8Array | undefined }> {
    const path = requestPath(request);
    const route = `${request.method} ${path.split("?")[0]}`;
    return restExchange(
      target,
      { method: request.method, path, headers: request.headers, ...(body ? { body } : {}) },
      signal,
      timeoutMs,
      async (response: IncomingMessage) => {
        const status = response.statusCode ?? 0;
        if (status !== 200)
          throw restFailure(status, route, await readText(response, ERROR_BODY_MAX_BYTES));
        const length = Number(response.headers["content-length"]);
        const bodyBytes = Number.isInteger(length) && length >= 0 ? length : undefined;
        if (bodyBytes !== undefined && bodyBytes > maxBodyBytes(maxMessageBytes)) {
          throw new ConnectError(
            `the answer of ${route} (${bodyBytes} bytes) is larger than a ${schema.typeName} of maxMessageBytes ${maxMessageBytes}`,
            Code.ResourceExhausted,
          );
        }
        const parsed = await readJsonWithBytes(response, bytesPath, bodyBytes);
        return { json: parsed.json as JsonValue, bytes: parsed.bytes };
      },
    );
  }

  function parse<O extends DescMessage>(schema: O, json: JsonValue): MessageShape<O> {
    try {
      return fromJson(schema, json, { ignoreUnknownFields: true });
    } catch (error) {
      throw new ConnectError(
        `protocol error: the answer is not a ${schema.typeName} in protobuf's JSON mapping (${(error as Error).message})`,
        Code.InvalidArgument,
      );
    }
  }

  return {
    async unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      _header: HeadersInit | undefined,
      input: MessageInitShape<I>,
    ): Promise<UnaryResponse<I, O>> {
      const answer = (message: MessageShape<O>): UnaryResponse<I, O> => ({
        stream: false,
        service: method.parent,
        method,
        header: new Headers(),
        message,
        trailer: new Headers(),
      });
      switch (method.name) {
        case "Ping":
        case "GetTasks": {
          const schema = method.name === "Ping" ? PingRequestSchema : GetTasksRequestSchema;
          const header = requestHeaderOf(create(schema, input as never).header);
          const request = identityGetRequest(method.name === "Ping" ? "/ping" : "/tasks", header);
          const { json } = await exchange(request, undefined, method.output, [], signal, timeoutMs);
          return answer(parse(method.output, json));
        }
        case "GetAggregatedTensor": {
          const r = create(GetAggregatedTensorRequestSchema, input as never);
          const request = getAggregatedTensorRequest({ ...r, header: requestHeaderOf(r.header) });
          const { json, bytes } = await exchange(
            request,
            undefined,
            GetAggregatedTensorResponseSchema,
            ["tensor", "dataBytes"],
            signal,
            timeoutMs,
          );
          const message = parse(GetAggregatedTensorResponseSchema, json);
          if (bytes !== undefined && message.tensor) message.tensor.dataBytes = bytes;
          return answer(message as unknown as MessageShape<O>);
        }
        case "InteropRelay": {
          const relay = create(InteropMessageSchema, input as never);
          const text = Buffer.from(toJsonString(InteropMessageSchema, relay));
          const { json, bytes } = await exchange(
            interopRelayRequest(requestHeaderOf(relay.header)),
            { parts: [text], byteLength: text.byteLength },
            InteropMessageSchema,
            ["message", "npbytes"],
            signal,
            timeoutMs,
          );
          const message = parse(InteropMessageSchema, json);
          if (bytes !== undefined && message.message) message.message.npbytes = bytes;
          return answer(message as unknown as MessageShape<O>);
        }
        default:
          throw new ConnectError(
            `OpenFL's REST server has no route for ${method.name}`,
            Code.Unimplemented,
          );
      }
    },

    async stream<I extends DescMessage, O extends DescMessage>(
      method: DescMethodStreaming<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      _header: HeadersInit | undefined,
      input: AsyncIterable<MessageInitShape<I>>,
    ): Promise<StreamResponse<I, O>> {
      if (method.name !== "SendLocalTaskResults") {
        throw new ConnectError(
          `OpenFL's REST server has no route for ${method.name}`,
          Code.Unimplemented,
        );
      }
      const body = await taskResultsStreamBody(input as AsyncIterable<DataStream>, maxMessageBytes);
      const { json } = await exchange(
        sendLocalTaskResultsRequest(settings.header),
        body,
        method.output,
        [],
        signal,
        timeoutMs,
      );
      // OpenFL's acknowledgement: {"status": "success"}, no header (the connector says so to core).
      if ((json as { status?: unknown } | null)?.status !== "success") {
        throw new ConnectError(
          `protocol error: the upload's answer is ${JSON.stringify(json).slice(0, 200)}, expected {"status": "success"}`,
          Code.Unknown,
        );
      }
      return {
        stream: true,
        service: method.parent,
        method,
        header: new Headers(),
        message: createAsyncIterable([create(method.output) as MessageShape<O>]),
        trailer: new Headers(),
      };
    },
  };

  function requestHeaderOf(header: MessageHeader | undefined): MessageHeader {
    return header ?? settings.header;
  }
}
