// A user's own data for the softmax-regression task: a CSV file of rows `feature, ..., label`.
// Platform-free (the browser collaborator parses the file the user picked with it).
import type { CollaboratorShard, Dataset } from "./synthetic-blobs.js";

/** A CSV file that is not rows of `features..., label`; names the line and what is wrong. */
export class CsvDatasetError extends Error {
  override name = "CsvDatasetError";
  constructor(
    /** 1-based line of the file, or 0 for the file as a whole. */
    readonly line: number,
    readonly problem: string,
  ) {
    super(line > 0 ? `CSV line ${line}: ${problem}` : `CSV file: ${problem}`);
  }
}

export interface CsvDatasetShape {
  /** Feature columns before the label column. */
  readonly features: number;
  /** Labels are whole numbers 0 .. classes-1. */
  readonly classes: number;
}

/**
 * Parses rows of `features` numbers then an integer label, comma separated. A first row that is
 * not numeric is taken as a header and skipped; blank lines are skipped. Anything else that is
 * not such a row throws CsvDatasetError naming the line (never echoing the values: it is the
 * user's private data).
 */
export function parseCsvDataset(text: string, shape: CsvDatasetShape): Dataset {
  const columns = shape.features + 1;
  const features: number[] = [];
  const labels: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "") continue;
    const cells = line.split(",").map((c) => c.trim());
    const numbers = cells.map((c) => (c === "" ? Number.NaN : Number(c)));
    if (labels.length === 0 && features.length === 0 && numbers.every(Number.isNaN)) continue;
    if (cells.length !== columns) {
      throw new CsvDatasetError(
        i + 1,
        `expected ${columns} columns (${shape.features} features, then the label), got ${cells.length}`,
      );
    }
    const bad = numbers.findIndex((n) => !Number.isFinite(n));
    if (bad >= 0) throw new CsvDatasetError(i + 1, `column ${bad + 1} is not a finite number`);
    const label = numbers[shape.features] as number;
    if (!Number.isInteger(label) || label < 0 || label >= shape.classes) {
      throw new CsvDatasetError(
        i + 1,
        `the label (column ${columns}) must be a whole number 0..${shape.classes - 1}`,
      );
    }
    features.push(...numbers.slice(0, shape.features));
    labels.push(label);
  }
  if (labels.length === 0) throw new CsvDatasetError(0, "holds no data rows");
  return {
    features: Float32Array.from(features),
    labels: Uint8Array.from(labels),
    samples: labels.length,
    featureCount: shape.features,
  };
}

/**
 * Splits a dataset into training and validation rows: every `every`-th row (default 3, a third)
 * validates. Deterministic, so a reloaded page trains on the same rows. Both parts get at least
 * one row when the dataset has two.
 */
export function splitShard(data: Dataset, every = 3): CollaboratorShard {
  if (!(Number.isInteger(every) && every >= 2)) {
    throw new RangeError(`every must be a whole number >= 2, got ${every}`);
  }
  const validate = (s: number) => s % every === every - 1 || (data.samples === 2 && s === 1);
  const pick = (keep: (s: number) => boolean): Dataset => {
    const rows: number[] = [];
    for (let s = 0; s < data.samples; s++) if (keep(s)) rows.push(s);
    const f = data.featureCount;
    const features = new Float32Array(rows.length * f);
    for (const [i, s] of rows.entries()) {
      features.set(data.features.subarray(s * f, (s + 1) * f), i * f);
    }
    return {
      features,
      labels: Uint8Array.from(rows, (s) => data.labels[s] as number),
      samples: rows.length,
      featureCount: f,
    };
  };
  return { train: pick((s) => !validate(s)), validation: pick(validate) };
}

/**
 * The CSV parseCsvDataset reads (a header `f1,...,label`, then one row per sample) of the
 * datasets' rows, one after another: e.g. a synthetic shard written as a user's own file.
 */
export function formatCsvDataset(...datasets: readonly Dataset[]): string {
  const width = datasets[0]?.featureCount ?? 0;
  const header = [...Array.from({ length: width }, (_, f) => `f${f + 1}`), "label"].join(",");
  const rows = [header];
  for (const data of datasets) {
    if (data.featureCount !== width) {
      throw new RangeError(
        `datasets of ${width} and ${data.featureCount} features cannot share a file`,
      );
    }
    for (let s = 0; s < data.samples; s++) {
      const features = data.features.subarray(s * width, (s + 1) * width);
      rows.push([...features, data.labels[s]].join(","));
    }
  }
  return `${rows.join("\n")}\n`;
}
