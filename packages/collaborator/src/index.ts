export {
  type CollaboratorParts,
  createCollaborator,
  loadTaskSet,
} from "./collaborator-from-config.js";
export {
  type CollaboratorClient,
  CollaboratorService,
  type CollaboratorServiceOptions,
  encodeResults,
  type RunOptions,
  type RunOutcome,
  TaskFailedError,
  UnknownTaskError,
} from "./collaborator-service.js";
export {
  CONFIG_SCHEMA,
  type CollaboratorConfig,
  ConfigError,
  configKeys,
  envName,
  flagName,
  type LoadConfigInput,
  loadConfig,
} from "./config.js";
export { EXIT_CODES, exitCodeFor } from "./exit-codes.js";
export { FileResendBuffer } from "./file-resend-buffer.js";
export {
  createLogger,
  formatBytes,
  type LogFormat,
  type Logger,
  type LogLevel,
  silentLogger,
} from "./logger.js";
export {
  resolveTask,
  type TaskContext,
  type TaskDefinition,
  type TaskFunction,
  type TaskResult,
  type TaskSet,
  taskSetProblem,
} from "./task-set.js";
