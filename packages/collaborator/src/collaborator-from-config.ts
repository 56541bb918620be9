import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ResendBuffer } from "@openfl-connect/core";
import { AggregatorGRPCClient, FileResendBuffer } from "@openfl-connect/node";
import { CollaboratorService } from "./collaborator-service.js";
import { ConfigError } from "./config-error.js";
import { type CollaboratorConfig, clientOptionsOf } from "./config-schema.js";
import type { Logger } from "./logger.js";
import { type TaskSet, taskSetProblem } from "./task-set.js";

/** Imports a task module (a .ts module needs `node --import tsx`). Throws ConfigError. */
export async function loadTaskSet(path: string): Promise<TaskSet> {
  const file = isAbsolute(path) ? path : resolve(path);
  let module: unknown;
  try {
    module = await import(pathToFileURL(file).href);
  } catch (error) {
    throw new ConfigError(
      "tasks",
      `config key 'tasks': cannot import task module ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const problem = taskSetProblem(module);
  if (problem !== undefined) {
    throw new ConfigError("tasks", `config key 'tasks': task module ${file}: ${problem}`);
  }
  return module as TaskSet;
}

export interface CollaboratorParts {
  readonly client: AggregatorGRPCClient;
  readonly service: CollaboratorService;
  /** The durable buffer in `pendingDir` (undefined without one), as the client got it unwrapped. */
  readonly resendBuffer: FileResendBuffer | undefined;
  /** Disconnects the client and releases `pendingDir` for the next process. */
  close(): Promise<void>;
}

/**
 * Builds the Node client (loading and checking the PEM files) and the service from a config.
 * With `pendingDir`, its durable buffer holds that directory until `close()` of the result.
 * `wrapResendBuffer` lets a caller observe the durable buffer (tests).
 */
export async function createCollaborator(
  config: CollaboratorConfig,
  options: {
    readonly logger: Logger;
    readonly taskSet?: TaskSet;
    readonly wrapResendBuffer?: (buffer: ResendBuffer) => ResendBuffer;
  },
): Promise<CollaboratorParts> {
  const { logger } = options;
  const taskSet = options.taskSet ?? (await loadTaskSet(config.tasks));
  // Locks pendingDir: throws PendingDirLockedError while another collaborator uses it.
  const durable =
    config.pendingDir === undefined
      ? undefined
      : new FileResendBuffer(config.pendingDir, {
          warn: (message) => logger("warn", "pending directory", { message }),
        });
  try {
    return build(config, logger, taskSet, durable, options.wrapResendBuffer);
  } catch (error) {
    await durable?.close();
    throw error;
  }
}

function build(
  config: CollaboratorConfig,
  logger: Logger,
  taskSet: TaskSet,
  durable: FileResendBuffer | undefined,
  wrap: ((buffer: ResendBuffer) => ResendBuffer) | undefined,
): CollaboratorParts {
  const resendBuffer = durable !== undefined && wrap ? wrap(durable) : durable;
  const client = new AggregatorGRPCClient({
    ...clientOptionsOf(config),
    resendBuffer,
    warn: (message) => logger("warn", "client warning", { message }),
    onRetry: (e) =>
      logger("warn", "retrying", {
        rpc: e.rpc,
        attempt: e.attempt,
        delayMs: e.delayMs,
        failure: e.failure,
      }),
  });
  const service = new CollaboratorService({
    client,
    collaboratorName: config.collaboratorName,
    taskSet,
    logger,
    maxSleepSeconds: config.maxSleepSeconds,
    idleWarningSeconds: config.idleWarningSeconds,
    useDeltaUpdates: config.useDeltaUpdates,
  });
  return {
    client,
    service,
    resendBuffer: durable,
    async close() {
      try {
        await client.disconnect();
      } finally {
        await durable?.close();
      }
    },
  };
}
