// The optimizer's state as OpenFL's KerasTaskRunner exchanges it under opt_treatment
// CONTINUE_GLOBAL (`get_tensor_dict(with_opt_vars=True)`: `weight.name` of every variable of
// the Keras 3 optimizer, in `optimizer.variables` order), mapped to and from TF.js's
// optimizer weights (`getWeights`/`setWeights`) for the optimizers whose state means the same.
//
// Keras 3 names them (keras/src/optimizers/base_optimizer.py): `iteration` (the steps applied,
// an int32 that OpenFL sends as float32), `learning_rate`, then for each trainable weight, in
// the model's order, one variable per slot named `<weight path with / as _>_<slot>`, e.g.
// `sequential_conv2d_kernel_momentum`, `sequential_conv2d_kernel_velocity` (slots interleaved
// per weight, or slot by slot where the optimizer adds them in separate calls, as RMSprop). A Sequential model's weight paths start with the model's name; a functional
// model's do not. TF.js holds `iter`, then slot by slot `<variable name>/<slot>` for every
// weight, and keeps the learning rate in the optimizer object, not among its weights.
import type { Float32Tensor } from "@openfl-connect/core";
import * as tf from "@tensorflow/tfjs-core";
import type { LayersModel } from "@tensorflow/tfjs-layers";
import { ModelMismatchError, OptimizerStateError } from "./errors.js";
import { kerasWeights, type NamedWeight } from "./keras-names.js";

/**
 * A TF.js optimizer state slot and the Keras 3 optimizer variable it is; `keras` undefined for a
 * slot TF.js keeps and Keras does not (RMSProp's moments without momentum: overwritten at every
 * step, so not exchanged and set to zeros).
 */
interface Slot {
  readonly keras?: string;
  readonly tfjs: string;
}

interface Mapping {
  /** The Keras class (and settings) the Python collaborators must compile with. */
  readonly keras: string;
  readonly slots: readonly Slot[];
  /**
   * Keras's order of the slot variables: "interleaved" (one add_optimizer_variables call with
   * several names: each weight's slots together) or "grouped" (a call per slot).
   */
  readonly order: "interleaved" | "grouped";
}

/**
 * TF.js optimizers whose state is Keras 3's, variable for variable, with the same meaning (the
 * update rules may differ in where epsilon goes; the state does not).
 */
const MAPPED: Readonly<Record<string, (config: tf.serialization.ConfigDict) => Mapping>> = {
  SGD: () => ({ keras: "SGD (momentum 0)", slots: [], order: "interleaved" }),
  Adam: () => ({
    keras: "Adam (amsgrad False)",
    slots: [
      { keras: "momentum", tfjs: "m" },
      { keras: "velocity", tfjs: "v" },
    ],
    order: "interleaved",
  }),
  Adagrad: () => ({
    keras: "Adagrad",
    slots: [{ keras: "accumulator", tfjs: "accumulator" }],
    order: "interleaved",
  }),
  Adadelta: () => ({
    keras: "Adadelta",
    slots: [
      { keras: "accumulated_grad", tfjs: "accum_grad" },
      { keras: "accumulated_delta_var", tfjs: "accum_var" },
    ],
    order: "interleaved",
  }),
  // Keras's RMSprop: velocity; momentum only with momentum > 0; average_gradient when centered.
  RMSProp: (config) => ({
    keras: "RMSprop (rho = TF.js's decay)",
    slots: [
      { keras: "velocity", tfjs: "rms" },
      Number(config.momentum) > 0 ? { keras: "momentum", tfjs: "momentum" } : { tfjs: "momentum" },
      ...(config.centered === true ? [{ keras: "average_gradient", tfjs: "mg" }] : []),
    ],
    order: "grouped",
  }),
};

/** Why the other TF.js optimizers are refused. */
const REFUSED: Readonly<Record<string, string>> = {
  Momentum:
    "Keras's SGD(momentum) keeps the step (v = momentum * v - learning_rate * g; w += v) where TF.js's momentum optimizer keeps the gradient sum (a = momentum * a + g; w -= learning_rate * a): the states differ by a factor of -learning_rate, a conversion this runner does not make; use Adam, RMSProp, Adagrad, Adadelta or SGD",
  Adamax:
    "TF.js's Adamax cannot read or set its state (its getWeights and setWeights throw 'not implemented'); use Adam, RMSProp, Adagrad, Adadelta or SGD",
};

/** One of TF.js's optimizer weights ({ name, tensor }). */
type OptimizerWeight = Parameters<tf.Optimizer["setWeights"]>[0][number];

const ITERATION = "iteration";
const LEARNING_RATE = "learning_rate";

/** One optimizer tensor as KerasTaskRunner names it, with the model weight it belongs to. */
export interface OptimizerTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

interface Layout {
  readonly className: string;
  readonly slots: readonly Slot[];
  readonly order: Mapping["order"];
  /** The model's trainable weights in Keras's order, each with its Keras variable path. */
  readonly weights: readonly { readonly weight: NamedWeight; readonly path: string }[];
}

/** Keras's automatic name of the first Sequential model in a process. */
const KERAS_SEQUENTIAL = "sequential";

/**
 * The Keras variable path of a model weight: `<model>/<layer>/<weight>` in a Sequential model
 * (a TF.js automatic name "sequential_<n>" becomes Keras's first automatic name "sequential",
 * as layer names do in keras-names.ts), `<layer>/<weight>` in a functional one.
 */
function modelPathPrefix(model: LayersModel): string {
  if (model.getClassName() !== "Sequential") return "";
  return /^sequential_\d+$/.test(model.name) ? `${KERAS_SEQUENTIAL}/` : `${model.name}/`;
}

function layoutOf(model: LayersModel): Layout {
  const optimizer = model.optimizer;
  if (optimizer === undefined || optimizer === null) {
    throw new RangeError("the model has no optimizer: compile it before handing it to the runner");
  }
  const className = optimizer.getClassName();
  const mapping = Object.hasOwn(MAPPED, className) ? MAPPED[className] : undefined;
  if (mapping === undefined) {
    throw new OptimizerStateError(
      className,
      REFUSED[className] ??
        `no mapping to a Keras 3 optimizer's variables (mapped: ${Object.keys(MAPPED).join(", ")})`,
    );
  }
  const prefix = modelPathPrefix(model);
  const weights = kerasWeights(model)
    .filter((w) => w.variable.trainable)
    .map((weight) => ({ weight, path: `${prefix}${weight.name}` }));
  const { slots, order } = mapping(optimizer.getConfig());
  return { className, slots, order, weights };
}

const kerasSlotName = (path: string, keras: string) => `${path.replaceAll("/", "_")}_${keras}`;
const tfjsSlotName = (weight: NamedWeight, slot: Slot) => `${weight.variable.name}/${slot.tfjs}`;

/**
 * The tensors KerasTaskRunner sends for the same Keras 3 model and optimizer, in its order:
 * iteration, learning_rate, then each trainable weight's slots. Throws OptimizerStateError for
 * an optimizer that does not map.
 */
export function kerasOptimizerTensors(model: LayersModel): OptimizerTensor[] {
  const { slots, order, weights } = layoutOf(model);
  const out: OptimizerTensor[] = [
    { name: ITERATION, shape: [] },
    { name: LEARNING_RATE, shape: [] },
  ];
  const add = (weight: NamedWeight, path: string, slot: Slot) => {
    if (slot.keras !== undefined) {
      out.push({ name: kerasSlotName(path, slot.keras), shape: weight.shape });
    }
  };
  if (order === "interleaved") {
    for (const { weight, path } of weights) for (const slot of slots) add(weight, path, slot);
  } else {
    for (const slot of slots) for (const { weight, path } of weights) add(weight, path, slot);
  }
  return out;
}

/** The optimizer's learning rate (every mapped optimizer keeps it as `learningRate`). */
function learningRateOf(optimizer: tf.Optimizer): number {
  return Number(optimizer.getConfig().learningRate);
}

/**
 * The optimizer's state under KerasTaskRunner's names, as fresh copies. Slots exist after the
 * first training step (TF.js and Keras both make them then); before that this throws.
 */
export async function getOptimizerState(
  model: LayersModel,
): Promise<Record<string, Float32Tensor>> {
  const layout = layoutOf(model);
  const optimizer = model.optimizer;
  const held = await optimizer.getWeights();
  const byName = new Map(held.map((w) => [w.name, w.tensor]));
  try {
    const iter = byName.get("iter");
    const out: Record<string, Float32Tensor> = {
      [ITERATION]: {
        shape: [],
        data: Float32Array.of(iter === undefined ? 0 : (iter.dataSync()[0] ?? 0)),
      },
      [LEARNING_RATE]: { shape: [], data: Float32Array.of(learningRateOf(optimizer)) },
    };
    for (const { weight, path } of layout.weights) {
      for (const slot of layout.slots) {
        if (slot.keras === undefined) continue;
        const tensor = byName.get(tfjsSlotName(weight, slot));
        if (tensor === undefined) {
          throw new OptimizerStateError(
            layout.className,
            `no '${slot.tfjs}' state for weight '${weight.name}' yet (it is made at the first training step)`,
          );
        }
        const values = await tensor.data();
        out[kerasSlotName(path, slot.keras)] = {
          shape: weight.shape,
          data: Float32Array.from(values as Float32Array),
        };
      }
    }
    // Keras's order (the slots were read TF.js's way).
    return Object.fromEntries(
      kerasOptimizerTensors(model).map((t) => [t.name, out[t.name] as Float32Tensor]),
    );
  } finally {
    // getWeights makes a new scalar for the iteration count; the slots are the optimizer's own.
    byName.get("iter")?.dispose();
  }
}

/**
 * Sets the optimizer's state from tensors under KerasTaskRunner's names (the aggregated state of
 * a CONTINUE_GLOBAL round), checking every name and shape first so a mismatch changes nothing.
 * The iteration count is truncated to a whole number and the learning rate taken, as Keras's
 * `optimizer.set_weights` does with OpenFL's float32 tensors.
 */
export async function setOptimizerState(
  model: LayersModel,
  tensors: Readonly<Record<string, Float32Tensor>>,
  where: string,
): Promise<void> {
  const layout = layoutOf(model);
  for (const expected of kerasOptimizerTensors(model)) {
    const t = Object.hasOwn(tensors, expected.name) ? tensors[expected.name] : undefined;
    if (t === undefined) {
      throw new ModelMismatchError(expected.name, "absent", expected.shape, where);
    }
    const same =
      t.shape.length === expected.shape.length && t.shape.every((d, i) => d === expected.shape[i]);
    if (!same) throw new ModelMismatchError(expected.name, t.shape, expected.shape, where);
  }
  const scalarOf = (name: string) => (tensors[name] as Float32Tensor).data[0] as number;
  const iterations = Math.trunc(scalarOf(ITERATION));
  const learningRate = scalarOf(LEARNING_RATE);
  if (!(iterations >= 0) || !(learningRate >= 0)) {
    throw new OptimizerStateError(
      layout.className,
      `${where}: iteration ${scalarOf(ITERATION)} and learning_rate ${learningRate} must be finite and >= 0`,
    );
  }
  const optimizer = model.optimizer;
  const old = await optimizer.getWeights();
  const values: OptimizerWeight[] = [{ name: "iter", tensor: tf.scalar(iterations, "int32") }];
  // TF.js's order: slot by slot, each over every trainable weight.
  for (const slot of layout.slots) {
    for (const { weight, path } of layout.weights) {
      const tensor =
        slot.keras === undefined
          ? tf.zeros([...weight.shape], "float32")
          : tf.tensor(
              (tensors[kerasSlotName(path, slot.keras)] as Float32Tensor).data,
              [...weight.shape],
              "float32",
            );
      values.push({ name: tfjsSlotName(weight, slot), tensor });
    }
  }
  const isIter = (v: OptimizerWeight) => v.name === "iter";
  try {
    await optimizer.setWeights(values);
    // setWeights dropped the old slots without freeing them.
    tf.dispose(old.filter((v) => !isIter(v)).map((v) => v.tensor));
  } finally {
    // setWeights made variables of the values (sharing their data); getWeights made the count.
    tf.dispose(values.map((v) => v.tensor));
    tf.dispose(old.filter(isIter).map((v) => v.tensor));
  }
  setLearningRate(optimizer, learningRate);
}

function setLearningRate(optimizer: tf.Optimizer, value: number): void {
  const sgd = optimizer as tf.Optimizer & { setLearningRate?: (lr: number) => void };
  if (typeof sgd.setLearningRate === "function") {
    sgd.setLearningRate(value);
    return;
  }
  // Adam, RMSProp, Adagrad and Adadelta read this (protected) field at every step.
  (optimizer as unknown as { learningRate: number }).learningRate = value;
}
