import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ResendBuffer } from "@openfl-connect/core";
import { AggregatorGRPCClient, FileResendBuffer } from "@openfl-connect/node";
import { CollaboratorService } from "./collaborator-service.js";
import { type CollaboratorConfig, ConfigError } from "./config.js";
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
  readonly resendBuffer: ResendBuffer | undefined;
}

/**
 * Builds the Node client (loading and checking the PEM files) and the service from a config.
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
  let resendBuffer: ResendBuffer | undefined =
    config.pendingDir === undefined ? undefined : new FileResendBuffer(config.pendingDir);
  if (resendBuffer !== undefined && options.wrapResendBuffer) {
    resendBuffer = options.wrapResendBuffer(resendBuffer);
  }
  const client = new AggregatorGRPCClient({
    aggAddr: config.aggAddr,
    aggPort: config.aggPort,
    aggregatorUuid: config.aggregatorUuid,
    federationUuid: config.federationUuid,
    collaboratorName: config.collaboratorName,
    singleColCertCommonName: config.singleColCertCommonName,
    rootCertificate: config.rootCertificate,
    certificate: config.certificate,
    privateKey: config.privateKey,
    serverName: config.serverName,
    useTls: config.useTls,
    requireClientAuth: config.requireClientAuth,
    enableAtomicConnections: config.enableAtomicConnections,
    resendDataOnReconnection: config.resendDataOnReconnection,
    connectTimeoutMs: config.connectTimeoutMs,
    retry: config.retry,
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
    useDeltaUpdates: config.useDeltaUpdates,
  });
  return { client, service, resendBuffer };
}
