import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import {
  applyDelta,
  COMPRESSED_TAG,
  decodeNamedTensor,
  encodeNamedTensor,
  type Float32Tensor,
  generateDelta,
  LOSSY_COMPRESSED_TAG,
  MAX_TIMER_MS,
  type NamedTensor,
} from "@openfl-connect/core";
import { NamedTensorSchema } from "@openfl-connect/core/protocol";
import { type AggregatorLogger, defaultLogger } from "./logger.js";

/** OpenFL's default task list for a TaskRunner federation. */
export const DEFAULT_TASKS = [
  "aggregated_model_validation",
  "train",
  "locally_tuned_model_validation",
] as const;

/** Seconds a collaborator is told to sleep when it has nothing to do (OpenFL: 10). */
export const NO_TASK_SLEEP_SECONDS = 10;

export interface AggregatorStateOptions {
  /** OpenFL: aggregator_uuid, e.g. "aggregator_plan.yaml_4ebcd576". */
  readonly aggregatorUuid: string;
  /** OpenFL: federation_uuid, e.g. "plan.yaml_4ebcd576". */
  readonly federationUuid: string;
  /** OpenFL: single_col_cert_common_name. Default "" (every collaborator has its own certificate). */
  readonly singleColCertCommonName?: string;
  /** OpenFL: authorized_cols (cols.yaml). */
  readonly authorizedCollaborators: readonly string[];
  /**
   * Collaborators whose results complete a round (and who must be told to quit), a subset of
   * `authorizedCollaborators`. The others may call the aggregator (e.g. a dashboard checking the
   * federation) without rounds waiting for them. Default: every authorised collaborator
   * (OpenFL: the assigner's collaborators for the round's tasks).
   */
  readonly roundParticipants?: readonly string[];
  /** OpenFL: rounds_to_train. */
  readonly rounds: number;
  /** Task names of every round, in order. Default DEFAULT_TASKS. */
  readonly tasks?: readonly string[];
  /** The round-0 model: tensor name -> float32 tensor (row-major). */
  readonly initialModel: Readonly<Record<string, Float32Tensor>>;
  /** How long get_aggregated_tensor waits for a missing tensor, in ms, before UNKNOWN. Default 60000 (OpenFL: 60 s). */
  readonly tensorWaitMs?: number;
  /** Where warnings and info lines go. Default: one JSON line per entry on stderr. */
  readonly logger?: AggregatorLogger;
}

/** One tensor of a received TaskResults, decoded. */
export interface ReceivedTensor {
  readonly name: string;
  readonly roundNumber: number;
  readonly report: boolean;
  /** Tags as the receiver keeps them: without "compressed", sorted. */
  readonly tags: readonly string[];
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /**
   * Hex SHA-256 of the tensor's data_bytes as received. Computed on first read (an upload
   * does not wait for it), from `data`'s bytes where those equal data_bytes (little-endian
   * platforms): do not modify `data`.
   */
  readonly sha256: string;
}

/** One accepted TaskResults. */
export interface ResultsRecord {
  readonly collaborator: string;
  readonly round: number;
  readonly taskName: string;
  readonly dataSize: number;
  readonly tensors: readonly ReceivedTensor[];
}

export interface RoundSummary {
  readonly round: number;
  /** Collaborators whose results made up the round. */
  readonly collaborators: readonly string[];
  /** "task/metricName" -> average weighted by data_size. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** One complete upload as it reached the aggregator, before any duplicate filter. */
export interface UploadReceived {
  readonly collaborator: string;
  readonly round: number;
  readonly taskName: string;
}

/** What `sendLocalTaskResults` did with the results. */
export type ResultsOutcome =
  | { readonly t: "accepted"; readonly record: ResultsRecord }
  | {
      readonly t: "ignored";
      readonly reason: "experiment-finished" | "wrong-round" | "duplicate" | "unknown-task";
    };

export interface TaskAssignment {
  readonly tasks: readonly string[];
  readonly roundNumber: number;
  readonly sleepTime: number;
  readonly quit: boolean;
}

export interface TensorRequest {
  readonly tensorName: string;
  readonly roundNumber: number;
  readonly report: boolean;
  readonly tags: readonly string[];
  readonly requireLossless: boolean;
  readonly requestedBy: string;
}

export interface TaskResultsInput {
  readonly collaborator: string;
  readonly roundNumber: number;
  readonly taskName: string;
  readonly dataSize: number;
  readonly tensors: readonly NamedTensor[];
}

/** An aggregator-side failure; the service answers it as UNKNOWN (like a Python exception). */
export class AggregatorStateError extends Error {
  override name = "AggregatorStateError";
}

type Listener<T> = (value: T) => void;

interface StoredTensor {
  readonly tensor: Float32Tensor;
}

interface Waiter {
  readonly key: string;
  readonly wake: () => void;
}

/**
 * The aggregator's experiment state, as OpenFL's Aggregator keeps it for a collaborator:
 * rounds, per-round tasks, a tensor store, and FedAvg at round end. Synchronous apart from
 * waiting for a tensor, so every update is atomic.
 */
export class AggregatorState {
  readonly aggregatorUuid: string;
  readonly federationUuid: string;
  readonly singleColCertCommonName: string;
  readonly authorizedCollaborators: readonly string[];
  readonly roundParticipants: readonly string[];
  readonly rounds: number;
  readonly tasks: readonly string[];
  readonly tensorWaitMs: number;
  /** Every accepted TaskResults, in arrival order. */
  readonly receivedResults: ResultsRecord[] = [];
  /**
   * Every complete upload that reached sendLocalTaskResults, in arrival order, duplicates and
   * ignored ones included: what came over the wire, for tests of "exactly once".
   */
  readonly uploadsReceived: UploadReceived[] = [];
  readonly roundSummaries: RoundSummary[] = [];

  private round = 0;
  private currentModel: Record<string, Float32Tensor>;
  private readonly store = new Map<string, StoredTensor>();
  /** Task names done this round per collaborator. */
  private readonly done = new Map<string, Set<string>>();
  /** This round's accepted tensor keys (collaborator, name, report, tags) -> the task that sent them. */
  private readonly roundTensorKeys = new Map<string, string>();
  private readonly quitSentTo = new Set<string>();
  private readonly waiters = new Set<Waiter>();
  private readonly roundEndListeners = new Set<Listener<RoundSummary>>();
  private readonly resultsListeners = new Set<Listener<ResultsRecord>>();
  private readonly log: AggregatorLogger;

  constructor(options: AggregatorStateOptions) {
    if (!Number.isInteger(options.rounds) || options.rounds < 0) {
      throw new RangeError(`rounds must be a whole number >= 0, got ${options.rounds}`);
    }
    if (options.authorizedCollaborators.length === 0) {
      throw new RangeError("authorizedCollaborators must name at least one collaborator");
    }
    this.aggregatorUuid = options.aggregatorUuid;
    this.federationUuid = options.federationUuid;
    this.singleColCertCommonName = options.singleColCertCommonName ?? "";
    this.authorizedCollaborators = [...options.authorizedCollaborators];
    this.roundParticipants = [...(options.roundParticipants ?? options.authorizedCollaborators)];
    const outsiders = this.roundParticipants.filter(
      (c) => !this.authorizedCollaborators.includes(c),
    );
    if (this.roundParticipants.length === 0 || outsiders.length > 0) {
      throw new RangeError(
        `roundParticipants must name at least one collaborator, all authorised; not authorised: ${outsiders.join(", ")}`,
      );
    }
    this.rounds = options.rounds;
    this.tasks = [...(options.tasks ?? DEFAULT_TASKS)];
    this.tensorWaitMs = options.tensorWaitMs ?? 60_000;
    // A longer timer would fire at once, failing every wait for a tensor immediately.
    if (!(this.tensorWaitMs >= 0 && this.tensorWaitMs <= MAX_TIMER_MS)) {
      throw new RangeError(
        `tensorWaitMs must be from 0 to ${MAX_TIMER_MS} ms (the longest timer), got ${this.tensorWaitMs}`,
      );
    }
    this.log = options.logger ?? defaultLogger;
    this.currentModel = copyModel(options.initialModel);
    // Fails early (TensorCodecError) on a tensor whose data does not fit its shape.
    for (const [name, tensor] of Object.entries(this.currentModel)) {
      encodeNamedTensor(tensor, { name, roundNumber: 0 });
    }
    this.storeModel(0, this.currentModel);
  }

  /** The round in progress (0-based); equals `rounds` once the experiment has ended. */
  get currentRound(): number {
    return this.round;
  }

  /** The model for `currentRound` (after the last round: the final model). */
  get model(): Readonly<Record<string, Float32Tensor>> {
    return this.currentModel;
  }

  get experimentFinished(): boolean {
    return this.round >= this.rounds;
  }

  /** OpenFL: all_quit_jobs_sent(): every round participant was told to quit. */
  allQuitJobsSent(): boolean {
    return this.roundParticipants.every((c) => this.quitSentTo.has(c));
  }

  /** OpenFL: valid_collaborator_cn_and_id(cn, name). */
  validCollaboratorCnAndId(certCommonName: string, collaboratorName: string): boolean {
    const authorised = this.authorizedCollaborators.includes(collaboratorName);
    if (this.singleColCertCommonName === "") {
      return certCommonName === collaboratorName && authorised;
    }
    return certCommonName === this.singleColCertCommonName && authorised;
  }

  /**
   * Whether some authorised collaborator may present a certificate with this CN (checked before
   * an upload is read; the sender must then match it, validCollaboratorCnAndId).
   */
  certificateMayUpload(certCommonName: string): boolean {
    if (this.singleColCertCommonName !== "") {
      return certCommonName === this.singleColCertCommonName;
    }
    return this.authorizedCollaborators.includes(certCommonName);
  }

  /** Calls `listener` after every round end; returns a function that unsubscribes. */
  onRoundEnd(listener: Listener<RoundSummary>): () => void {
    this.roundEndListeners.add(listener);
    return () => this.roundEndListeners.delete(listener);
  }

  /** Calls `listener` for every accepted TaskResults; returns a function that unsubscribes. */
  onResults(listener: Listener<ResultsRecord>): () => void {
    this.resultsListeners.add(listener);
    return () => this.resultsListeners.delete(listener);
  }

  /** OpenFL: get_tasks(collaborator_name). */
  getTasks(collaborator: string): TaskAssignment {
    if (this.experimentFinished) {
      this.quitSentTo.add(collaborator);
      return { tasks: [], roundNumber: this.round, sleepTime: 0, quit: true };
    }
    const doneTasks = this.done.get(collaborator);
    const remaining = this.tasks.filter((t) => !doneTasks?.has(t));
    if (remaining.length === 0) {
      return { tasks: [], roundNumber: this.round, sleepTime: NO_TASK_SLEEP_SECONDS, quit: false };
    }
    return { tasks: remaining, roundNumber: this.round, sleepTime: 0, quit: false };
  }

  /**
   * OpenFL: get_aggregated_tensor(...). Waits up to `tensorWaitMs` for a tensor that is not
   * there yet (e.g. the next round's model), then fails. A tag naming another authorised
   * collaborator yields an empty NamedTensor.
   */
  async getAggregatedTensor(request: TensorRequest, signal?: AbortSignal): Promise<NamedTensor> {
    const tags = normaliseTags(request.tags);
    if (tags.some((t) => this.authorizedCollaborators.includes(t) && t !== request.requestedBy)) {
      return create(NamedTensorSchema);
    }
    // OpenFL: a request for ("aggregated", "delta") of round r >= 1 is answered from the
    // aggregated tensor of round r, as its difference from the round r - 1 model.
    const delta = isAggregatedDelta(tags) && request.roundNumber !== 0;
    const lookupTags = delta ? ["aggregated"] : tags;
    const key = storeKey(request.tensorName, request.roundNumber, request.report, lookupTags);
    const stored = this.store.get(key) ?? (await this.waitForTensor(key, signal));
    if (stored === undefined) {
      throw new AggregatorStateError(
        `Aggregator does not have an aggregated tensor for ${tensorKeyRepr(this.aggregatorUuid, request.tensorName, request.roundNumber, request.report, tags)}`,
      );
    }
    if (delta) return this.aggregatedDelta(request, stored.tensor);
    // Stored tensors are never modified (a new round stores new ones), so data_bytes can be a
    // view of the stored data: the response is serialised from it, no extra copy of the tensor.
    const named = encodeNamedTensor(stored.tensor, {
      name: request.tensorName,
      roundNumber: request.roundNumber,
      tags,
      report: request.report,
      zeroCopy: true,
    });
    named.tags = [...new Set(named.tags)].sort();
    return named;
  }

  /** The aggregated tensor of a round minus the previous round's model, as OpenFL sends it. */
  private aggregatedDelta(request: TensorRequest, aggregated: Float32Tensor): NamedTensor {
    const base = this.store.get(
      storeKey(request.tensorName, request.roundNumber - 1, request.report, ["model"]),
    );
    if (base === undefined) {
      throw new AggregatorStateError(
        `The original model layer should be present if the latest aggregated model is present (${request.tensorName}, round ${request.roundNumber - 1})`,
      );
    }
    return encodeNamedTensor(
      { shape: aggregated.shape, data: generateDelta(aggregated, base.tensor, request.tensorName) },
      {
        name: request.tensorName,
        roundNumber: request.roundNumber,
        tags: ["aggregated", "delta"],
        report: request.report,
        lossless: request.requireLossless || request.tags.includes(COMPRESSED_TAG),
      },
    );
  }

  /**
   * OpenFL: send_local_task_results(...). Results for a finished experiment, another round
   * or an already reported task are ignored (logged). Invalid tensors throw.
   */
  sendLocalTaskResults(input: TaskResultsInput): ResultsOutcome {
    const { collaborator, roundNumber, taskName } = input;
    this.uploadsReceived.push({ collaborator, round: roundNumber, taskName });
    if (this.experimentFinished) {
      this.log("warn", "results after the experiment finished; ignoring", {
        collaborator,
        taskName,
        round: roundNumber,
      });
      return { t: "ignored", reason: "experiment-finished" };
    }
    if (roundNumber !== this.round) {
      this.log("warn", "results for the wrong round; ignoring", {
        collaborator,
        taskName,
        round: roundNumber,
        currentRound: this.round,
      });
      return { t: "ignored", reason: "wrong-round" };
    }
    if (this.done.get(collaborator)?.has(taskName)) {
      this.log("warn", "already has results for this task; ignoring", {
        collaborator,
        taskName,
        round: roundNumber,
      });
      return { t: "ignored", reason: "duplicate" };
    }
    if (!this.tasks.includes(taskName)) {
      this.log("warn", "results for a task the aggregator did not assign; ignoring", {
        collaborator,
        taskName,
        round: roundNumber,
      });
      return { t: "ignored", reason: "unknown-task" };
    }
    const tensors = input.tensors.map((named) => this.decodeReceived(named, roundNumber));
    this.refuseRepeatedKeys(collaborator, taskName, tensors);
    this.refuseWrongShapes(collaborator, taskName, tensors);
    if (!Number.isInteger(input.dataSize) || input.dataSize < 0) {
      throw new AggregatorStateError(`data_size must be >= 0, got ${input.dataSize}`);
    }
    if (input.dataSize === 0 && tensors.some((t) => t.tags.includes("trained"))) {
      throw new AggregatorStateError(
        `data_size must be > 0 for results with trained tensors (task ${taskName}, collaborator ${collaborator})`,
      );
    }
    const record: ResultsRecord = {
      collaborator,
      round: roundNumber,
      taskName,
      dataSize: input.dataSize,
      tensors,
    };
    this.receivedResults.push(record);
    for (const t of tensors) this.roundTensorKeys.set(roundTensorKey(collaborator, t), taskName);
    let doneTasks = this.done.get(collaborator);
    if (doneTasks === undefined) {
      doneTasks = new Set();
      this.done.set(collaborator, doneTasks);
    }
    doneTasks.add(taskName);
    this.log("info", "task results received", {
      collaborator,
      taskName,
      round: roundNumber,
      dataSize: input.dataSize,
      tensors: tensors.length,
    });
    for (const listener of this.resultsListeners) listener(record);
    if (this.roundComplete()) this.endRound();
    return { t: "accepted", record };
  }

  /** Resolves once the experiment has ended (immediately if it already has). */
  whenFinished(): Promise<readonly RoundSummary[]> {
    if (this.experimentFinished) return Promise.resolve(this.roundSummaries);
    return new Promise((resolve) => {
      const off = this.onRoundEnd(() => {
        if (this.experimentFinished) {
          off();
          resolve(this.roundSummaries);
        }
      });
    });
  }

  /**
   * OpenFL's aggregator keys a collaborator's results by (name, round, report, tags) across all
   * tasks of a round; a second task sending the same key leaves the round unable to end (its
   * end-of-round aggregation raises). Refused here, on the upload that repeats the key.
   */
  private refuseRepeatedKeys(
    collaborator: string,
    taskName: string,
    tensors: readonly ReceivedTensor[],
  ): void {
    for (const t of tensors) {
      const earlierTask = this.roundTensorKeys.get(roundTensorKey(collaborator, t));
      if (earlierTask !== undefined) {
        throw new AggregatorStateError(
          `task ${taskName} from ${collaborator} repeats ${tensorKeyRepr(this.aggregatorUuid, t.name, t.roundNumber, t.report, t.tags)} already sent by task ${earlierTask} this round; the round could not be aggregated`,
        );
      }
    }
  }

  /**
   * A trained tensor of the model must have the model's shape, or endRound's average throws and
   * the round can never end; a metric must be one value. OpenFL 1.9 checks the shape nowhere on
   * arrival: its end-of-round np.average raises inside the last upload, and that round never
   * ends either. It does refuse a metric of several values on arrival (float(value) raises in
   * process_task_results). Both are refused here, on the upload that carries them. (Byte length
   * against the shape is checked by decoding; the codec has one dtype, float32.)
   */
  private refuseWrongShapes(
    collaborator: string,
    taskName: string,
    tensors: readonly ReceivedTensor[],
  ): void {
    for (const t of tensors) {
      const repr = () =>
        tensorKeyRepr(this.aggregatorUuid, t.name, t.roundNumber, t.report, t.tags);
      const model = t.tags.includes("trained") ? this.currentModel[t.name] : undefined;
      if (model !== undefined && !sameShape(model.shape, t.shape)) {
        throw new AggregatorStateError(
          `task ${taskName} from ${collaborator} sends ${repr()} of shape [${t.shape.join(", ")}], but the model's tensor '${t.name}' has shape [${model.shape.join(", ")}]; the round could not be aggregated`,
        );
      }
      if (t.tags.includes("metric") && t.data.length !== 1) {
        throw new AggregatorStateError(
          `task ${taskName} from ${collaborator} sends metric ${repr()} of shape [${t.shape.join(", ")}]: a metric is one value`,
        );
      }
    }
  }

  private decodeReceived(named: NamedTensor, round: number): ReceivedTensor {
    const repr = () =>
      tensorKeyRepr(this.aggregatorUuid, named.name, named.roundNumber, named.report, named.tags);
    if (!named.tags.includes(COMPRESSED_TAG) && !named.tags.includes(LOSSY_COMPRESSED_TAG)) {
      throw new AggregatorStateError(`Named tensor ${repr()} is not compressed`);
    }
    if (named.transformerMetadata.length === 0) {
      throw new AggregatorStateError(`Named tensor ${repr()} has no transformer_metadata`);
    }
    let decoded: Float32Tensor;
    try {
      decoded = decodeNamedTensor(named);
    } catch (error) {
      throw new AggregatorStateError(
        `Could not decompress ${repr()}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (named.roundNumber !== round) {
      this.log("warn", "tensor round differs from the results' round", {
        tensor: named.name,
        tensorRound: named.roundNumber,
        round,
      });
    }
    const tags = normaliseTags(named.tags);
    const tensor = {
      name: named.name,
      roundNumber: named.roundNumber,
      report: named.report,
      tags,
      shape: decoded.shape,
      data: decoded.data,
    };
    if (!tags.includes("delta")) return withSha256(tensor, named.dataBytes);
    // OpenFL: a delta is added to the round's model and kept as the tensor it rebuilds.
    const base = this.store.get(storeKey(named.name, named.roundNumber, named.report, ["model"]));
    if (base === undefined || base.tensor.data.length !== decoded.data.length) {
      throw new AggregatorStateError(
        `Base model ${tensorKeyRepr(this.aggregatorUuid, named.name, named.roundNumber, named.report, ["model"])} not present in TensorDB`,
      );
    }
    const data = applyDelta(base.tensor, decoded, named.name);
    return withSha256({ ...tensor, tags: tags.filter((t) => t !== "delta"), data }, undefined);
  }

  private roundComplete(): boolean {
    return this.roundParticipants.every((c) => {
      const doneTasks = this.done.get(c);
      return doneTasks !== undefined && this.tasks.every((t) => doneTasks.has(t));
    });
  }

  private endRound(): void {
    const round = this.round;
    // OpenFL aggregates the results of the collaborators the round's tasks were assigned to.
    const results = this.receivedResults.filter(
      (r) => r.round === round && this.roundParticipants.includes(r.collaborator),
    );
    const nextModel = { ...this.currentModel, ...weightedAverages(results, "trained") };
    const metrics: Record<string, number> = {};
    for (const taskName of this.tasks) {
      const perTask = weightedAverages(
        results.filter((r) => r.taskName === taskName),
        "metric",
      );
      for (const [name, tensor] of Object.entries(perTask)) {
        if (tensor.data.length === 1) metrics[`${taskName}/${name}`] = tensor.data[0] as number;
      }
    }
    const summary: RoundSummary = {
      round,
      collaborators: [...new Set(results.map((r) => r.collaborator))].sort(),
      metrics,
    };
    this.roundSummaries.push(summary);
    this.currentModel = nextModel;
    this.round = round + 1;
    this.done.clear();
    this.roundTensorKeys.clear();
    // OpenFL keeps the aggregated tensors too: delta requests for this round are answered from them.
    for (const [name, tensor] of Object.entries(nextModel)) {
      this.store.set(storeKey(name, this.round, false, ["aggregated"]), { tensor });
    }
    this.storeModel(this.round, nextModel);
    this.log("info", "round ended", { round, metrics });
    for (const listener of this.roundEndListeners) listener(summary);
  }

  private storeModel(round: number, model: Readonly<Record<string, Float32Tensor>>): void {
    for (const [name, tensor] of Object.entries(model)) {
      this.store.set(storeKey(name, round, false, ["model"]), { tensor });
    }
    for (const waiter of [...this.waiters]) {
      if (this.store.has(waiter.key)) waiter.wake();
    }
  }

  private waitForTensor(key: string, signal?: AbortSignal): Promise<StoredTensor | undefined> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", finish);
        this.waiters.delete(waiter);
        resolve(this.store.get(key));
      };
      const waiter: Waiter = { key, wake: finish };
      const timer = setTimeout(finish, this.tensorWaitMs);
      this.waiters.add(waiter);
      signal?.addEventListener("abort", finish, { once: true });
    });
  }
}

/**
 * Adds `sha256` (hex SHA-256 of `dataBytes`; of `data` for a tensor rebuilt from a delta,
 * which has no received bytes) to a decoded tensor as an enumerable property
 * computed on first read. On a little-endian platform the decoded `data` holds exactly
 * `dataBytes` (decoding is a byte copy), so the hash is taken from `data` and `dataBytes`
 * (a view of the whole received message) is not kept alive; elsewhere it is hashed at once.
 */
function withSha256(
  tensor: Omit<ReceivedTensor, "sha256">,
  dataBytes: Uint8Array | undefined,
): ReceivedTensor {
  const hash = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
  if (!platformIsLittleEndian && dataBytes !== undefined) {
    return { ...tensor, sha256: hash(dataBytes) };
  }
  const { data } = tensor;
  let digest: string | undefined;
  return Object.defineProperty(tensor, "sha256", {
    enumerable: true,
    get: () => {
      digest ??= hash(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return digest;
    },
  }) as ReceivedTensor;
}

const platformIsLittleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Per tensor name (without `tag`), the data_size-weighted average of the tensors tagged `tag`. */
function weightedAverages(
  results: readonly ResultsRecord[],
  tag: string,
): Record<string, Float32Tensor> {
  const groups = new Map<string, { tensor: ReceivedTensor; weight: number }[]>();
  for (const record of results) {
    for (const tensor of record.tensors) {
      if (!tensor.tags.includes(tag)) continue;
      const group = groups.get(tensor.name) ?? [];
      group.push({ tensor, weight: record.dataSize });
      groups.set(tensor.name, group);
    }
  }
  const averages: Record<string, Float32Tensor> = {};
  for (const [name, group] of groups) {
    const first = group[0];
    if (first === undefined) continue;
    const total = group.reduce((n, g) => n + g.weight, 0);
    const sums = new Float64Array(first.tensor.data.length);
    for (const { tensor, weight } of group) {
      if (tensor.data.length !== sums.length) {
        throw new AggregatorStateError(
          `cannot average '${name}': collaborators sent different shapes`,
        );
      }
      const w = total > 0 ? weight / total : 1 / group.length;
      for (let i = 0; i < sums.length; i++) sums[i] += w * (tensor.data[i] as number);
    }
    averages[name] = { shape: [...first.tensor.shape], data: Float32Array.from(sums) };
  }
  return averages;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

function roundTensorKey(collaborator: string, t: ReceivedTensor): string {
  return JSON.stringify([collaborator, t.name, t.report, t.tags]);
}

function isAggregatedDelta(tags: readonly string[]): boolean {
  return tags.length === 2 && tags[0] === "aggregated" && tags[1] === "delta";
}

/** Tags as OpenFL's aggregator keys them: without the compression tags, unique, sorted. */
function normaliseTags(tags: readonly string[]): string[] {
  return [...new Set(tags)]
    .filter((t) => t !== COMPRESSED_TAG && t !== LOSSY_COMPRESSED_TAG)
    .sort();
}

function storeKey(name: string, round: number, report: boolean, tags: readonly string[]): string {
  return JSON.stringify([name, round, report, tags]);
}

function tensorKeyRepr(
  origin: string,
  name: string,
  round: number,
  report: boolean,
  tags: readonly string[],
): string {
  const tuple = tags.length === 1 ? `('${tags[0]}',)` : `(${tags.map((t) => `'${t}'`).join(", ")})`;
  return `TensorKey(tensor_name='${name}', origin='${origin}', round_number=${round}, report=${report ? "True" : "False"}, tags=${tuple})`;
}

function copyModel(model: Readonly<Record<string, Float32Tensor>>): Record<string, Float32Tensor> {
  return Object.fromEntries(
    Object.entries(model).map(([name, t]) => [
      name,
      { shape: [...t.shape], data: Float32Array.from(t.data) },
    ]),
  );
}
