// The plan's compression pipeline, from the federation's link: `compressionPipeline=` (OpenFL's
// class, e.g. openfl.pipelines.STCPipeline) with `pSparsity=` and `nClusters=` for its settings,
// checked by core's rules, so the tab decodes and sends tensors as the plan's other collaborators.
import {
  type CompressionPipeline,
  InvalidOptionError,
  pipelineFromTemplate,
} from "@openfl-connect/core";

/** The link's pipeline; undefined (NoCompressionPipeline) when it names none. */
export function compressionFrom(search: string): CompressionPipeline | undefined {
  const params = new URLSearchParams(search);
  const template = params.get("compressionPipeline");
  const number = (key: string) => {
    const raw = params.get(key);
    return raw === null ? undefined : raw.trim() === "" ? Number.NaN : Number(raw);
  };
  const pSparsity = number("pSparsity");
  const nClusters = number("nClusters");
  if (template === null) {
    if (pSparsity !== undefined || nClusters !== undefined) {
      throw new RangeError(
        "the link sets pSparsity or nClusters without compressionPipeline (the pipeline they belong to)",
      );
    }
    return undefined;
  }
  try {
    return pipelineFromTemplate(template, { p_sparsity: pSparsity, n_clusters: nClusters });
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    const key = error.option.endsWith("p_sparsity")
      ? "pSparsity"
      : error.option.endsWith("n_clusters")
        ? "nClusters"
        : "compressionPipeline";
    throw new RangeError(
      `the link's ${key}=${params.get(key) ?? ""} is not valid: expected ${error.expected}`,
    );
  }
}
