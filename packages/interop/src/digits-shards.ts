// scikit-learn's digits, exported at test time by python/digits_keras.py into one CSV shard per
// collaborator (no download: the dataset ships inside scikit-learn).
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseCsvDataset, splitShard } from "@openfl-connect/collaborator/browser";
import type { CollaboratorShard } from "@openfl-connect/collaborator/tasks/synthetic-blobs";
import { DIGITS_CLASSES, DIGITS_FEATURES } from "@openfl-connect/tfjs/examples/digits-cnn";
import { PYTHON, REPO_ROOT, requirePython } from "./openfl-fixture.js";

const SCRIPT = join(REPO_ROOT, "packages", "interop", "python", "digits_keras.py");

/** Writes `<dir>/digits-<name>.csv` for each name (a disjoint part of the 1797 images each). */
export async function exportDigitsShards(
  dir: string,
  names: readonly string[],
): Promise<Record<string, string>> {
  await requirePython();
  const { stdout } = await promisify(execFile)(
    PYTHON,
    [SCRIPT, "export", "--out-dir", dir, "--names", names.join(",")],
    { env: { ...process.env, KERAS_BACKEND: "jax" } },
  );
  return (JSON.parse(stdout) as { shards: Record<string, string> }).shards;
}

/** A shard file as the TypeScript collaborators split it (every third row validates). */
export async function readDigitsShard(path: string): Promise<CollaboratorShard> {
  const text = await readFile(path, "utf8");
  return splitShard(parseCsvDataset(text, { features: DIGITS_FEATURES, classes: DIGITS_CLASSES }));
}

/** KerasTaskRunner's names and shapes for the Keras digits CNN and its Adam optimizer. */
export interface KerasDigitsNames {
  /** The model's tensors (`get_tensor_dict(with_opt_vars=False)`). */
  readonly tensors: Record<string, number[]>;
  /** The optimizer's, after one training step, in KerasTaskRunner's order: [name, shape]. */
  readonly optimizer: [string, number[]][];
  /**
   * Sequential([Input((3,)), Dense(4, name="hid"), Dense(2)])'s optimizer tensors under each
   * Keras optimizer the TF.js runner maps ("adam", "rmsprop", "rmsprop-momentum-centered",
   * "adagrad", "adadelta", "sgd"; python/digits_keras.py SMALL_MODEL_OPTIMIZERS).
   */
  readonly small_model: Record<string, [string, number[]][]>;
}

let names: Promise<KerasDigitsNames> | undefined;

/** KerasTaskRunner's names of the Keras digits CNN, from one fresh Python process (memoised). */
export function kerasDigitsNames(): Promise<KerasDigitsNames> {
  names ??= requirePython().then(async () => {
    const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, "names"], {
      env: { ...process.env, KERAS_BACKEND: "jax" },
    });
    return JSON.parse(stdout) as KerasDigitsNames;
  });
  return names;
}
