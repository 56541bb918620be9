import assert from "node:assert/strict";
import { describe, it } from "node:test";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { kerasLayerNames, kerasSnakeCase, kerasWeights } from "./keras-names.js";

describe("KerasTaskRunner's tensor names for a TF.js model", () => {
  it("snake-cases class names as Keras does", () => {
    assert.equal(kerasSnakeCase("Conv2D"), "conv2d");
    assert.equal(kerasSnakeCase("Dense"), "dense");
    assert.equal(kerasSnakeCase("BatchNormalization"), "batch_normalization");
    assert.equal(kerasSnakeCase("MaxPooling2D"), "max_pooling2d");
    assert.equal(kerasSnakeCase("GlobalAveragePooling2D"), "global_average_pooling2d");
    assert.equal(kerasSnakeCase("LSTM"), "lstm");
  });

  it("gives TF.js's automatic layer names Keras's (conv2d, conv2d_1, ...), counted per model", () => {
    // A first model takes TF.js's counters past 1, as in any real process.
    tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 2 })] });
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3 }),
        tfl.layers.conv2d({ filters: 4, kernelSize: 3 }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 8 }),
        tfl.layers.batchNormalization(),
        tfl.layers.dense({ units: 3 }),
      ],
    });
    assert.match(model.layers[4]?.name ?? "", /^dense_Dense\d+$/);
    assert.deepEqual(kerasLayerNames(model), [
      "conv2d",
      "conv2d_1",
      "max_pooling2d",
      "flatten",
      "dense",
      "batch_normalization",
      "dense_1",
    ]);
    assert.deepEqual(
      kerasWeights(model).map((w) => [w.name, w.shape]),
      [
        ["conv2d/kernel", [3, 3, 1, 4]],
        ["conv2d/bias", [4]],
        ["conv2d_1/kernel", [3, 3, 4, 4]],
        ["conv2d_1/bias", [4]],
        ["dense/kernel", [16, 8]],
        ["dense/bias", [8]],
        ["batch_normalization/gamma", [8]],
        ["batch_normalization/beta", [8]],
        ["batch_normalization/moving_mean", [8]],
        ["batch_normalization/moving_variance", [8]],
        ["dense_1/kernel", [8, 3]],
        ["dense_1/bias", [3]],
      ],
    );
  });

  it("keeps names the user gave, and counts only automatic names", () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [2], units: 4, name: "hidden" }),
        tfl.layers.dense({ units: 3 }),
        tfl.layers.dense({ units: 3, name: "dense_Dense" }),
      ],
    });
    assert.deepEqual(kerasLayerNames(model), ["hidden", "dense", "dense_Dense"]);
    assert.deepEqual(
      kerasWeights(model).map((w) => w.name),
      [
        "hidden/kernel",
        "hidden/bias",
        "dense/kernel",
        "dense/bias",
        "dense_Dense/kernel",
        "dense_Dense/bias",
      ],
    );
  });

  it("refuses a model in which two weights would share a name", () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [2], units: 4, name: "dense" }),
        tfl.layers.dense({ units: 3 }),
      ],
    });
    assert.throws(
      () => kerasWeights(model),
      /two weights of the model would both be named 'dense\/kernel'/,
    );
  });
});
