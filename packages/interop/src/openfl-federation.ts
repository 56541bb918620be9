// A REAL OpenFL 1.9 federation from the repo's .venv (python/openfl_federation.py): OpenFL's
// Aggregator behind its AggregatorGRPCServer over mTLS, and optionally real OpenFL
// Collaborators with a numpy softmax task runner. Its records are read back as JSON Lines.
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type {
  CollaboratorShard,
  Dataset,
} from "@openfl-connect/collaborator/tasks/synthetic-blobs";
import type { TestPki } from "@openfl-connect/reference-aggregator/pki";
import { jsonLines } from "@openfl-connect/test-support/json-lines";
import {
  AGGREGATOR_UUID,
  FEDERATION_UUID,
  PYTHON,
  REPO_ROOT,
  requirePython,
  stopChild,
} from "./openfl-fixture.js";

const SCRIPT = join(REPO_ROOT, "packages", "interop", "python", "openfl_federation.py");
const READY_TIMEOUT_MS = 60_000;

/** A shard as the Python task runner reads it: row-major features (samples x 4) and labels. */
export interface ShardJson {
  readonly train: { readonly features: number[]; readonly labels: number[] };
  readonly validation: { readonly features: number[]; readonly labels: number[] };
}

/** A collaborator's synthetic shard (the Node task set's data) as the Python runner reads it. */
export function shardJson(shard: CollaboratorShard): ShardJson {
  const plain = (d: Dataset) => ({ features: [...d.features], labels: [...d.labels] });
  return { train: plain(shard.train), validation: plain(shard.validation) };
}

export interface OpenFLFederationOptions {
  readonly pki: TestPki;
  /** Where the records, the state files and OpenFL's tensor.db go. */
  readonly outDir: string;
  /** Every authorised collaborator (the Python ones included). */
  readonly collaborators: readonly string[];
  /**
   * Collaborators run by the script itself: OpenFL's Collaborator class, on these shards (JSON
   * for the numpy softmax runner, a digits CSV file for OpenFL's KerasTaskRunner).
   */
  readonly pythonCollaborators?: Readonly<Record<string, ShardJson | { readonly csvPath: string }>>;
  /**
   * What the Python collaborators run: "numpy-softmax" (default; the aggregator starts from the
   * softmax zero model) or "keras-digits" (OpenFL's KerasTaskRunner with the digits CNN, Keras 3
   * on JAX, tasks from OpenFL's tasks_keras.yaml; the aggregator starts from `initModel`).
   */
  readonly taskRunner?: "numpy-softmax" | "keras-digits";
  /** The initial model file (ModelProto) the aggregator starts from; needed by "keras-digits". */
  readonly initModel?: string;
  /** Default 3. */
  readonly rounds?: number;
  /** The plan's use_delta_updates, for the aggregator and the Python collaborators. */
  readonly useDeltaUpdates: boolean;
  /** The plan's collaborator.settings.opt_treatment, for the Python collaborators. Default RESET. */
  readonly optTreatment?: "RESET" | "CONTINUE_LOCAL" | "CONTINUE_GLOBAL";
  /** The aggregator's no-task sleep_time. Default 1 (OpenFL: 10; a test-speed setting). */
  readonly sleepSeconds?: number;
  /**
   * The plan's compression_pipeline (template and settings), for the aggregator and the Python
   * collaborators. Default OpenFL's NoCompressionPipeline.
   */
  readonly compressionPipeline?: PlanCompressionPipeline;
  /**
   * The plan's network.settings.transport_protocol: OpenFL's gRPC server and client (default)
   * or its REST ones (AggregatorRESTServer, AggregatorRESTClient for the Python collaborators).
   */
  readonly transportProtocol?: "grpc" | "rest";
}

/** A plan's compression_pipeline section, e.g. { template: "openfl.pipelines.STCPipeline" }. */
export interface PlanCompressionPipeline {
  readonly template: string;
  readonly settings?: Readonly<Record<string, number>>;
}

/**
 * Our collaborator's keys for a plan's compression_pipeline (its config keys and the tab's link
 * parameters): compressionPipeline, pSparsity, nClusters. {} for none.
 */
export function ourCompressionKeys(
  pipeline: PlanCompressionPipeline | undefined,
): Record<string, string | number> {
  if (pipeline === undefined) return {};
  const settings = pipeline.settings ?? {};
  return {
    compressionPipeline: pipeline.template,
    ...(settings.p_sparsity === undefined ? {} : { pSparsity: settings.p_sparsity }),
    ...(settings.n_clusters === undefined ? {} : { nClusters: settings.n_clusters }),
  };
}

/** One SendLocalTaskResults that reached the aggregator (duplicates included). */
export interface Arrival {
  readonly collaborator: string;
  readonly round: number;
  readonly task: string;
  readonly data_size: number;
  readonly tensors: readonly {
    readonly name: string;
    readonly tags: readonly string[];
    readonly report: boolean;
    readonly lossless: boolean;
    /** From the first transformer's metadata (NoCompressionPipeline: the tensor's shape). */
    readonly shape: readonly number[] | null;
  }[];
}

/** One GetAggregatedTensor request as it reached the aggregator (any collaborator's). */
export interface TensorRequest {
  readonly collaborator: string;
  readonly tensor_name: string;
  readonly round: number;
  readonly report: boolean;
  readonly tags: readonly string[];
  readonly require_lossless: boolean;
}

/** One metric the aggregator put on its metric queue. */
export interface MetricRecord {
  readonly round: number;
  readonly metric_origin: string;
  readonly task_name: string;
  readonly metric_name: string;
  readonly metric_value: number;
  readonly tags?: readonly string[];
}

/** The value of one metric the aggregator recorded: of a round, origin (collaborator or "aggregator"), task and name. */
export function metricValue(
  metrics: readonly MetricRecord[],
  round: number,
  origin: string,
  task: string,
  name: string,
): number | undefined {
  return metrics.find(
    (m) =>
      m.round === round &&
      m.metric_origin === origin &&
      m.task_name === task &&
      m.metric_name === name,
  )?.metric_value;
}

/** A model state file the aggregator wrote, decoded. */
export interface ModelRecord {
  readonly round: number;
  readonly tensors: Readonly<Record<string, { shape: number[]; values: number[] }>>;
}

export interface OpenFLFederation {
  readonly port: number;
  /** Resolves when every collaborator was told to quit and the script exited 0. */
  readonly done: Promise<{ rounds: number }>;
  arrivals(): Promise<Arrival[]>;
  /** Every GetAggregatedTensor request the aggregator got, in order. */
  requests(): Promise<TensorRequest[]>;
  metrics(): Promise<MetricRecord[]>;
  /** Errors raised inside the aggregator's handlers. */
  errors(): Promise<Record<string, unknown>[]>;
  /** "best", "last" or "final" (the aggregator's model after the last round). */
  model(which: "best" | "last" | "final"): Promise<ModelRecord | undefined>;
  stderr(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it exited. */
  stop(): Promise<void>;
}

export async function startOpenFLFederation(
  options: OpenFLFederationOptions,
): Promise<OpenFLFederation> {
  await requirePython();
  const { pki, outDir } = options;
  const pythonArgs: string[] = [];
  for (const [name, shard] of Object.entries(options.pythonCollaborators ?? {})) {
    const pair = pki.collaborators[name];
    if (pair === undefined) throw new Error(`the test PKI has no certificate for ${name}`);
    let shardFile: string;
    if ("csvPath" in shard) {
      shardFile = shard.csvPath;
    } else {
      shardFile = join(outDir, `shard-${name}.json`);
      await writeFile(shardFile, JSON.stringify(shard));
    }
    pythonArgs.push("--python-collaborator", [name, pair.cert, pair.key, shardFile].join(","));
  }
  const args = [
    SCRIPT,
    ...["--root-ca", pki.caCert, "--cert", pki.server.cert, "--key", pki.server.key],
    ...["--port", "0", "--aggregator-uuid", AGGREGATOR_UUID, "--federation-uuid", FEDERATION_UUID],
    ...["--collaborators", options.collaborators.join(","), ...pythonArgs],
    ...["--rounds", String(options.rounds ?? 3)],
    ...["--task-runner", options.taskRunner ?? "numpy-softmax"],
    ...(options.initModel === undefined ? [] : ["--init-model", options.initModel]),
    ...["--use-delta-updates", String(options.useDeltaUpdates)],
    ...["--opt-treatment", options.optTreatment ?? "RESET"],
    ...(options.compressionPipeline === undefined
      ? []
      : [
          ...["--compression-pipeline", options.compressionPipeline.template],
          ...["--compression-settings", JSON.stringify(options.compressionPipeline.settings ?? {})],
        ]),
    ...["--transport-protocol", options.transportProtocol ?? "grpc"],
    ...["--sleep-seconds", String(options.sleepSeconds ?? 1), "--out-dir", outDir],
  ];
  const child = spawn(PYTHON, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const tail = () => stderr.split("\n").slice(-40).join("\n");
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", () => resolve(null));
  });
  const out = jsonLines(child.stdout);
  const flagged = (key: string) => (line: Record<string, unknown>) => line[key] === true;
  let port: number;
  try {
    const ready = await out.waitFor(flagged("ready"), {
      what: "its ready line",
      ended: exited,
      timeoutMs: READY_TIMEOUT_MS,
    });
    port = Number(ready.port);
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    throw new Error(`openfl_federation.py: ${(error as Error).message}; stderr:\n${tail()}`);
  }
  const done = out.waitFor(flagged("done"), { what: "done", ended: exited }).then(async (line) => {
    const code = await exited;
    if (code !== 0) throw new Error(`openfl_federation.py exited ${code}; stderr:\n${tail()}`);
    return { rounds: Number(line.rounds) };
  });
  // A run that fails is reported through `done`; keep an unawaited failure from crashing.
  done.catch(() => {});
  const readRecords = async <T>(file: string): Promise<T[]> => {
    try {
      const text = await readFile(join(outDir, file), "utf8");
      return text
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as T);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  };
  return {
    port,
    done,
    arrivals: () => readRecords<Arrival>("arrivals.jsonl"),
    requests: () => readRecords<TensorRequest>("requests.jsonl"),
    metrics: () => readRecords<MetricRecord>("metrics.jsonl"),
    errors: () => readRecords<Record<string, unknown>>("errors.jsonl"),
    async model(which) {
      try {
        return JSON.parse(await readFile(join(outDir, `${which}.json`), "utf8")) as ModelRecord;
      } catch {
        return undefined;
      }
    },
    stderr: () => stderr,
    stop: () => stopChild(child, exited),
  };
}
