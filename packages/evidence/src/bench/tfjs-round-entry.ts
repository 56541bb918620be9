// Benchmark (g), the TF.js side: seconds per round of @openfl-connect/tfjs's Keras tasks on one
// digits shard (aggregated_model_validation, train, locally_tuned_model_validation), no wire.
// The same code runs in Node and, bundled by esbuild, in Chromium (tfjs-rounds.ts).
import {
  parseCsvDataset,
  splitShard,
  type TaskDescription,
} from "@openfl-connect/collaborator/browser";
import { createKerasTasks, getModelWeights, selectBackend } from "@openfl-connect/tfjs";
import {
  DIGITS_CLASSES,
  DIGITS_FEATURES,
  digitsCnn,
} from "@openfl-connect/tfjs/examples/digits-cnn";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import "@tensorflow/tfjs-backend-webgl";

export interface TfjsRoundsResult {
  /** The backend that ran, or why none did. */
  readonly backend: string;
  readonly rounds: readonly { readonly train_s: number; readonly validate_s: number }[];
  /** Set when the backend could not train the model (e.g. a kernel it lacks). */
  readonly error?: string;
}

export async function tfjsRounds(options: {
  readonly csv: string;
  readonly rounds: number;
  readonly backend: string;
  /** Where the page serves the WASM backend's .wasm files (browsers; Node finds them itself). */
  readonly wasmPaths?: string;
}): Promise<TfjsRoundsResult> {
  if (options.wasmPaths !== undefined) setWasmPaths(options.wasmPaths);
  let backend: string;
  try {
    backend = await selectBackend([options.backend]);
  } catch (error) {
    return { backend: options.backend, rounds: [], error: (error as Error).message };
  }
  const shard = splitShard(
    parseCsvDataset(options.csv, { features: DIGITS_FEATURES, classes: DIGITS_CLASSES }),
  );
  const model = digitsCnn({ seed: 11 });
  const { tasks } = createKerasTasks({ model, data: shard, optTreatment: "RESET" });
  const run = (
    name: string,
    round: number,
    weights: Awaited<ReturnType<typeof getModelWeights>>,
    local = {},
  ) =>
    (tasks[name] as TaskDescription).run({
      taskName: name,
      round,
      collaboratorName: "bench",
      model: weights,
      localTensors: local,
      signal: new AbortController().signal,
    });
  let weights = await getModelWeights(model);
  const rounds: { train_s: number; validate_s: number }[] = [];
  try {
    for (let r = 0; r < options.rounds; r++) {
      const t0 = performance.now();
      await run("aggregated_model_validation", r, weights);
      const t1 = performance.now();
      const trained = await run("train", r, weights);
      const t2 = performance.now();
      await run("locally_tuned_model_validation", r, weights, trained.tensors);
      const t3 = performance.now();
      weights = { ...(trained.tensors ?? {}) };
      rounds.push({ train_s: (t2 - t1) / 1000, validate_s: (t1 - t0 + (t3 - t2)) / 1000 });
    }
  } catch (error) {
    return { backend, rounds, error: (error as Error).message.split("\n")[0] ?? "" };
  } finally {
    model.dispose();
  }
  return { backend, rounds };
}
