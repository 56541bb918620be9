// The tensor names OpenFL's KerasTaskRunner gives a model (`_get_weights_names`): for each of
// the model's layers, for each of its weights, `layer.name + "/" + weight.name`. Keras 3's
// weight.name is the short name ("kernel", "bias", "moving_mean"), the same short names TF.js
// layers use, and both keep weights channels-last in the same layout.
import type { LayersModel } from "@tensorflow/tfjs-layers";

/** Keras's `to_snake_case` (keras/src/utils/naming.py), which its automatic layer names use. */
export function kerasSnakeCase(className: string): string {
  return className
    .replace(/(.)([A-Z][a-z]+)/g, "$1_$2")
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .toLowerCase();
}

/** A TF.js automatic layer name, `<snake>_<ClassName><n>`, e.g. "conv2d_Conv2D3". */
function isTfjsAutoName(name: string, className: string): boolean {
  const suffix = name.match(new RegExp(`_${className}(\\d+)$`));
  return suffix !== null && name.length > (suffix[0]?.length ?? 0);
}

/**
 * Keras's name for each of the model's layers, in order. A name the user gave is kept. A TF.js
 * automatic name becomes the name Keras gives the same layer in a process that built only this
 * model: the snake-cased class name, then `_1`, `_2`, ... for later layers of the same class
 * (Keras counts names per process, so build the Keras model first or name layers explicitly).
 */
export function kerasLayerNames(model: LayersModel): string[] {
  const used = new Map<string, number>();
  return model.layers.map((layer) => {
    const className = layer.getClassName();
    if (!isTfjsAutoName(layer.name, className)) return layer.name;
    const base = kerasSnakeCase(className);
    const n = used.get(base) ?? 0;
    used.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  });
}

/** One model weight under its OpenFL name. */
export interface NamedWeight {
  readonly name: string;
  readonly shape: readonly number[];
  /** The TF.js variable (its value is the model's own: not to be disposed). */
  readonly variable: LayersModel["weights"][number];
}

/**
 * The model's weights in KerasTaskRunner's order and names, e.g. `conv2d/kernel`, `dense_1/bias`
 * (non-trainable weights such as batch-norm statistics included, as Keras's `layer.weights`).
 * Throws if two weights get one name (a nested model: KerasTaskRunner would collide too).
 */
export function kerasWeights(model: LayersModel): NamedWeight[] {
  const layerNames = kerasLayerNames(model);
  const out: NamedWeight[] = [];
  const seen = new Set<string>();
  model.layers.forEach((layer, i) => {
    for (const variable of layer.weights) {
      const short = variable.originalName.slice(variable.originalName.lastIndexOf("/") + 1);
      const name = `${layerNames[i]}/${short}`;
      if (seen.has(name)) {
        throw new RangeError(
          `two weights of the model would both be named '${name}' (layer '${layer.name}'): OpenFL keys tensors by name; give the layers distinct names`,
        );
      }
      seen.add(name);
      out.push({ name, shape: [...variable.shape] as number[], variable });
    }
  });
  return out;
}
