import { create, fromBinary } from "@bufbuild/protobuf";
import {
  type Client,
  type CallOptions as ConnectCallOptions,
  createClient,
} from "@connectrpc/connect";
import { abortableSleep } from "./abortable-sleep.js";
import type { AggregatorConnection } from "./aggregator-connection.js";
import { concatParts, partsByteLength } from "./byte-parts.js";
import {
  type AggregatorClientOptions,
  type ResolvedClientOptions,
  resolveClientOptions,
} from "./client-options.js";
import { dataStreamChunks } from "./datastream-chunks.js";
import { AggregatorCallError, HeaderMismatchError } from "./errors.js";
import { classifyFailure } from "./failure-classifier.js";
import {
  Aggregator,
  type MessageHeader,
  TaskResultsSchema,
} from "./gen/openfl/protocols/aggregator_pb.js";
import { type NamedTensor, NamedTensorSchema } from "./gen/openfl/protocols/base_pb.js";
import { expectedResponseHeader, requestHeader } from "./message-header.js";
import type { PendingRequest, ResendBuffer } from "./resend-buffer.js";
import { CallRetries } from "./retry-policy.js";
import { serializeTaskResultsParts } from "./task-results-parts.js";
import { validateResponseHeader } from "./validate-response.js";

/** Per-call options. */
export interface CallOptions {
  /** Cancels the call, including any wait before a resend. The call rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

/** A task as the aggregator sends it (OpenFL 1.9 sets only `name`). */
export interface Task {
  readonly name: string;
  readonly functionName: string;
  readonly taskType: string;
  readonly applyLocal: boolean;
}

/** What GetTasks returns (OpenFL: tasks, round_number, sleep_time, time_to_quit). */
export interface TaskAssignment {
  readonly tasks: readonly Task[];
  readonly roundNumber: number;
  /** Seconds to sleep before asking again when there are no tasks. */
  readonly sleepTime: number;
  readonly quit: boolean;
}

export interface AggregatedTensorOptions extends CallOptions {
  /** Default false. */
  readonly report?: boolean;
  /** Default [] (OpenFL's collaborator asks for ["model"] when fetching the model). */
  readonly tags?: readonly string[];
  /** Default false (OpenFL's collaborator passes true for the model). */
  readonly requireLossless?: boolean;
}

export interface InteropReply {
  readonly message: Uint8Array;
  readonly metadata: Readonly<Record<string, string>>;
}

type ConnectionState =
  | { readonly t: "disconnected" }
  | { readonly t: "connected"; readonly connection: AggregatorConnection };

type AggregatorRpcClient = Client<typeof Aggregator>;

/**
 * The collaborator side of OpenFL's aggregator protocol (OpenFL: AggregatorGRPCClient),
 * independent of the transport. Stamps the header on every request, checks every
 * response header, and resends on reconnection according to the retry policy.
 */
export class AggregatorClient {
  readonly #options: ResolvedClientOptions;
  readonly #requestHeader: MessageHeader;
  readonly #expectedHeader: MessageHeader;
  #state: ConnectionState = { t: "disconnected" };

  constructor(options: AggregatorClientOptions) {
    this.#options = resolveClientOptions(options);
    this.#requestHeader = requestHeader(this.#options);
    this.#expectedHeader = expectedResponseHeader(this.#options);
  }

  /** Requests not yet acknowledged by the aggregator (uploads), oldest first. */
  get resendBuffer(): ResendBuffer {
    return this.#options.resendBuffer;
  }

  async ping(options?: CallOptions): Promise<void> {
    await this.#call("Ping", (c, o) => c.ping({ header: this.#requestHeader }, o), options);
  }

  async getTasks(options?: CallOptions): Promise<TaskAssignment> {
    const r = await this.#call(
      "GetTasks",
      (c, o) => c.getTasks({ header: this.#requestHeader }, o),
      options,
    );
    return {
      tasks: r.tasks.map((t) => ({
        name: t.name,
        functionName: t.functionName,
        taskType: t.taskType,
        applyLocal: t.applyLocal,
      })),
      roundNumber: r.roundNumber,
      sleepTime: r.sleepTime,
      quit: r.quit,
    };
  }

  async getAggregatedTensor(
    tensorName: string,
    roundNumber: number,
    options: AggregatedTensorOptions = {},
  ): Promise<NamedTensor> {
    const request = {
      header: this.#requestHeader,
      tensorName,
      roundNumber,
      report: options.report ?? false,
      tags: [...(options.tags ?? [])],
      requireLossless: options.requireLossless ?? false,
    };
    const r = await this.#call(
      "GetAggregatedTensor",
      (c, o) => c.getAggregatedTensor(request, o),
      options,
    );
    // Like OpenFL, an absent tensor (e.g. a tag naming another collaborator) reads as empty.
    return r.tensor ?? create(NamedTensorSchema);
  }

  /**
   * Uploads task results (OpenFL: send_local_task_results): serializes the TaskResults once,
   * keeps it in the resend buffer until acknowledged and streams it as DataStream chunks
   * (views, no copies). The tensors' data_bytes are referenced, not copied: do not modify
   * them until this resolves (a durable resend buffer copies them to disk at once).
   */
  async sendLocalTaskResults(
    roundNumber: number,
    taskName: string,
    dataSize: number,
    namedTensors: readonly NamedTensor[],
    options?: CallOptions,
  ): Promise<void> {
    // Parts: protobuf framing plus views of each tensor's data_bytes; no whole-message copy.
    const parts = serializeTaskResultsParts({
      header: this.#requestHeader,
      roundNumber,
      taskName,
      dataSize,
      tensors: [...namedTensors],
    });
    const pending: PendingRequest = {
      id: globalThis.crypto.randomUUID(),
      rpc: "SendLocalTaskResults",
      parts,
      description: `round ${roundNumber} task ${taskName} (${namedTensors.length} tensors, ${partsByteLength(parts)} bytes)`,
    };
    await this.#options.resendBuffer.add(pending);
    await this.#deliver(pending, options);
  }

  /** Resends every upload still in the resend buffer (e.g. after a restart with a durable buffer). */
  async resendPending(options?: CallOptions): Promise<number> {
    const pending = await this.#options.resendBuffer.list();
    for (const request of pending) await this.#deliver(request, options);
    return pending.length;
  }

  /**
   * Sends an opaque message through InteropRelay (OpenFL: send_message_to_server). OpenFL
   * servers outside interop mode answer UNIMPLEMENTED, surfaced at once.
   */
  async sendMessageToServer(
    message: Uint8Array,
    options: CallOptions & { readonly metadata?: Readonly<Record<string, string>> } = {},
  ): Promise<InteropReply> {
    const request = {
      header: this.#requestHeader,
      message: { size: message.byteLength, npbytes: message },
      metadata: { ...options.metadata },
    };
    const r = await this.#call("InteropRelay", (c, o) => c.interopRelay(request, o), options);
    return { message: r.message?.npbytes ?? new Uint8Array(0), metadata: { ...r.metadata } };
  }

  /** Checks a response's header (OpenFL: validate_response). Throws HeaderMismatchError. */
  validateResponse(
    response: { readonly header?: MessageHeader | undefined },
    rpc = "response",
  ): void {
    validateResponseHeader(rpc, response.header, this.#expectedHeader);
  }

  /** Closes the channel (OpenFL: disconnect). The next call opens a new one. */
  async disconnect(): Promise<void> {
    const state = this.#state;
    this.#state = { t: "disconnected" };
    if (state.t === "connected") await state.connection.close();
  }

  /** Closes the channel and opens a new one (OpenFL: reconnect). */
  async reconnect(): Promise<void> {
    await this.disconnect();
    if (!this.#options.enableAtomicConnections) {
      this.#state = { t: "connected", connection: this.#options.connector.open() };
    }
  }

  async #deliver(pending: PendingRequest, options: CallOptions | undefined): Promise<void> {
    const chunkBytes = this.#options.connector.uploadChunkBytes ?? this.#options.uploadChunkBytes;
    try {
      await this.#call(
        "SendLocalTaskResults",
        (c, o) => c.sendLocalTaskResults(chunkStream(pending.parts, chunkBytes), o),
        options,
      );
    } catch (error) {
      // Resending cannot help: take it out of the buffer, but hand the bytes to the caller.
      if (error instanceof AggregatorCallError && error.reason === "cannot-heal") {
        error.unsentRequest = pending.parts;
        const buffer = this.#options.resendBuffer;
        await (buffer.discard
          ? buffer.discard(pending.id, error.message)
          : buffer.acknowledge(pending.id));
      }
      throw error;
    }
    await this.#options.resendBuffer.acknowledge(pending.id);
  }

  async #call<R extends { header?: MessageHeader | undefined }>(
    rpc: string,
    attempt: (client: AggregatorRpcClient, options: ConnectCallOptions) => Promise<R>,
    options: CallOptions | undefined,
  ): Promise<R> {
    const { retry } = this.#options;
    const signal = options?.signal;
    const retries = new CallRetries({
      policy: retry,
      resendDataOnReconnection: this.#options.resendDataOnReconnection,
      canRefetchServerCertificate: this.#options.refetchServerCertificate !== undefined,
    });
    let resetDiagnosed = false;
    for (;;) {
      signal?.throwIfAborted();
      const connection = this.#acquireConnection();
      let error: unknown;
      try {
        const response = await attempt(createClient(Aggregator, connection.transport), {
          signal,
          timeoutMs: retry.attemptTimeoutMs,
        });
        if (!this.#options.connector.headerlessResponses?.has(rpc)) {
          validateResponseHeader(rpc, response.header, this.#expectedHeader);
        }
        return response;
      } catch (e) {
        error = e;
      } finally {
        if (this.#options.enableAtomicConnections) await connection.close();
      }
      if (signal?.aborted) throw signal.reason;
      if (error instanceof HeaderMismatchError) throw error;
      let classification = classifyFailure(error, this.#options.connector.classifyPlatformFailure);
      const { diagnoseReset } = this.#options.connector;
      if (classification.unexplainedReset && diagnoseReset && !resetDiagnosed) {
        // A reset with no cause may be an aggregator dropping every connection it refuses;
        // ask once per call so that a passing reset costs one probe, not one per attempt.
        resetDiagnosed = true;
        const found = await diagnoseReset.call(this.#options.connector, signal);
        if (signal?.aborted) throw signal.reason;
        if (found) classification = classifyFailure(error, () => found);
      }
      const step = retries.afterFailure(classification.disposition);
      if (step.giveUp !== undefined) {
        throw new AggregatorCallError(
          rpc,
          classification.code,
          classification.failure,
          step.giveUp,
          step.attempt,
          { cause: error, platform: classification.platform?.t },
        );
      }
      this.#options.onRetry?.({
        rpc,
        attempt: step.attempt,
        delayMs: step.delayMs,
        failure: classification.failure,
      });
      await this.#prepareResend(connection, signal);
      await abortableSleep(step.delayMs, signal);
    }
  }

  /** Like OpenFL: drop the channel, refetch the server certificate if we can, reconnect lazily. */
  async #prepareResend(
    failed: AggregatorConnection,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (this.#state.t === "connected" && this.#state.connection === failed) await this.disconnect();
    const refetch = this.#options.refetchServerCertificate;
    if (refetch) {
      const rootCertificate = await refetch();
      signal?.throwIfAborted();
      await this.#options.connector.useRootCertificate?.(rootCertificate);
    }
  }

  #acquireConnection(): AggregatorConnection {
    if (this.#options.enableAtomicConnections) return this.#options.connector.open();
    if (this.#state.t === "disconnected") {
      this.#state = { t: "connected", connection: this.#options.connector.open() };
    }
    return this.#state.connection;
  }
}

async function* chunkStream(parts: readonly Uint8Array[], chunkBytes: number) {
  yield* dataStreamChunks(parts, chunkBytes);
}

/** Parses an upload kept by a resend buffer, e.g. to show what is pending. */
export function parsePendingTaskResults(request: PendingRequest) {
  return fromBinary(TaskResultsSchema, concatParts(request.parts));
}
