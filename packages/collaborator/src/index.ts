export {
  type CollaboratorParts,
  createCollaborator,
  loadTaskSet,
} from "./collaborator-from-config.js";
export {
  type CollaboratorClient,
  CollaboratorService,
  type CollaboratorServiceOptions,
  type RunOptions,
  type RunOutcome,
  UnknownTaskError,
} from "./collaborator-service.js";
export {
  CONFIG_SCHEMA,
  type CollaboratorConfig,
  ConfigError,
  type ConfigField,
  type ConfigScalar,
  configKeys,
  envName,
  flagName,
  type LoadConfigInput,
  loadConfig,
} from "./config.js";
export {
  type EncodeResultsOptions,
  encodeResults,
  RoundTensorKeys,
  TaskFailedError,
} from "./encode-results.js";
export { EXIT_CODES, exitCodeFor } from "./exit-codes.js";
export {
  createLogger,
  formatBytes,
  type LogFormat,
  type Logger,
  type LogLevel,
  silentLogger,
} from "./logger.js";
export {
  AGGREGATED_DELTA_TAGS,
  type FetchTensor,
  ModelTensorError,
  RoundModelCache,
} from "./round-model-cache.js";
export {
  DEFAULT_METRIC_TAGS,
  type ResolvedTask,
  resolveTask,
  type TaskContext,
  type TaskDefinition,
  type TaskDescription,
  type TaskFunction,
  type TaskResult,
  type TaskSet,
  taskSetProblem,
} from "./task-set.js";
