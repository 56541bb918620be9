// Test fixture: a reference aggregator over mTLS with a fresh PKI, and the collaborator CLI
// run as a child process against it.
import { type ChildProcess, spawn } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { initialModel } from "@openfl-connect/collaborator/tasks/softmax-regression";
import type {
  ReferenceAggregator,
  ReferenceAggregatorOptions,
} from "@openfl-connect/reference-aggregator";
import { collaboratorConnection, type TestPki } from "@openfl-connect/reference-aggregator/pki";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "./federation-constants.js";
import { jsonLines } from "./json-lines.js";
import { createFederationDir, startReferenceAggregator } from "./reference-federation.js";

export { AGGREGATOR_UUID, FEDERATION_UUID };

/** The collaborator CLI's source and its package directory (the CLI's working directory). */
const CLI = fileURLToPath(import.meta.resolve("@openfl-connect/collaborator/cli"));
const PACKAGE_DIR = dirname(dirname(CLI));
/** What runCli starts (with tsx): the CLI's main, able to pause at a crash point. */
const CLI_ENTRY = fileURLToPath(new URL("./collaborator-cli-entry.ts", import.meta.url));
/** The softmax-regression task module, as a path for a collaborator config. */
export const SOFTMAX_TASKS = fileURLToPath(
  import.meta.resolve("@openfl-connect/collaborator/tasks/softmax-regression"),
);

export interface CliFederation {
  readonly dir: string;
  readonly pki: TestPki;
  readonly aggregator: ReferenceAggregator;
  readonly port: number;
  /** Writes `<dir>/<name>.yaml` for collaborator `name`; `extra` adds or replaces YAML lines. */
  writeConfig(name: string, extra?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function startCliFederation(
  collaborators: readonly string[],
  aggregator: Partial<ReferenceAggregatorOptions> = {},
): Promise<CliFederation> {
  const { dir, pki } = await createFederationDir("collaborator-cli-", collaborators);
  const { aggregator: agg, port } = await startReferenceAggregator(pki, {
    authorizedCollaborators: collaborators,
    initialModel: initialModel(),
    ...aggregator,
  });
  return {
    dir,
    pki,
    aggregator: agg,
    port,
    async writeConfig(name, extra = {}) {
      const config: Record<string, unknown> = {
        ...collaboratorConnection(pki, name, {
          port,
          aggregatorUuid: AGGREGATOR_UUID,
          federationUuid: FEDERATION_UUID,
        }),
        tasks: SOFTMAX_TASKS,
        pendingDir: join(dir, `pending-${name}`),
        log: "json",
        debug: true,
        maxSleepSeconds: 0.2,
        retry: { intervalMs: 100 },
        ...extra,
      };
      const file = join(dir, `${name}.yaml`);
      // JSON is valid YAML.
      await writeFile(file, JSON.stringify(config, null, 2));
      return file;
    },
    async close() {
      await agg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface CliRun {
  readonly child: ChildProcess;
  /** Every stdout line parsed as JSON (non-JSON lines as { raw }). */
  readonly lines: Record<string, unknown>[];
  readonly stderr: () => string;
  /** Resolves on the first log line whose event matches. */
  waitForEvent(event: string | RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or 128 + signal number when killed by a signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** CLI processes started by runCli that have not exited yet. */
const running = new Set<ChildProcess>();

/**
 * SIGKILLs every CLI process runCli started that is still running. Call it in an `after` hook:
 * a failed assertion must not leave a child that keeps the test process (and the run) alive.
 */
export function stopCliRuns(): void {
  for (const child of running) child.kill("SIGKILL");
}

export function runCli(args: readonly string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, ["--import", "tsx", CLI_ENTRY, ...args], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  const out = jsonLines(child.stdout as Readable);
  let errText = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    errText += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines: out.lines,
    stderr: () => errText,
    exited,
    waitForEvent(event, timeoutMs = 20_000) {
      const matches = (l: Record<string, unknown>) =>
        typeof l.event === "string" &&
        (typeof event === "string" ? l.event === event : event.test(l.event));
      return out
        .waitFor(matches, { what: `'${String(event)}' log line`, ended: exited, timeoutMs })
        .catch((error: Error) => {
          throw new Error(
            `${error.message}; stdout: ${JSON.stringify(out.lines)} stderr: ${errText}`,
          );
        });
    },
  };
}
