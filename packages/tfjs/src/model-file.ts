// OpenFL's model file (save/init.pbuf, best.pbuf, last.pbuf) to and from a TF.js model.
import { decodeModelFile, encodeModelFile } from "@openfl-connect/core";
import type { LayersModel } from "@tensorflow/tfjs-layers";
import { checkModelTensors, getModelWeights, setModelWeights } from "./model-weights.js";

/**
 * The model's weights as OpenFL's initial model file (what `fx plan initialize` writes to
 * save/init.pbuf), under KerasTaskRunner's tensor names: start OpenFL's aggregator with it.
 */
export async function modelFileOf(model: LayersModel, roundNumber = 0): Promise<Uint8Array> {
  return encodeModelFile(await getModelWeights(model), roundNumber);
}

/**
 * Sets the model's weights from an OpenFL model file. The file must hold exactly the model's
 * tensors with the model's shapes, or ModelMismatchError names the first that differs and
 * nothing is changed. `where` names the file in errors. Returns the file's round.
 */
export function loadModelFile(model: LayersModel, bytes: Uint8Array, where = "model file"): number {
  const file = decodeModelFile(bytes, where);
  checkModelTensors(model, file.tensors, where, { exact: true });
  setModelWeights(model, file.tensors, where);
  return file.roundNumber;
}
