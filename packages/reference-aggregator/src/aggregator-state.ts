// The round state machine of OpenFL's Aggregator as a collaborator sees it: who may call,
// which tasks each gets, accepting results, and FedAvg into the next round's model at round end.
import {
  encodeNamedTensor,
  type Float32Tensor,
  MAX_TIMER_MS,
  type NamedTensor,
} from "@openfl-connect/core";
import { type AggregatorLogger, defaultLogger } from "./logger.js";
import { decodeReceived, type ReceivedTensor } from "./received-tensor.js";
import { answerTensorRequest, type TensorRequest } from "./tensor-requests.js";
import { TensorStore, type TensorStoreKey } from "./tensor-store.js";
import { checkUpload, roundTensorKey } from "./upload-checks.js";
import { weightedAverages } from "./weighted-average.js";

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

export interface TaskResultsInput {
  readonly collaborator: string;
  readonly roundNumber: number;
  readonly taskName: string;
  readonly dataSize: number;
  readonly tensors: readonly NamedTensor[];
}
type Listener<T> = (value: T) => void;

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
  /**
   * Every get_aggregated_tensor request, in arrival order, as the collaborator sent it (tags
   * as asked, "compressed" included): what it asked for, for tests of delta updates.
   */
  readonly tensorRequestsReceived: TensorRequest[] = [];
  readonly roundSummaries: RoundSummary[] = [];

  private round = 0;
  private currentModel: Record<string, Float32Tensor>;
  private readonly store = new TensorStore();
  /** Task names done this round per collaborator. */
  private readonly done = new Map<string, Set<string>>();
  /** This round's accepted tensor keys (collaborator, name, report, tags) -> the task that sent them. */
  private readonly roundTensorKeys = new Map<string, string>();
  private readonly quitSentTo = new Set<string>();
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
    // Each reaches the wire in headers (or is compared with the certificate's CN there).
    for (const [option, value] of [
      ["aggregatorUuid", options.aggregatorUuid],
      ["federationUuid", options.federationUuid],
      ...options.authorizedCollaborators.map((c) => ["authorizedCollaborators", c] as const),
    ] as const) {
      if (typeof value !== "string" || value === "") {
        throw new RangeError(
          `${option}: expected a non-empty string, got ${JSON.stringify(value)}`,
        );
      }
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
    this.store.add(storeEntries(this.currentModel, 0, "model"));
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
  getAggregatedTensor(request: TensorRequest, signal?: AbortSignal): Promise<NamedTensor> {
    this.tensorRequestsReceived.push({ ...request, tags: [...request.tags] });
    return answerTensorRequest(
      request,
      {
        store: this.store,
        origin: this.aggregatorUuid,
        authorizedCollaborators: this.authorizedCollaborators,
        waitMs: this.tensorWaitMs,
      },
      signal,
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
    const decodeContext = { origin: this.aggregatorUuid, store: this.store, log: this.log };
    const tensors = input.tensors.map((named) => decodeReceived(named, roundNumber, decodeContext));
    checkUpload(
      { collaborator, taskName, dataSize: input.dataSize, tensors },
      {
        origin: this.aggregatorUuid,
        model: this.currentModel,
        roundTensorKeys: this.roundTensorKeys,
      },
    );
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
    this.store.add([
      ...storeEntries(nextModel, this.round, "aggregated"),
      ...storeEntries(nextModel, this.round, "model"),
    ]);
    this.log("info", "round ended", { round, metrics });
    for (const listener of this.roundEndListeners) listener(summary);
  }
}

/** A round's model as store entries under the one tag `tag`. */
function storeEntries(
  model: Readonly<Record<string, Float32Tensor>>,
  round: number,
  tag: "model" | "aggregated",
): [TensorStoreKey, Float32Tensor][] {
  return Object.entries(model).map(([name, tensor]) => [
    { name, round, report: false, tags: [tag] },
    tensor,
  ]);
}

function copyModel(model: Readonly<Record<string, Float32Tensor>>): Record<string, Float32Tensor> {
  return Object.fromEntries(
    Object.entries(model).map(([name, t]) => [
      name,
      { shape: [...t.shape], data: Float32Array.from(t.data) },
    ]),
  );
}
