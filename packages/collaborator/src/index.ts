// The collaborator library: everything that also runs in a browser (./browser), plus the Node
// side (configuration, the CLI's parts, log formats, exit codes).
export * from "./browser.js";
export {
  type CollaboratorParts,
  createCollaborator,
  loadTaskSet,
} from "./collaborator-from-config.js";
export { type LoadConfigInput, loadConfig } from "./config.js";
export { ConfigError } from "./config-error.js";
export { envName, flagName } from "./config-names.js";
export {
  CONFIG_SCHEMA,
  type CollaboratorConfig,
  type ConfigField,
  type ConfigScalar,
  configKeys,
} from "./config-schema.js";
export type { EncodeResultsOptions } from "./encode-results.js";
export { EXIT_CODES, exitCodeFor } from "./exit-codes.js";
export { isMainModule } from "./is-main-module.js";
export { createLogger, type LogFormat } from "./logger.js";
export {
  aggregatedDeltaTags,
  type FetchTensor,
  ModelTensorError,
  RoundModelCache,
  type RoundModelCacheOptions,
} from "./round-model-cache.js";
export {
  DEFAULT_METRIC_TAGS,
  type ResolvedTask,
  type TaskContext,
  TaskDeclarationError,
  type TaskDefinition,
  type TaskDescription,
  type TaskFunction,
  type TaskModuleContext,
  type TaskResult,
  type TaskSet,
  taskSetProblem,
} from "./task-set.js";
