// An example model: a small CNN for scikit-learn's digits (8x8 grey images, 10 classes), the
// same network OpenFL's Keras collaborators build in the project's mixed-federation tests. Its
// layers keep TF.js's automatic names, which the runner maps to Keras's (conv2d, dense, dense_1).
// One convolution, not two: TF.js's CPU backend computes convolution gradients naively, and a
// second 3x3x16x32 layer made an epoch ~9x slower there (and the WASM backend has no
// convolution gradients at all).
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";

export const DIGITS_IMAGE_SHAPE = [8, 8, 1] as const;
export const DIGITS_CLASSES = 10;
/** Pixels per image: a CSV row holds these, then the label. */
export const DIGITS_FEATURES = 64;

/**
 * Conv2D(16, 3, relu) -> MaxPooling2D(2) -> Flatten -> Dense(64, relu) -> Dense(10, softmax),
 * compiled as the Keras template compiles its CNN (categorical cross-entropy, Adam, accuracy) but
 * with a learning rate of 0.005 (Keras's default: 0.001), which reaches 90% in about 5 federated
 * rounds of one epoch. Initial weights are random (Glorot uniform, zero biases) unless `seed` is given.
 */
export function digitsCnn(options: { readonly seed?: number } = {}): tfl.LayersModel {
  const init = (offset: number) =>
    options.seed === undefined
      ? undefined
      : tfl.initializers.glorotUniform({ seed: options.seed + offset });
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [...DIGITS_IMAGE_SHAPE],
        filters: 16,
        kernelSize: 3,
        activation: "relu",
        kernelInitializer: init(0),
      }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 64, activation: "relu", kernelInitializer: init(2) }),
      tfl.layers.dense({
        units: DIGITS_CLASSES,
        activation: "softmax",
        kernelInitializer: init(3),
      }),
    ],
  });
  model.compile({
    optimizer: tf.train.adam(0.005),
    loss: "categoricalCrossentropy",
    metrics: ["accuracy"],
  });
  return model;
}

/** What `openfl-tfjs init-model --model <this module>` builds. */
export const createModel = (): tfl.LayersModel => digitsCnn();
