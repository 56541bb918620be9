/**
 * The model and the federation's model disagree: a tensor is missing on one side, or its shape
 * differs. Thrown before anything is trained or uploaded.
 */
export class ModelMismatchError extends Error {
  override name = "ModelMismatchError";
  constructor(
    /** The tensor, by its OpenFL (Keras) name, e.g. "dense_1/kernel". */
    readonly tensorName: string,
    /** What the federation's model has: a shape, or "absent". */
    readonly expected: readonly number[] | "absent",
    /** What this model has: a shape, or "absent". */
    readonly actual: readonly number[] | "absent",
    where: string,
  ) {
    const show = (s: readonly number[] | "absent") =>
      s === "absent" ? "no such tensor" : `[${s.join(", ")}]`;
    super(
      `${where}: tensor '${tensorName}': the federation's model has ${show(expected)}, this model has ${show(actual)}`,
    );
  }
}

/** A task setting (OpenFL plan `tasks` section) this runner cannot honour; names the setting. */
export class TaskSettingsError extends Error {
  override name = "TaskSettingsError";
  constructor(
    /** e.g. "tasks.train.kwargs.metrics". */
    readonly setting: string,
    problem: string,
  ) {
    super(`${setting}: ${problem}`);
  }
}

/**
 * The model's optimizer cannot be exchanged as OpenFL's KerasTaskRunner exchanges a Keras
 * optimizer (opt_treatment CONTINUE_GLOBAL): names the TF.js optimizer and why.
 */
export class OptimizerStateError extends Error {
  override name = "OptimizerStateError";
  constructor(
    /** The TF.js optimizer's class name, e.g. "RMSProp". */
    readonly optimizer: string,
    problem: string,
  ) {
    super(`opt_treatment CONTINUE_GLOBAL, TF.js optimizer ${optimizer}: ${problem}`);
  }
}
