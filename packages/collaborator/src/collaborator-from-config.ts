import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  type CompressionPipeline,
  pipelineFromTemplate,
  type ResendBuffer,
} from "@openfl-connect/core";
import { AggregatorGRPCClient, FileResendBuffer } from "@openfl-connect/node";
import { CollaboratorService } from "./collaborator-service.js";
import { ConfigError } from "./config-error.js";
import { type CollaboratorConfig, clientOptionsOf } from "./config-schema.js";
import type { Logger } from "./logger.js";
import { type TaskModuleContext, type TaskSet, taskSetProblem } from "./task-set.js";

/** Imports a task module (a .ts module needs `node --import tsx`). Throws ConfigError. */
/**
 * Imports a task module: one exporting `tasks` (and `modelTensorNames`), or, when started from
 * an OpenFL workspace, one exporting `createTaskSet(context)` that builds them from the
 * workspace's data path and task settings.
 */
export async function loadTaskSet(path: string, context?: TaskModuleContext): Promise<TaskSet> {
  const file = isAbsolute(path) ? path : resolve(path);
  let module: unknown;
  try {
    module = await import(pathToFileURL(file).href);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    // Plain Node (the published CLI is compiled JavaScript) cannot import TypeScript.
    const hint =
      code === "ERR_UNKNOWN_FILE_EXTENSION" && /\.[cm]?ts$/.test(file)
        ? " (a TypeScript task module needs a loader: compile it to .js, or run the CLI as node --import tsx $(command -v openfl-collaborator) ... with tsx installed)"
        : "";
    throw new ConfigError(
      "tasks",
      `config key 'tasks': cannot import task module ${file}: ${error instanceof Error ? error.message : String(error)}${hint}`,
    );
  }
  const create = (module as { createTaskSet?: unknown } | null)?.createTaskSet;
  if (typeof create === "function") {
    if (context === undefined) {
      throw new ConfigError(
        "tasks",
        `config key 'tasks': task module ${file} exports createTaskSet(context), which needs an OpenFL workspace: run openfl-collaborator start -n NAME in one`,
      );
    }
    module = await (create as (c: TaskModuleContext) => unknown)(context);
  }
  const problem = taskSetProblem(module);
  if (problem !== undefined) {
    throw new ConfigError(
      "tasks",
      `config key 'tasks': task module ${file}${typeof create === "function" ? " (what createTaskSet returned)" : ""}: ${problem}`,
    );
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
    /** From an OpenFL workspace: what a task module's createTaskSet is given. */
    readonly taskContext?: TaskModuleContext;
    readonly wrapResendBuffer?: (buffer: ResendBuffer) => ResendBuffer;
  },
): Promise<CollaboratorParts> {
  const { logger } = options;
  const taskSet = options.taskSet ?? (await loadTaskSet(config.tasks, options.taskContext));
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
    compression: compressionOf(config),
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

/** The service's pipeline from the config's compression keys (checked when the config was read). */
function compressionOf(config: CollaboratorConfig): CompressionPipeline | undefined {
  if (config.compressionPipeline === undefined) {
    const setting = config.pSparsity !== undefined ? "pSparsity" : "nClusters";
    if (config[setting] !== undefined) {
      throw new ConfigError(
        setting,
        `config key '${setting}' is a setting of compressionPipeline, which is not set (the default NoCompressionPipeline has no settings)`,
      );
    }
    return undefined;
  }
  return pipelineFromTemplate(config.compressionPipeline, {
    p_sparsity: config.pSparsity,
    n_clusters: config.nClusters,
  });
}
