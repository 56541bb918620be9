/**
 * The part of @openfl-connect/collaborator that runs in a browser (no Node module anywhere in its
 * imports; browser-entry.spec.ts checks): OpenFL's collaborator loop, the result encoding and the
 * softmax-regression task, from the same source the Node collaborator runs. A page gives the
 * loop an AggregatorWebClient from @openfl-connect/web.
 */
export {
  type CollaboratorClient,
  CollaboratorService,
  type CollaboratorServiceOptions,
  type RunOptions,
  type RunOutcome,
  UnknownTaskError,
} from "./collaborator-service.js";
export {
  type TensorCompression,
  type TensorCompressionOptions,
  tensorCompression,
} from "./compression/tensor-compression.js";
export { encodeResults, RoundTensorKeys, TaskFailedError } from "./encode-results.js";
export { type Logger, type LogLevel, silentLogger } from "./logger.js";
export {
  resolveTask,
  type TaskContext,
  TaskDeclarationError,
  type TaskDefinition,
  type TaskDescription,
  type TaskFunction,
  type TaskResult,
  type TaskSet,
} from "./task-set.js";
export {
  CsvDatasetError,
  type CsvDatasetShape,
  formatCsvDataset,
  parseCsvDataset,
  splitShard,
} from "./tasks/csv-dataset.js";
export {
  accuracy,
  BIAS,
  CLASSES,
  createSoftmaxTasks,
  FEATURES,
  initialModel,
  modelTensorNames,
  type SoftmaxModel,
  TRAINING,
  trainSgd,
  WEIGHT,
} from "./tasks/softmax-regression.js";
export type { CollaboratorShard, Dataset } from "./tasks/synthetic-blobs.js";
