// The models the collaborator page can train, chosen by the federation's link (`model=`): the
// zero-dependency softmax regression, or the digits CNN with TensorFlow.js (@openfl-connect/tfjs),
// the model OpenFL's Keras collaborators train in the project's mixed federations.
import {
  CLASSES,
  type CollaboratorShard,
  createSoftmaxTasks,
  FEATURES,
  modelTensorNames,
  type TaskSet,
} from "@openfl-connect/collaborator/browser";

export type PageModel = "softmax" | "digits-cnn";

export interface PageModelShape {
  /** Feature columns of the CSV, before the label. */
  readonly features: number;
  readonly classes: number;
  /** What the page says the file must hold. */
  readonly hint: string;
}

export const PAGE_MODELS: Readonly<Record<PageModel, PageModelShape>> = {
  softmax: {
    features: FEATURES,
    classes: CLASSES,
    hint: "A CSV file of rows f1, f2, f3, f4, label (four numbers, then a class 0, 1 or 2; a header row is fine).",
  },
  "digits-cnn": {
    features: 64,
    classes: 10,
    hint: "A CSV file of 8x8 grey images: rows f1..f64, label (64 pixels in [0, 1] row by row, then the digit 0-9; a header row is fine).",
  },
};

/** The model named by a link's `model=`; the softmax regression when absent. */
export function pageModelFrom(search: string): PageModel {
  const value = new URLSearchParams(search).get("model") ?? "softmax";
  if (value === "softmax" || value === "digits-cnn") return value;
  throw new RangeError(
    `the link's model=${JSON.stringify(value)} is not one of: softmax, digits-cnn`,
  );
}

/**
 * The plan's use_delta_updates, from the link (`useDeltaUpdates=true`): send trained tensors as
 * deltas and rebuild the round's model from the aggregated delta, as the plan's other
 * collaborators do. Default false (OpenFL's Keras templates).
 */
export function useDeltaUpdatesFrom(search: string): boolean {
  const value = new URLSearchParams(search).get("useDeltaUpdates") ?? "false";
  if (value === "true" || value === "false") return value === "true";
  throw new RangeError(`the link's useDeltaUpdates=${JSON.stringify(value)} must be true or false`);
}

/** TF.js backends in order of preference (`backends=` in the link overrides, e.g. "cpu"). */
export function backendPreference(search: string): string[] {
  const value = new URLSearchParams(search).get("backends");
  return value === null || value === "" ? ["webgl", "cpu"] : value.split(",");
}

/**
 * The worker's task set for the model on the user's shard, and the TF.js backend it trains on.
 * TF.js is loaded only for the CNN. The WASM backend is not offered: TF.js 4.22's has no
 * convolution gradients, so it cannot train the CNN.
 */
export async function createPageTaskSet(
  model: PageModel,
  shard: CollaboratorShard,
  backends: readonly string[],
): Promise<{ readonly taskSet: TaskSet; readonly backend?: string }> {
  if (model === "softmax") {
    return { taskSet: { tasks: createSoftmaxTasks(() => shard), modelTensorNames } };
  }
  const [{ createKerasTasks, selectBackend }, { digitsCnn }] = await Promise.all([
    import("@openfl-connect/tfjs"),
    import("@openfl-connect/tfjs/examples/digits-cnn"),
    import("@tensorflow/tfjs-backend-cpu"),
    import("@tensorflow/tfjs-backend-webgl"),
  ]);
  const backend = await selectBackend(backends);
  // OpenFL's Keras template's opt_treatment, as the Keras and Node collaborators use.
  const taskSet = createKerasTasks({ model: digitsCnn(), data: shard, optTreatment: "RESET" });
  return { taskSet, backend };
}
