// What happens to the optimizer's state between rounds (OpenFL: collaborator.settings.opt_treatment).
import type { Optimizer } from "@tensorflow/tfjs-core";
import type { LayersModel } from "@tensorflow/tfjs-layers";
import { TaskSettingsError } from "./errors.js";

/**
 * RESET: a fresh optimizer state for every round. CONTINUE_LOCAL: the state carries over from
 * round to round on this collaborator (OpenFL's default). CONTINUE_GLOBAL: the state is sent
 * with the model and the aggregator's average of it taken from round 1 on, as KerasTaskRunner
 * does (optimizer-state.ts; only for optimizers whose state maps to Keras's).
 */
export type OptTreatment = "RESET" | "CONTINUE_LOCAL" | "CONTINUE_GLOBAL";

export function parseOptTreatment(value: unknown): OptTreatment {
  if (value === "RESET" || value === "CONTINUE_LOCAL" || value === "CONTINUE_GLOBAL") return value;
  throw new TaskSettingsError(
    "collaborator.settings.opt_treatment",
    `expected RESET, CONTINUE_LOCAL or CONTINUE_GLOBAL, got ${JSON.stringify(value)}`,
  );
}

interface OptimizerClass {
  fromConfig(cls: OptimizerClass, config: ReturnType<Optimizer["getConfig"]>): Optimizer;
}

/**
 * Gives the model a new optimizer of the same kind and settings, with no state (no moments, the
 * iteration count at 0), and frees the old one's state.
 */
export function resetOptimizer(model: LayersModel): void {
  const old = model.optimizer;
  if (old === undefined || old === null) {
    throw new RangeError("the model has no optimizer: compile it before handing it to the runner");
  }
  const cls = old.constructor as unknown as OptimizerClass;
  model.optimizer = cls.fromConfig(cls, old.getConfig());
  old.dispose();
}
