// @openfl-connect/tfjs: a TensorFlow.js model as an OpenFL collaborator's task set, named and
// run as OpenFL's KerasTaskRunner runs the same Keras model. Runs in Node and in browsers; the
// application picks and imports a TF.js backend (peer dependencies).
export { ModelMismatchError, OptimizerStateError, TaskSettingsError } from "./errors.js";
export { kerasLayerNames, kerasSnakeCase, kerasWeights, type NamedWeight } from "./keras-names.js";
export { createKerasTasks, type KerasTasksOptions } from "./keras-tasks.js";
export type { LabelledData, TrainValidData } from "./labelled-data.js";
export { loadModelFile, modelFileOf } from "./model-file.js";
export { checkModelTensors, getModelWeights, setModelWeights } from "./model-weights.js";
export {
  getOptimizerState,
  kerasOptimizerTensors,
  type OptimizerTensor,
  setOptimizerState,
} from "./optimizer-state.js";
export { type OptTreatment, parseOptTreatment, resetOptimizer } from "./optimizer-treatment.js";
export { selectBackend } from "./select-backend.js";
export {
  KERAS_TASK_DEFAULTS,
  type KerasTask,
  openflDataSize,
  type PlanTask,
  parsePlanTasks,
} from "./task-settings.js";
