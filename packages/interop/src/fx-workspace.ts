// A real OpenFL 1.9 workspace made with OpenFL's own `fx` commands, and its processes: `fx
// aggregator start`, `fx collaborator start -n NAME`, and our collaborator started the same way
// (`openfl-collaborator start -n NAME --tasks MODULE`, in the workspace). The workspace's Python
// code is python/fx_workspace_src (a numpy softmax task runner and a CSV loader).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatCsvDataset } from "@openfl-connect/collaborator/browser";
import { nameSeed, sampleBlobs } from "@openfl-connect/collaborator/tasks/synthetic-blobs";
import type { PlanCompressionPipeline } from "./openfl-federation.js";
import { PYTHON, REPO_ROOT, stopChild } from "./openfl-fixture.js";

const VENV_BIN = join(REPO_ROOT, ".venv", "bin");
/** OpenFL's CLI in the repo's venv. */
export const FX = join(VENV_BIN, "fx");
const PYTHON_DIR = join(REPO_ROOT, "packages", "interop", "python");
const WORKSPACE_SRC = join(PYTHON_DIR, "fx_workspace_src");
const COLLABORATOR_CLI = join(REPO_ROOT, "scripts", "openfl-collaborator");
/** The task module for our collaborator in such a workspace. */
export const FX_SOFTMAX_TASK_MODULE = fileURLToPath(
  new URL("./fx-softmax-task-module.ts", import.meta.url),
);
/** The aggregator's default address: its certificate's CN and the plan's agg_addr. */
export const FX_AGGREGATOR_FQDN = "127.0.0.1";
/** Rows of each collaborator's CSV (a third of them validate). */
const SAMPLES = 120;

/** The environment of every OpenFL process: openfl.federated imports keras, on JAX here. */
export function fxEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KERAS_BACKEND: "jax",
    PATH: `${VENV_BIN}:${process.env.PATH}`,
    ...extra,
  };
}

/** One finished `fx` command. */
export interface FxCommandRun {
  readonly args: readonly string[];
  readonly cwd: string;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** An `fx` command that failed: its command line, exit code and output. */
export class FxCommandError extends Error {
  override name = "FxCommandError";
  constructor(readonly run: FxCommandRun) {
    super(
      `fx ${run.args.join(" ")} (in ${run.cwd}) exited ${run.code} after ${run.ms} ms\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`,
    );
  }
}

/** Runs `fx ARGS` in `cwd`; throws FxCommandError unless it exits 0. */
export function runFx(cwd: string, args: readonly string[]): Promise<FxCommandRun> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    execFile(
      FX,
      args,
      { cwd, env: fxEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        const run = { args, cwd, code, stdout, stderr, ms: Date.now() - started };
        if (error) reject(new FxCommandError(run));
        else resolvePromise(run);
      },
    );
  });
}

export interface FxWorkspaceOptions {
  /** The workspace directory to create (must not exist; its parent is created). */
  readonly dir: string;
  readonly collaborators: readonly string[];
  readonly rounds: number;
  readonly useDeltaUpdates: boolean;
  /** The aggregator's FQDN (its certificate's CN and SAN, the plan's agg_addr). Default 127.0.0.1. */
  readonly aggregatorFqdn?: string;
  /** The plan's compression_pipeline. Default: the template's (OpenFL's NoCompressionPipeline). */
  readonly compressionPipeline?: PlanCompressionPipeline;
  /** network.settings.transport_protocol. Default: OpenFL's defaults' (grpc). */
  readonly transportProtocol?: "grpc" | "rest";
  /**
   * "no-op" (default): OpenFL's no-op template with our numpy softmax runner and a CSV of blobs
   * per collaborator. "federated_analytics/histogram": OpenFL's own analytics template, its
   * task runner and iris loader as they ship (collaborator i's data path is i), only the port
   * and collaborator_count set.
   */
  readonly template?: "no-op" | "federated_analytics/histogram";
}

export interface FxWorkspace {
  readonly dir: string;
  readonly collaborators: readonly string[];
  readonly rounds: number;
  readonly useDeltaUpdates: boolean;
  /** network.settings.agg_addr. */
  readonly aggregatorFqdn: string;
  /** network.settings.agg_port (a port that was free). */
  readonly aggPort: number;
  /** Every fx command run, in order, with its output. */
  readonly commands: readonly FxCommandRun[];
}

/** A port nothing listens on now (the aggregator binds [::]:port). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(0, ok);
  });
  const address = server.address();
  await new Promise((ok) => server.close(ok));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/** Runs the venv's Python with OpenFL's environment (KERAS_BACKEND=jax); resolves to stdout. */
export function runPython(args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(PYTHON, args, { cwd, env: fxEnv(), maxBuffer: 16 * 1024 * 1024 }, (e, out, err) => {
      if (e) reject(new Error(`python ${args[0]} failed: ${e.message}\n${err}`));
      else resolvePromise(out);
    });
  });
}

/**
 * `fx workspace create --template no-op`, our Python code in src/, plan/plan.yaml edited
 * (python/fx_workspace_plan.py), a CSV per collaborator (3 Gaussian blobs in 4-D, seeded by the
 * name), then OpenFL's commands: plan initialize, the CA, the aggregator's and each
 * collaborator's certificate, each collaborator's data path. Throws FxCommandError naming the
 * first command that fails.
 */
export async function createFxWorkspace(options: FxWorkspaceOptions): Promise<FxWorkspace> {
  const dir = resolve(options.dir);
  const fqdn = options.aggregatorFqdn ?? FX_AGGREGATOR_FQDN;
  const commands: FxCommandRun[] = [];
  const fx = async (cwd: string, ...args: string[]) => {
    commands.push(await runFx(cwd, args));
  };
  // OpenFL refuses a --prefix outside the current directory ("out of the openfl workspace
  // scope"), so it runs in the parent.
  await mkdir(dirname(dir), { recursive: true });
  const template = options.template ?? "no-op";
  await fx(dirname(dir), "workspace", "create", "--prefix", basename(dir), "--template", template);
  const aggPort = await freePort();
  const analytics = template !== "no-op";
  if (!analytics) {
    await rm(join(dir, "src"), { recursive: true, force: true });
    await cp(WORKSPACE_SRC, join(dir, "src"), {
      recursive: true,
      filter: (source) => !source.includes("__pycache__"),
    });
  }
  await runPython(
    [
      join(PYTHON_DIR, "fx_workspace_plan.py"),
      join(dir, "plan", "plan.yaml"),
      JSON.stringify({
        rounds: options.rounds,
        use_delta_updates: options.useDeltaUpdates,
        agg_port: aggPort,
        ...(options.compressionPipeline === undefined
          ? {}
          : { compression_pipeline: options.compressionPipeline }),
        ...(options.transportProtocol === undefined
          ? {}
          : { transport_protocol: options.transportProtocol }),
        ...(analytics ? { analytics: { collaborator_count: options.collaborators.length } } : {}),
      }),
    ],
    dir,
  );
  await mkdir(join(dir, "data"), { recursive: true });
  if (!analytics) {
    for (const name of options.collaborators) {
      const csv = formatCsvDataset(sampleBlobs(SAMPLES, nameSeed(name)));
      await writeFile(join(dir, "data", `${name}.csv`), csv);
    }
  }
  // The template's data.yaml names a collaborator "one"; fx collaborator create adds ours.
  await writeFile(join(dir, "plan", "data.yaml"), "# collaborator_name,data_path\n");

  await fx(dir, "plan", "initialize", "-a", fqdn);
  await fx(dir, "workspace", "certify");
  await fx(dir, "aggregator", "generate-cert-request", "--fqdn", fqdn);
  await fx(dir, "aggregator", "certify", "--fqdn", fqdn, "--silent");
  for (const [i, name] of options.collaborators.entries()) {
    // The iris loader takes its shard number as data path (1-based).
    const dataPath = analytics ? String(i + 1) : `data/${name}.csv`;
    await fx(dir, "collaborator", "create", "-n", name, "-d", dataPath);
    await fx(dir, "collaborator", "generate-cert-request", "-n", name, "--silent");
    // On the aggregator's machine: signs cert/client/col_NAME.csr and lists NAME in
    // plan/cols.yaml (no --request-pkg / --import needed when both sides share the directory).
    await fx(dir, "collaborator", "certify", "-n", name, "--silent");
  }
  return {
    dir,
    collaborators: [...options.collaborators],
    rounds: options.rounds,
    useDeltaUpdates: options.useDeltaUpdates,
    aggregatorFqdn: fqdn,
    aggPort,
    commands,
  };
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A started federation process. */
export interface FederationProcess {
  /** e.g. "fx aggregator start". */
  readonly label: string;
  readonly child: ChildProcess;
  readonly exited: Promise<ProcessExit>;
  stdout(): string;
  stderr(): string;
  /** The last `n` lines of stdout and stderr. */
  lastLines(n?: number): string;
  /** SIGTERM, SIGKILL after 5 s; resolves once it exited. */
  stop(): Promise<void>;
}

function startProcess(
  label: string,
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): FederationProcess {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<ProcessExit>((resolvePromise) => {
    child.once("error", (error) => {
      stderr += `spawn failed: ${error.message}\n`;
      resolvePromise({ code: -1, signal: null });
    });
    child.once("close", (code, signal) => resolvePromise({ code, signal }));
  });
  const tail = (text: string, n: number) => text.trimEnd().split("\n").slice(-n).join("\n");
  return {
    label,
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    lastLines: (n = 15) =>
      `--- ${label} stdout (last ${n} lines)\n${tail(stdout, n)}\n--- ${label} stderr (last ${n} lines)\n${tail(stderr, n)}`,
    stop: () => stopChild(child, exited),
  };
}

/** `fx aggregator start` in the workspace; OpenFL's own log also goes to logs/aggregator.log. */
export function startFxAggregator(dir: string): FederationProcess {
  return startProcess(
    "fx aggregator start",
    FX,
    ["aggregator", "start"],
    dir,
    // LOG_FILE: fx's plain-text log file (relative, under logs/), besides the console.
    fxEnv({ LOG_FILE: "logs/aggregator.log" }),
  );
}

/** `fx collaborator start -n NAME`; its log also goes to logs/NAME.log. */
export function startFxCollaborator(dir: string, name: string): FederationProcess {
  return startProcess(
    `fx collaborator start -n ${name}`,
    FX,
    ["collaborator", "start", "-n", name],
    dir,
    fxEnv({ LOG_FILE: `logs/${name}.log` }),
  );
}

/**
 * Our collaborator, `openfl-collaborator start -n NAME --tasks MODULE` with the workspace as its
 * current directory: it reads the plan, cols.yaml, data.yaml and cert/ from there. No
 * OPENFL_* variable reaches it (those would be config), so the workspace and the task module are
 * its only input. `taskModule` null: no --tasks, the workspace's plan/openfl-connect.yaml names
 * the module. Logs JSON lines on stdout.
 */
export function startOurCollaborator(
  dir: string,
  name: string,
  taskModule: string | null = FX_SOFTMAX_TASK_MODULE,
  extraArgs: readonly string[] = [],
): FederationProcess {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("OPENFL_")) env[key] = value;
  }
  // This checkout's CLI as a user runs it from a workspace (scripts/openfl-collaborator).
  return startProcess(
    `openfl-collaborator start -n ${name}`,
    COLLABORATOR_CLI,
    ["start", "-n", name, ...(taskModule === null ? [] : ["--tasks", taskModule]), ...extraArgs],
    dir,
    env,
  );
}

export interface FxFederationOptions {
  /**
   * Ours: `openfl-collaborator start -n ourName --tasks taskModule ...ourArgs`; with taskModule
   * null, no --tasks (plan/openfl-connect.yaml names the module).
   */
  readonly ourName: string;
  readonly taskModule?: string | null;
  readonly ourArgs?: readonly string[];
  /** OpenFL's: `fx collaborator start -n fxName`. */
  readonly fxName: string;
  readonly timeoutMs: number;
  /** Each process as it starts (the spec stops them all in its `after`). */
  readonly started: (process: FederationProcess) => void;
}

/**
 * `fx aggregator start`, then, once it listens, `fx collaborator start` and ours; resolves when
 * all three exited 0 (awaitFederation's times), with ours for its log.
 */
export async function runFxFederation(
  workspace: FxWorkspace,
  options: FxFederationOptions,
): Promise<{ readonly ours: FederationProcess; readonly times: Record<string, number> }> {
  const aggregator = startFxAggregator(workspace.dir);
  options.started(aggregator);
  await waitForPort(workspace.aggPort, aggregator);
  const fxCollaborator = startFxCollaborator(workspace.dir, options.fxName);
  options.started(fxCollaborator);
  const ours = startOurCollaborator(
    workspace.dir,
    options.ourName,
    options.taskModule,
    options.ourArgs,
  );
  options.started(ours);
  const times = await awaitFederation([aggregator, fxCollaborator, ours], options.timeoutMs);
  return { ours, times };
}

/** Resolves once something accepts connections on 127.0.0.1:port (the aggregator binds [::]:port); rejects if `proc` exits. */
export async function waitForPort(
  port: number,
  proc: FederationProcess,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${proc.label} exited before listening\n${proc.lastLines()}`);
    const open = await new Promise<boolean>((ok) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        ok(true);
      });
      socket.once("error", () => ok(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `${proc.label} not listening on port ${port} after ${timeoutMs} ms\n${proc.lastLines()}`,
  );
}

/**
 * Waits for every process to exit 0 within `timeoutMs`. A process that exits otherwise, or the
 * timeout, stops all of them and throws naming the process(es) and their last log lines.
 * Returns each one's time to exit (ms since the call).
 */
export async function awaitFederation(
  processes: readonly FederationProcess[],
  timeoutMs: number,
): Promise<Record<string, number>> {
  const started = Date.now();
  const times: Record<string, number> = {};
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((r) => {
    timer = setTimeout(() => r("timeout"), timeoutMs);
  });
  const pending = new Map(
    processes.map((p) => [
      p,
      p.exited.then((exit) => {
        times[p.label] = Date.now() - started;
        return { p, exit };
      }),
    ]),
  );
  try {
    while (pending.size > 0) {
      const next = await Promise.race([...pending.values(), timeout]);
      if (next === "timeout") {
        const running = [...pending.keys()];
        await Promise.all(processes.map((p) => p.stop()));
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${running.map((p) => p.label).join(", ")} to exit\n${running.map((p) => p.lastLines()).join("\n")}`,
        );
      }
      pending.delete(next.p);
      if (next.exit.code !== 0) {
        await Promise.all(processes.map((p) => p.stop()));
        throw new Error(
          `${next.p.label} exited with ${next.exit.code ?? next.exit.signal} (the others were stopped)\n${next.p.lastLines(30)}`,
        );
      }
    }
    return times;
  } finally {
    clearTimeout(timer);
  }
}

/** A model state file OpenFL wrote (save/init.pbuf, best.pbuf, last.pbuf), via OpenFL's utils. */
export interface FxModelState {
  readonly round: number;
  readonly tensors: Readonly<Record<string, { shape: number[]; values: number[] }>>;
}

// OpenFL writes its model files through the plan's pipeline (construct_model_proto with its
// compression_pipeline), so they are read back with it.
const READ_MODEL_PY = `
import importlib, json, sys
from openfl.protocols import utils
module, _, name = sys.argv[2].rpartition(".")
pipeline = getattr(importlib.import_module(module), name)(**json.loads(sys.argv[3]))
tensors, round_number = utils.deconstruct_model_proto(utils.load_proto(sys.argv[1]), pipeline)
print(json.dumps({"round": int(round_number), "tensors": {k: {"shape": list(v.shape), "values": v.reshape(-1).tolist()} for k, v in tensors.items()}}))
`;

export async function readFxModelState(
  dir: string,
  file: string,
  pipeline: PlanCompressionPipeline = { template: "openfl.pipelines.NoCompressionPipeline" },
): Promise<FxModelState> {
  const args = [join(dir, file), pipeline.template, JSON.stringify(pipeline.settings ?? {})];
  return JSON.parse(await runPython(["-c", READ_MODEL_PY, ...args], dir)) as FxModelState;
}

/** OpenFL's log file of a process started here (logs/aggregator.log, logs/NAME.log). */
export function readFxLog(dir: string, name: string): Promise<string> {
  return readFile(join(dir, "logs", `${name}.log`), "utf8");
}

/**
 * The collaborators OpenFL's aggregator last logged as having completed all tasks of `round`
 * ("Round R: Collaborators that have completed all tasks: [...]"), sorted; undefined if none.
 */
export function completedInRound(aggregatorLog: string, round: number): string[] | undefined {
  const pattern = new RegExp(
    `Round ${round}: Collaborators that have completed all tasks: \\[(.*)\\]`,
    "g",
  );
  const lists = [...aggregatorLog.matchAll(pattern)].map((m) =>
    (m[1] as string).replace(/'/g, "").split(", ").sort(),
  );
  return lists.at(-1);
}

/** One JSON log line of our collaborator (its stdout with log: json). */
export interface OurLogEntry {
  readonly event: string;
  readonly [field: string]: unknown;
}

/** The JSON lines of our collaborator's stdout. */
export function ourLogEntries(stdout: string): OurLogEntry[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as OurLogEntry);
}
