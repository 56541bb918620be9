import assert from "node:assert/strict";
import { describe, it } from "node:test";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { dataTensors, modelIo } from "./labelled-data.js";

const model = (loss: string) => {
  const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2, 2], units: 3 })] });
  m.compile({ optimizer: "sgd", loss });
  return m;
};

describe("a collaborator's data as the model's tensors", () => {
  it("reshapes features to the model's input and one-hot encodes labels for a categorical loss", async () => {
    const flat = tfl.sequential({
      layers: [tfl.layers.flatten({ inputShape: [2, 2] }), tfl.layers.dense({ units: 3 })],
    });
    flat.compile({ optimizer: "sgd", loss: "categoricalCrossentropy" });
    const io = modelIo(flat);
    assert.deepEqual(io, { inputShape: [2, 2], classes: 3, sparseLabels: false });
    const { x, y } = dataTensors(
      { features: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), labels: [2, 0], samples: 2 },
      io,
    );
    assert.deepEqual(x.shape, [2, 2, 2]);
    assert.deepEqual(Array.from(await y.data()), [0, 0, 1, 1, 0, 0]);
    x.dispose();
    y.dispose();
  });

  it("keeps class indices for a sparse loss, and refuses a model of several inputs", () => {
    assert.equal(modelIo(model("sparseCategoricalCrossentropy")).sparseLabels, true);
    const a = tfl.input({ shape: [2] });
    const b = tfl.input({ shape: [2] });
    const two = tfl.model({
      inputs: [a, b],
      outputs: tfl.layers
        .dense({ units: 2 })
        .apply(tfl.layers.concatenate().apply([a, b])) as tfl.SymbolicTensor,
    });
    assert.throws(() => modelIo(two), /the model has 2 inputs and 1 outputs/);
  });
});
