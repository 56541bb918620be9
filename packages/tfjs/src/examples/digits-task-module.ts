// A task module for the Node collaborator CLI (`tasks:` in its config): the digits CNN trained
// with OpenFL's Keras tasks on a CSV shard. Settings come from the environment, since the CLI
// imports a task module without arguments:
//   OPENFL_TFJS_DATA     the shard: a CSV of f1..f64,label rows (every 3rd row validates)
//   OPENFL_TFJS_BACKEND  "cpu" (the default; TF.js 4.22's WASM backend has no convolution
//                        gradients, so it cannot train this CNN and is refused)
//   OPENFL_TFJS_OPT_TREATMENT  RESET, CONTINUE_LOCAL or CONTINUE_GLOBAL (default RESET, as
//                        OpenFL's Keras template)
import { readFileSync } from "node:fs";
import { parseCsvDataset, splitShard } from "@openfl-connect/collaborator/browser";
import { createKerasTasks } from "../keras-tasks.js";
import { selectBackend } from "../select-backend.js";
import { DIGITS_CLASSES, DIGITS_FEATURES, digitsCnn } from "./digits-cnn.js";

const dataPath = process.env.OPENFL_TFJS_DATA;
if (dataPath === undefined || dataPath === "") {
  throw new Error("OPENFL_TFJS_DATA must name the collaborator's digits CSV (f1..f64,label)");
}
const wanted = process.env.OPENFL_TFJS_BACKEND ?? "cpu";
if (wanted !== "cpu") {
  throw new Error(
    `OPENFL_TFJS_BACKEND must be "cpu", got ${JSON.stringify(wanted)}${wanted === "wasm" ? " (TF.js's WASM backend has no convolution gradients: it cannot train this CNN)" : ""}`,
  );
}
await import("@tensorflow/tfjs-backend-cpu");
/** The TF.js backend this module trains on. */
export const backend = await selectBackend(["cpu"]);

let text: string;
try {
  text = readFileSync(dataPath, "utf8");
} catch (error) {
  throw new Error(`OPENFL_TFJS_DATA: cannot read ${dataPath}: ${(error as Error).message}`);
}
const shard = splitShard(
  parseCsvDataset(text, { features: DIGITS_FEATURES, classes: DIGITS_CLASSES }),
);

const taskSet = createKerasTasks({
  model: digitsCnn(),
  data: shard,
  optTreatment: process.env.OPENFL_TFJS_OPT_TREATMENT ?? "RESET",
});
export const tasks = taskSet.tasks;
export const modelTensorNames = taskSet.modelTensorNames;
export const optimizerTensorNames = taskSet.optimizerTensorNames;
