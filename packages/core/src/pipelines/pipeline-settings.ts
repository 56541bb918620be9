import { InvalidOptionError } from "../errors.js";
import type { CompressionPipeline } from "./pipeline-config.js";

/** OpenFL's default p_sparsity of STCPipeline and SKCPipeline. */
export const DEFAULT_P_SPARSITY = 0.1;

/** OpenFL's default n_clusters of SKCPipeline and KCPipeline. */
export const DEFAULT_N_CLUSTERS = 6;

/**
 * A p_sparsity in (0, 1]. OpenFL takes any number, but 0 keeps no element (its top-k then
 * raises "min() arg is an empty sequence") and above 1 its top-k slices from the wrong end.
 */
export function checkSparsity(value: unknown, option: string): number {
  if (typeof value !== "number" || !(value > 0 && value <= 1)) {
    throw new InvalidOptionError(option, "a number in (0, 1]", value);
  }
  return value;
}

/** An n_clusters that is an integer >= 1 (sklearn's KMeans refuses anything else). */
export function checkClusters(value: unknown, option: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(option, "an integer >= 1", value);
  }
  return value;
}

/** The p_sparsity an STC or SKC pipeline sparsifies with (option `pipeline.pSparsity`). */
export function sparsityOf(pipeline: CompressionPipeline & { kind: "stc" | "skc" }): number {
  return checkSparsity(pipeline.pSparsity ?? DEFAULT_P_SPARSITY, "pipeline.pSparsity");
}

/** The n_clusters an SKC or KC pipeline quantizes with (option `pipeline.nClusters`). */
export function clustersOf(pipeline: CompressionPipeline & { kind: "skc" | "kc" }): number {
  return checkClusters(pipeline.nClusters ?? DEFAULT_N_CLUSTERS, "pipeline.nClusters");
}
