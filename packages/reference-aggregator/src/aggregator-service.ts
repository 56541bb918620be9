import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { TLSSocket } from "node:tls";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextKey,
  createContextValues,
  type HandlerContext,
  type ServiceImpl,
} from "@connectrpc/connect";
import { concatParts } from "@openfl-connect/core";
import { varint } from "@openfl-connect/core/internal";
import {
  type Aggregator,
  type DataStream,
  DataStreamSchema,
  GetAggregatedTensorResponseSchema,
  GetTasksResponseSchema,
  type MessageHeader,
  MessageHeaderSchema,
  PingResponseSchema,
  SendLocalTaskResultsResponseSchema,
  type TaskResults,
  TaskResultsSchema,
  TaskSchema,
} from "@openfl-connect/core/protocol";
import type { AggregatorState } from "./aggregator-state.js";

/** What the TLS layer says about the caller, read once per request. */
export type PeerIdentity =
  | { readonly t: "insecure" }
  | { readonly t: "tls"; readonly commonName: string | undefined };

/** Context key carrying the caller's certificate CN into the handlers. */
export const peerIdentityKey = createContextKey<PeerIdentity>({ t: "insecure" });

/** `contextValues` for connectNodeAdapter: the peer certificate's subject CN, if any. */
export function peerContextValues(
  req: http.IncomingMessage | http2.Http2ServerRequest,
): ContextValues {
  const socket = req.socket as Partial<TLSSocket>;
  const values = createContextValues();
  if (typeof socket.getPeerCertificate !== "function") return values;
  const subject = socket.getPeerCertificate().subject as { CN?: string | string[] } | undefined;
  const cn = subject?.CN;
  return values.set(peerIdentityKey, {
    t: "tls",
    commonName: Array.isArray(cn) ? cn[0] : cn,
  });
}

export interface AggregatorServiceOptions {
  /**
   * Random delay before answering an authentication failure, [min, max] in ms.
   * Default [0, 5000] (OpenFL: sleep(5 * random())). Tests use [0, 0].
   */
  readonly authFailureDelayMs?: readonly [number, number];
  /**
   * Most bytes one SendLocalTaskResults stream may carry in total: the DataStream messages'
   * whole encoded bytes (size, npbytes and their framing, unknown fields too), gRPC's 5-byte
   * prefixes not counted. Default DEFAULT_MAX_UPLOAD_BYTES (1 GiB, OpenFL's message limit); at
   * least 1. Past it the call ends with RESOURCE_EXHAUSTED before the rest is read.
   */
  readonly maxUploadBytes?: number;
  /** Test hook: fields replacing the correct response header (a misbehaving server). */
  readonly responseHeaderOverride?: Partial<
    Pick<MessageHeader, "sender" | "receiver" | "federationUuid" | "singleColCertCommonName">
  >;
}

/** 1 GiB: the default total limit of one upload stream (OpenFL's max message length). */
export const DEFAULT_MAX_UPLOAD_BYTES = 2 ** 30;

const EMPTY_STREAM_MESSAGE =
  "Empty stream message, reestablishing connection from client to resume training...";

/**
 * The `openfl.aggregator.Aggregator` service as OpenFL's AggregatorGRPCServer implements it:
 * certificate CN check (UNAUTHENTICATED), header asserts (UNKNOWN "Exception calling
 * application: ..."), then a call into the aggregator state.
 */
export function createAggregatorService(
  state: AggregatorState,
  options: AggregatorServiceOptions = {},
): ServiceImpl<typeof Aggregator> {
  const [minDelay, maxDelay] = options.authFailureDelayMs ?? [0, 5000];
  const maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  // NaN would disable the limit (no count is > NaN), 0 refuse every upload.
  if (!(maxUploadBytes >= 1)) {
    throw new RangeError(`maxUploadBytes must be a number >= 1, got ${maxUploadBytes}`);
  }

  const refuseAfterDelay = async (message: string): Promise<never> => {
    const delay = minDelay + Math.random() * (maxDelay - minDelay);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    throw new ConnectError(message, Code.Unauthenticated);
  };

  const validateCollaborator = async (
    header: MessageHeader | undefined,
    ctx: HandlerContext,
  ): Promise<void> => {
    const peer = ctx.values.get(peerIdentityKey);
    if (peer.t === "insecure") return;
    const sender = header?.sender ?? "";
    const cn = peer.commonName ?? "";
    if (state.validCollaboratorCnAndId(cn, sender)) return;
    await refuseAfterDelay(
      `Invalid collaborator. CN: |${cn}| collaborator_common_name: |${sender}|`,
    );
  };

  /**
   * Before an upload is read: the certificate must be one some authorised collaborator may use
   * (the sender in the header, checked after reading, must then match it). OpenFL reads the
   * whole stream first; an unauthorised certificate could make it buffer any amount.
   */
  const validateCertificateBeforeUpload = async (ctx: HandlerContext): Promise<void> => {
    const peer = ctx.values.get(peerIdentityKey);
    if (peer.t === "insecure") return;
    const cn = peer.commonName ?? "";
    if (state.certificateMayUpload(cn)) return;
    await refuseAfterDelay(
      `Invalid collaborator. CN: |${cn}| is not an authorized collaborator's certificate (checked before reading the upload)`,
    );
  };

  const checkRequest = (header: MessageHeader | undefined): string => {
    const h = header ?? create(MessageHeaderSchema);
    // OpenFL 1.9's messages, as observed from its real server.
    if (!state.authorizedCollaborators.includes(h.sender)) {
      throw applicationError(`Sender in request header is not authorized. Sender: ${h.sender}`);
    }
    checkEqual(
      "Receiver in request header does not match aggregator UUID",
      h.receiver,
      state.aggregatorUuid,
    );
    checkEqual(
      "Federation UUID in request header does not match",
      h.federationUuid,
      state.federationUuid,
    );
    checkEqual(
      "Single collaborator certificate common name in request header does not match",
      h.singleColCertCommonName,
      state.singleColCertCommonName,
    );
    return h.sender;
  };

  const responseHeader = (collaborator: string): MessageHeader =>
    create(MessageHeaderSchema, {
      sender: state.aggregatorUuid,
      receiver: collaborator,
      federationUuid: state.federationUuid,
      singleColCertCommonName: state.singleColCertCommonName,
      ...options.responseHeaderOverride,
    });

  return {
    ping: (request, ctx) =>
      guard(async () => {
        await validateCollaborator(request.header, ctx);
        const collaborator = checkRequest(request.header);
        return create(PingResponseSchema, { header: responseHeader(collaborator) });
      }),

    getTasks: (request, ctx) =>
      guard(async () => {
        await validateCollaborator(request.header, ctx);
        const collaborator = checkRequest(request.header);
        const assignment = state.getTasks(collaborator);
        return create(GetTasksResponseSchema, {
          header: responseHeader(collaborator),
          roundNumber: assignment.roundNumber,
          tasks: assignment.tasks.map((name) => create(TaskSchema, { name })),
          sleepTime: assignment.sleepTime,
          quit: assignment.quit,
        });
      }),

    getAggregatedTensor: (request, ctx) =>
      guard(async () => {
        await validateCollaborator(request.header, ctx);
        const collaborator = checkRequest(request.header);
        const tensor = await state.getAggregatedTensor(
          {
            tensorName: request.tensorName,
            roundNumber: request.roundNumber,
            report: request.report,
            tags: request.tags,
            requireLossless: request.requireLossless,
            requestedBy: collaborator,
          },
          ctx.signal,
        );
        return create(GetAggregatedTensorResponseSchema, {
          header: responseHeader(collaborator),
          roundNumber: request.roundNumber,
          tensor,
        });
      }),

    sendLocalTaskResults: (requests, ctx) =>
      guard(async () => {
        await validateCertificateBeforeUpload(ctx);
        const results = await readTaskResults(requests, maxUploadBytes);
        await validateCollaborator(results.header, ctx);
        const collaborator = checkRequest(results.header);
        state.sendLocalTaskResults({
          collaborator,
          roundNumber: results.roundNumber,
          taskName: results.taskName,
          dataSize: results.dataSize,
          tensors: results.tensors,
        });
        return create(SendLocalTaskResultsResponseSchema, {
          header: responseHeader(collaborator),
        });
      }),

    interopRelay: () => {
      throw new ConnectError(
        // OpenFL 1.9's exact text (AggregatorGRPCServer.InteropRelay outside interop mode).
        "InteropRelay is only available in federated interoperability mode.",
        Code.Unimplemented,
      );
    },
  };
}

/**
 * Reads the whole stream, joins `npbytes` (ignoring `size`) and parses one TaskResults. Stops
 * with RESOURCE_EXHAUSTED as soon as the stream's messages come to more than `maxBytes`.
 */
async function readTaskResults(
  requests: AsyncIterable<DataStream>,
  maxBytes: number,
): Promise<TaskResults> {
  const parts: Uint8Array[] = [];
  let payload = 0;
  let total = 0;
  for await (const chunk of requests) {
    parts.push(chunk.npbytes);
    payload += chunk.npbytes.byteLength;
    total += dataStreamMessageBytes(chunk);
    if (total > maxBytes) {
      throw new ConnectError(
        `upload of more than ${maxBytes} bytes refused: the aggregator's limit of one SendLocalTaskResults stream is ${maxBytes} bytes`,
        Code.ResourceExhausted,
      );
    }
  }
  if (payload === 0) throw applicationError(EMPTY_STREAM_MESSAGE);
  return fromBinary(TaskResultsSchema, concatParts(parts));
}

const NO_BYTES = new Uint8Array(0);

/**
 * The encoded size of one DataStream message, as it came over the wire (without gRPC's
 * prefix): everything but npbytes encoded again, plus npbytes' tag, length and bytes (not
 * copied).
 */
function dataStreamMessageBytes(chunk: DataStream): number {
  const rest = toBinary(DataStreamSchema, { ...chunk, npbytes: NO_BYTES }).byteLength;
  const n = chunk.npbytes.byteLength;
  // proto3 leaves empty bytes out; else tag 0x12 (field 2, length-delimited), length, bytes.
  return n === 0 ? rest : rest + 1 + varint(n).length + n;
}

/** Runs a handler body; anything but a ConnectError becomes UNKNOWN, as grpcio reports a Python exception. */
async function guard<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof ConnectError) throw error;
    throw applicationError(error instanceof Error ? error.message : String(error));
  }
}

function applicationError(message: string): ConnectError {
  return new ConnectError(`Exception calling application: ${message}`, Code.Unknown);
}

function checkEqual(what: string, actual: string, expected: string): void {
  if (actual !== expected)
    throw applicationError(`${what}. Expected: ${expected}, Actual: ${actual}`);
}
