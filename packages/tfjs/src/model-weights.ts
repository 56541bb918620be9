// Moving a TF.js model's weights to and from the federation's tensors, by KerasTaskRunner's
// names, checking every name and shape first so a mismatch changes nothing.
import type { Float32Tensor } from "@openfl-connect/core";
import * as tf from "@tensorflow/tfjs-core";
import type { LayersModel } from "@tensorflow/tfjs-layers";
import { ModelMismatchError } from "./errors.js";
import { kerasWeights, type NamedWeight } from "./keras-names.js";

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Checks that `tensors` holds every weight of the model, each with the model's shape.
 * `where` names the source in the error (e.g. "round 3 model", "save/init.pbuf").
 * With `exact`, a tensor the model does not have is refused too (a model file must match).
 */
export function checkModelTensors(
  model: LayersModel,
  tensors: Readonly<Record<string, Float32Tensor>>,
  where: string,
  options: { readonly exact?: boolean } = {},
): NamedWeight[] {
  const weights = kerasWeights(model);
  for (const w of weights) {
    const t = Object.hasOwn(tensors, w.name) ? tensors[w.name] : undefined;
    if (t === undefined) throw new ModelMismatchError(w.name, "absent", w.shape, where);
    if (!sameShape(t.shape, w.shape)) throw new ModelMismatchError(w.name, t.shape, w.shape, where);
  }
  if (options.exact) {
    const names = new Set(weights.map((w) => w.name));
    for (const [name, t] of Object.entries(tensors)) {
      if (!names.has(name)) throw new ModelMismatchError(name, t.shape, "absent", where);
    }
  }
  return weights;
}

/** Sets the model's weights from the federation's tensors (after checking them all). */
export function setModelWeights(
  model: LayersModel,
  tensors: Readonly<Record<string, Float32Tensor>>,
  where: string,
): void {
  for (const w of checkModelTensors(model, tensors, where)) {
    const t = tensors[w.name] as Float32Tensor;
    const value = tf.tensor(t.data, [...t.shape], "float32");
    try {
      w.variable.write(value);
    } finally {
      value.dispose();
    }
  }
}

/** The model's weights as the federation's tensors: fresh copies, by KerasTaskRunner's names. */
export async function getModelWeights(model: LayersModel): Promise<Record<string, Float32Tensor>> {
  const out: Record<string, Float32Tensor> = {};
  for (const w of kerasWeights(model)) {
    // data() (not dataSync) lets a WebGL backend read back without blocking the thread; the
    // copy keeps the result independent of the variable's own buffer.
    const values = await w.variable.read().data();
    out[w.name] = { shape: w.shape, data: Float32Array.from(values as Float32Array) };
  }
  return out;
}
