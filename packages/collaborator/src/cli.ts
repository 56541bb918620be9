#!/usr/bin/env node
// The collaborator CLI: runs OpenFL's collaborator loop with a task module. See USAGE.
import type { ResendBuffer } from "@openfl-connect/core";
import { createCollaborator } from "./collaborator-from-config.js";
import { loadConfig } from "./config.js";
import { ConfigError } from "./config-error.js";
import { envName, flagName } from "./config-names.js";
import { configKeys } from "./config-schema.js";
import { EXIT_CODES, exitCodeFor, stopEventFor } from "./exit-codes.js";
import { isMainModule } from "./is-main-module.js";
import { createLogger, type Logger } from "./logger.js";
import type { TaskModuleContext } from "./task-set.js";
import { describeWorkspace } from "./workspace/plan-show.js";
import { parseWorkspaceArgs } from "./workspace/workspace-args.js";
import { loadStartConfig, readWorkspaceFor } from "./workspace/workspace-config.js";

export const USAGE = `Usage: openfl-collaborator start -n NAME [-p plan/plan.yaml] [-d plan/data.yaml]
                            [--workspace DIR] [--openfl-defaults DIR] [--key value ...]
       openfl-collaborator plan show -n NAME [the same flags]
       openfl-collaborator --config collaborator.yaml [--key value ...]
Runs OpenFL's collaborator loop against an aggregator until it says quit.

start reads an OpenFL workspace as fx collaborator start does (run it in the workspace): the
plan (uuids, address, settings), plan/cols.yaml, plan/data.yaml and cert/; then
plan/openfl-connect.yaml if there is one (config keys below, e.g. tasks: ../src/tasks.ts), env
vars and flags over it. plan show prints what start derives, and connects nowhere.

Every config key can be set in the YAML file, by a flag or by an env var (flags win over env
vars, env vars over the file). Paths in the file are relative to the file.
${configKeys()
  .map((k) => `  ${k.padEnd(26)} ${flagName(k).padEnd(30)} ${envName(k)}`)
  .join("\n")}
  (config file)              --config FILE                  OPENFL_CONFIG

Exit codes: 0 finished (the aggregator said quit), 1 configuration error (pendingDir in use by
another process or writable by others included), 2 aggregator error that resending cannot heal,
3 task failure, 4 the disk holding pendingDir is full, 130 SIGINT, 143 SIGTERM.`;

/**
 * What this repository's tests add to the CLI (through @openfl-connect/collaborator/internal,
 * not the published ./cli): the crash tests pause in the durable resend buffer.
 */
export interface CliExtensions {
  /** Wraps the durable resend buffer, e.g. to observe uploads. */
  readonly wrapResendBuffer?: (buffer: ResendBuffer, logger: Logger) => ResendBuffer;
}

/** Runs the CLI with `argv` (without node and the script) and returns its exit code. */
export function main(argv: readonly string[]): Promise<number> {
  return runCli(argv, {});
}

/** `main`, with the tests' extensions. */
export async function runCli(argv: readonly string[], extensions: CliExtensions): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_CODES.finished;
  }
  let logger: Logger = createLogger(process.stdout.isTTY ? "pretty" : "json", process.stderr);
  if (argv[0] === "plan") return planCommand(argv.slice(1), logger);
  let config: ReturnType<typeof loadConfig>;
  let taskContext: TaskModuleContext | undefined;
  try {
    if (argv[0] === "start") {
      const started = loadStartConfig(parseWorkspaceArgs(argv.slice(1), "start"), process.env);
      config = started.config;
      taskContext = started.taskContext;
      for (const note of started.workspace.plan.notes) logger("info", "workspace", { note });
    } else {
      config = loadConfig({ argv, env: process.env });
    }
  } catch (error) {
    logger("error", "configuration error", { message: messageOf(error) });
    return exitCodeFor(error);
  }
  logger = createLogger(config.log ?? (process.stdout.isTTY ? "pretty" : "json"), process.stdout, {
    debug: config.debug ?? false,
    collaborator: config.collaboratorName,
  });
  let parts: Awaited<ReturnType<typeof createCollaborator>>;
  const wrap = extensions.wrapResendBuffer;
  try {
    parts = await createCollaborator(config, {
      logger,
      ...(taskContext === undefined ? {} : { taskContext }),
      ...(wrap ? { wrapResendBuffer: (b: ResendBuffer) => wrap(b, logger) } : {}),
    });
  } catch (error) {
    logger("error", "configuration error", { message: messageOf(error) });
    return exitCodeFor(error);
  }

  const stop = new AbortController();
  const stopUploads = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled !== undefined) {
      logger("warn", "second signal: abandoning the upload in flight", { signal });
      stopUploads.abort(new Error(`stopped by ${signal}`));
      return;
    }
    signalled = signal;
    const graceMs = config.shutdownGraceMs ?? 10_000;
    logger("info", "shutting down", { signal, uploadGraceMs: graceMs });
    stop.abort(new Error(`stopped by ${signal}`));
    setTimeout(() => stopUploads.abort(new Error(`stopped by ${signal}`)), graceMs).unref();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  logger("info", "starting", {
    aggregator: `${config.aggAddr}:${config.aggPort}`,
    federation: config.federationUuid,
    pendingDir: config.pendingDir ?? "(memory)",
  });
  try {
    const outcome = await parts.service.run({
      signal: stop.signal,
      // Uploads keep going after the first signal (so a finished task's results reach the
      // aggregator) until the grace period ends or a second signal comes.
      uploadSignal: stopUploads.signal,
    });
    if (outcome.t === "quit") {
      logger("info", "finished", {
        roundsWorked: outcome.roundsWorked,
        tasksRun: outcome.tasksRun,
      });
      return EXIT_CODES.finished;
    }
    // From the .json files alone: no payload is read at shutdown.
    const pending = (await parts.resendBuffer?.count()) ?? 0;
    if (pending > 0) logger("info", "uploads left for the next start", { pending });
    return signalled === "SIGINT" ? EXIT_CODES.sigint : EXIT_CODES.sigterm;
  } catch (error) {
    if (signalled !== undefined) {
      return signalled === "SIGINT" ? EXIT_CODES.sigint : EXIT_CODES.sigterm;
    }
    logger("error", stopEventFor(error), {
      error: errorName(error),
      message: messageOf(error),
      ...(config.debug && error instanceof Error ? { stack: error.stack } : {}),
    });
    return exitCodeFor(error);
  } finally {
    // Releases pendingDir's lock too.
    await parts.close().catch((error: unknown) => {
      logger("warn", "closing failed", { message: messageOf(error) });
    });
  }
}

/** `plan show`: the derived configuration, on stdout; nothing is started. */
function planCommand(argv: readonly string[], logger: Logger): number {
  if (argv[0] !== "show") {
    logger("error", "configuration error", {
      message: `unknown command 'plan ${argv[0] ?? ""}': the plan command has one subcommand, show`,
    });
    return EXIT_CODES.config;
  }
  try {
    const args = parseWorkspaceArgs(argv.slice(1), "plan show");
    // Read once: without a task module the rest can still be shown.
    const workspace = readWorkspaceFor(args);
    let text: string;
    try {
      const started = loadStartConfig(args, process.env, process.cwd(), workspace);
      text = describeWorkspace(workspace, { ...started.config }, started.overlay);
    } catch (error) {
      if (!(error instanceof ConfigError && error.key === "tasks")) throw error;
      text = describeWorkspace(workspace, undefined, undefined);
    }
    process.stdout.write(text);
    return EXIT_CODES.finished;
  } catch (error) {
    logger("error", "configuration error", { message: messageOf(error) });
    return exitCodeFor(error);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

if (isMainModule(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(EXIT_CODES.task);
    },
  );
}
