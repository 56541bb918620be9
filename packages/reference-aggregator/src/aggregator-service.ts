import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { TLSSocket } from "node:tls";
import { create, fromBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextKey,
  createContextValues,
  type HandlerContext,
  type ServiceImpl,
} from "@connectrpc/connect";
import {
  type Aggregator,
  type DataStream,
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
  /** Test hook: fields replacing the correct response header (a misbehaving server). */
  readonly responseHeaderOverride?: Partial<
    Pick<MessageHeader, "sender" | "receiver" | "federationUuid" | "singleColCertCommonName">
  >;
}

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

  const validateCollaborator = async (
    header: MessageHeader | undefined,
    ctx: HandlerContext,
  ): Promise<void> => {
    const peer = ctx.values.get(peerIdentityKey);
    if (peer.t === "insecure") return;
    const sender = header?.sender ?? "";
    const cn = peer.commonName ?? "";
    if (state.validCollaboratorCnAndId(cn, sender)) return;
    const delay = minDelay + Math.random() * (maxDelay - minDelay);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    throw new ConnectError(
      `Invalid collaborator. CN: |${cn}| collaborator_common_name: |${sender}|`,
      Code.Unauthenticated,
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
        const results = await readTaskResults(requests);
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

/** Reads the whole stream, joins `npbytes` (ignoring `size`) and parses one TaskResults. */
async function readTaskResults(requests: AsyncIterable<DataStream>): Promise<TaskResults> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of requests) {
    parts.push(chunk.npbytes);
    total += chunk.npbytes.byteLength;
  }
  if (total === 0) throw applicationError(EMPTY_STREAM_MESSAGE);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return fromBinary(TaskResultsSchema, joined);
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
