// Test helpers that run OpenFL 1.9's real Python gRPC code from the repo's .venv:
// the real AggregatorGRPCServer (openfl_server_fixture.py) and the real AggregatorGRPCClient
// (openfl_client_driver.py). See ../python/README.md for their flags and JSON output.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { access, readdir, readFile, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AggregatorLogger, ReferenceAggregator } from "@openfl-connect/reference-aggregator";
import type { TestPki } from "@openfl-connect/reference-aggregator/pki";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const PYTHON = join(REPO_ROOT, ".venv", "bin", "python");
const PYTHON_DIR = join(REPO_ROOT, "packages", "interop", "python");

import {
  AGGREGATOR_UUID,
  FEDERATION_UUID,
} from "@openfl-connect/test-support/federation-constants";
import {
  createFederationDir,
  startReferenceAggregator,
} from "@openfl-connect/test-support/reference-federation";

export { AGGREGATOR_UUID, FEDERATION_UUID };

/** The fixture's model: np.arange(60, dtype=float32).reshape(3, 4, 5) / 7 + round, in float32. */
export function expectedConvWeight(round: number): Float32Array {
  return Float32Array.from({ length: 60 }, (_, i) => Math.fround(Math.fround(i / 7) + round));
}

/** sha256 in hex, as the fixture's records give it. */
export const sha256 = (bytes: Uint8Array): string =>
  createHash("sha256").update(bytes).digest("hex");

/** How long the fixture may take to print its ready line. */
const READY_TIMEOUT_MS = 60_000;

/** Fails with a clear message when scripts/setup-python.sh has not been run. */
export async function requirePython(): Promise<void> {
  try {
    await access(PYTHON);
  } catch {
    throw new Error(
      `${PYTHON} is missing: run 'bash scripts/setup-python.sh' (or scripts/test-interop.sh) first`,
    );
  }
}

/** A temp directory with a fresh test PKI (CA, server "localhost"/127.0.0.1, collaborators). */
export function createInteropPki(
  collaborators: readonly string[],
): Promise<{ dir: string; pki: TestPki }> {
  return createFederationDir("openfl-interop-", collaborators);
}

export interface OpenFLServerOptions {
  readonly pki: TestPki;
  /** Where the fixture writes upload records. */
  readonly recordDir: string;
  /** Authorised collaborator names. */
  readonly collaborators: readonly string[];
  /** Default 1. */
  readonly rounds?: number;
  /** Default ["train"]. */
  readonly tasks?: readonly string[];
  /** Seconds a missing tensor is waited for. Default 60 (as OpenFL). */
  readonly tensorWaitSeconds?: number;
  readonly aggregatorUuid?: string;
  readonly federationUuid?: string;
  /** Which of OpenFL's real servers: "grpc" (default, AggregatorGRPCServer) or "rest" (AggregatorRESTServer). */
  readonly transportProtocol?: "grpc" | "rest";
  /** Listen on this port (e.g. a restart on the port of the server it replaces). Default: a free one. */
  readonly port?: number;
  /** Also serve a float32 tensor "large" of this many elements ((i % 4099) / 7 + round). */
  readonly largeTensorElements?: number;
}

/** A running openfl_server_fixture.py: OpenFL's real AggregatorGRPCServer. */
export interface OpenFLServer {
  readonly port: number;
  readonly recordDir: string;
  /** Everything the fixture wrote to stderr so far (its log). */
  stderr(): string;
  /** Parsed JSON of one record file, e.g. "results-r0-collaborator1-train.json". */
  record(file: string): Promise<OpenFLResultsRecord>;
  /** Names of the record files written so far. */
  recordFiles(): Promise<string[]>;
  /** SIGTERM, then waits for the exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** SIGKILL (a crash: requests in flight are cut), then waits for the exit. */
  kill(): Promise<void>;
}

/** One decoded tensor of a results record written by the fixture. */
export interface OpenFLRecordTensor {
  readonly name: string;
  readonly round_number: number;
  readonly tags: string[];
  readonly decoded_tags: string[];
  readonly report: boolean;
  readonly lossless: boolean;
  readonly data_bytes_len: number;
  readonly transformer_metadata: {
    int_list: number[];
    int_to_float: Record<string, number>;
    bool_list: boolean[];
  }[];
  readonly shape: number[];
  readonly dtype: string;
  readonly count: number;
  readonly sha256: string;
  readonly first: number[];
  readonly sum: number;
}

export interface OpenFLResultsRecord {
  readonly ignored: boolean;
  readonly seq: number;
  readonly collaborator: string;
  readonly round: number;
  readonly task_name: string;
  readonly data_size: number;
  readonly tensors: OpenFLRecordTensor[];
}

/** Starts OpenFL's real server with TLS + client authentication and waits until it listens. */
export async function startOpenFLServer(options: OpenFLServerOptions): Promise<OpenFLServer> {
  await requirePython();
  const args = [
    join(PYTHON_DIR, "openfl_server_fixture.py"),
    "--root-ca",
    options.pki.caCert,
    "--cert",
    options.pki.server.cert,
    "--key",
    options.pki.server.key,
    "--port",
    String(options.port ?? 0),
    "--transport-protocol",
    options.transportProtocol ?? "grpc",
    "--aggregator-uuid",
    options.aggregatorUuid ?? AGGREGATOR_UUID,
    "--federation-uuid",
    options.federationUuid ?? FEDERATION_UUID,
    "--collaborators",
    options.collaborators.join(","),
    "--record-dir",
    options.recordDir,
    "--rounds",
    String(options.rounds ?? 1),
    "--tasks",
    (options.tasks ?? ["train"]).join(","),
    "--tensor-wait",
    String(options.tensorWaitSeconds ?? 60),
    "--large-tensor-elements",
    String(options.largeTensorElements ?? 0),
  ];
  const child = spawn(PYTHON, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", () => resolve(null));
  });
  let port: number;
  try {
    port = await readyPort(child, exited, () => stderr);
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    throw error;
  }
  return {
    port,
    recordDir: options.recordDir,
    stderr: () => stderr,
    async record(file) {
      return JSON.parse(
        await readFile(join(options.recordDir, file), "utf8"),
      ) as OpenFLResultsRecord;
    },
    async recordFiles() {
      try {
        return (await readdir(options.recordDir)).sort();
      } catch {
        return [];
      }
    },
    stop: () => stopChild(child, exited),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child exited. */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

function readyPort(
  child: ChildProcess,
  exited: Promise<number | null>,
  stderr: () => string,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let stdout = "";
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(
        new Error(
          `openfl_server_fixture.py ${why}; stderr:\n${stderr().split("\n").slice(-40).join("\n")}`,
        ),
      );
    };
    const timer = setTimeout(
      () => fail(`printed no ready line within ${READY_TIMEOUT_MS / 1000} s`),
      READY_TIMEOUT_MS,
    );
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf("\n");
      if (newline < 0) return;
      const line = stdout.slice(0, newline);
      try {
        const ready = JSON.parse(line) as { ready?: unknown; port?: unknown };
        if (ready.ready !== true || typeof ready.port !== "number") throw new Error("not ready");
        clearTimeout(timer);
        resolve(ready.port);
      } catch {
        fail(`printed an unexpected first line ${JSON.stringify(line)}`);
      }
    });
    void exited.then((code) => fail(`exited (code ${code}) before it was ready`));
  });
}

/** What openfl_client_driver.py printed, and its exit code. */
export interface OpenFLDriverRun {
  readonly exitCode: number;
  // biome-ignore lint/suspicious/noExplicitAny: the driver's JSON shape is documented in python/README.md
  readonly result: Record<string, any>;
  readonly stderr: string;
}

/**
 * Runs OpenFL's real AggregatorGRPCClient (openfl_client_driver.py) once; `args` are extra
 * driver flags (e.g. ["--ops", "ping"]). Identity defaults to the test federation's.
 */
export async function runOpenFLClient(options: {
  readonly port: number;
  readonly pki: TestPki;
  readonly collaborator: string;
  /** Whose certificate to present. Default `collaborator`. */
  readonly certificateOf?: string;
  readonly args?: readonly string[];
}): Promise<OpenFLDriverRun> {
  const pair = options.pki.collaborators[options.certificateOf ?? options.collaborator];
  if (pair === undefined) throw new Error(`no certificate for ${options.certificateOf}`);
  const args = [
    join(PYTHON_DIR, "openfl_client_driver.py"),
    "--port",
    String(options.port),
    "--root-ca",
    options.pki.caCert,
    "--cert",
    pair.cert,
    "--key",
    pair.key,
    "--aggregator-uuid",
    AGGREGATOR_UUID,
    "--federation-uuid",
    FEDERATION_UUID,
    "--collaborator",
    options.collaborator,
    ...(options.args ?? []),
  ];
  await driverSlots.acquire();
  try {
    return await execDriver(args);
  } finally {
    driverSlots.release();
  }
}

function execDriver(args: readonly string[]): Promise<OpenFLDriverRun> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const exitCode =
        error === null ? 0 : typeof error.code === "number" ? error.code : Number.NaN;
      const lines = stdout.split("\n").filter((l) => l.trim() !== "");
      if (lines.length !== 1) {
        reject(
          new Error(
            `openfl_client_driver.py (exit ${exitCode}) printed ${lines.length} stdout lines, expected 1:\n${stdout}\nstderr:\n${stderr}`,
          ),
        );
        return;
      }
      resolve({ exitCode, result: JSON.parse(lines[0] as string), stderr });
    });
  });
}

/**
 * At most one driver process per CPU at a time: each spends ~2.5 s of CPU importing OpenFL,
 * and more at once only slows every one of them down.
 */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(count: number) {
    this.#free = count;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#free++;
    else next();
  }
}

const driverSlots = new Slots(Math.max(2, availableParallelism()));

/** Removes a temp directory made by createInteropPki. */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * Our ReferenceAggregator set up like the Python fixture's federation (collaborator1 and 2,
 * task "train", tensors `conv.weight` [3,4,5] and the 0-d `scale`), on a free port over mTLS.
 */
export async function startInteropReferenceAggregator(
  pki: TestPki,
  options: {
    readonly convWeight: Float32Array;
    readonly rounds: number;
    readonly tensorWaitMs: number;
    readonly logger?: AggregatorLogger;
  },
): Promise<{ aggregator: ReferenceAggregator; port: number }> {
  return startReferenceAggregator(pki, {
    authorizedCollaborators: ["collaborator1", "collaborator2"],
    rounds: options.rounds,
    tasks: ["train"],
    initialModel: {
      "conv.weight": { shape: [3, 4, 5], data: options.convWeight },
      scale: { shape: [], data: Float32Array.of(0.25) },
    },
    tensorWaitMs: options.tensorWaitMs,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
