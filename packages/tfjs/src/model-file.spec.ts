import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeModelFile, encodeModelFile } from "@openfl-connect/core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import { ModelMismatchError } from "./errors.js";
import { loadModelFile, modelFileOf } from "./model-file.js";
import { getModelWeights } from "./model-weights.js";

const model = () =>
  tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2, name: "dense" })] });

describe("OpenFL's model file from and into a TF.js model", () => {
  it("writes the model's weights under KerasTaskRunner's names and reads them into another model", async () => {
    const source = model();
    const bytes = await modelFileOf(source);
    const file = decodeModelFile(bytes);
    assert.deepEqual(Object.keys(file.tensors), ["dense/kernel", "dense/bias"]);
    const target = model();
    assert.equal(loadModelFile(target, bytes, "save/init.pbuf"), 0);
    assert.deepEqual(await getModelWeights(target), await getModelWeights(source));
  });

  it("refuses a file with a tensor the model lacks, and changes nothing", async () => {
    const target = model();
    const before = await getModelWeights(target);
    const extra = encodeModelFile({
      ...before,
      "dense_1/bias": { shape: [2], data: new Float32Array(2) },
    });
    assert.throws(
      () => loadModelFile(target, extra, "save/init.pbuf"),
      (e: unknown) =>
        e instanceof ModelMismatchError &&
        e.message ===
          "save/init.pbuf: tensor 'dense_1/bias': the federation's model has [2], this model has no such tensor",
    );
    const wrong = encodeModelFile({
      ...before,
      "dense/bias": { shape: [3], data: new Float32Array(3) },
    });
    assert.throws(
      () => loadModelFile(target, wrong, "save/init.pbuf"),
      /tensor 'dense\/bias': the federation's model has \[3\], this model has \[2\]/,
    );
    assert.deepEqual(await getModelWeights(target), before);
  });
});
