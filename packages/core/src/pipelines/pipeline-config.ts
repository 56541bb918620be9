import { InvalidOptionError } from "../errors.js";
import { checkClusters, checkSparsity } from "./pipeline-settings.js";

/**
 * The plan's compression pipeline (OpenFL: `compression_pipeline.template`, the pipeline its
 * `TensorCodec` is built with, and `compression_pipeline.settings`). Decoding needs no settings:
 * `p_sparsity` and `n_clusters` only change what a sender produces, never how it is read back.
 */
export type CompressionPipeline =
  /** OpenFL: NoCompressionPipeline (the default). Lossless. */
  | { readonly kind: "none" }
  /** OpenFL: RandomShiftPipeline. Lossless: every tensor uses it. */
  | { readonly kind: "random-shift" }
  /** OpenFL: STCPipeline (sparsify, ternarize, gzip). Lossy. */
  | {
      readonly kind: "stc";
      /** Fraction of elements kept, in (0, 1]. Default 0.1 (OpenFL: settings.p_sparsity). */
      readonly pSparsity?: number;
    }
  /** OpenFL: SKCPipeline (sparsify, k-means, gzip). Lossy. */
  | {
      readonly kind: "skc";
      /** Fraction of elements kept, in (0, 1]. Default 0.1 (OpenFL: settings.p_sparsity). */
      readonly pSparsity?: number;
      /** Number of k-means clusters, an integer >= 1. Default 6 (OpenFL: settings.n_clusters). */
      readonly nClusters?: number;
    }
  /** OpenFL: KCPipeline (k-means, gzip). Lossy. Its p_sparsity setting is unused by OpenFL. */
  | {
      readonly kind: "kc";
      /** Number of k-means clusters, an integer >= 1. Default 6 (OpenFL: settings.n_clusters). */
      readonly nClusters?: number;
    }
  /** OpenFL: EdenPipeline (needs torch). Lossy; only its lossless tensors decode here. */
  | { readonly kind: "eden" };

export type PipelineKind = CompressionPipeline["kind"];

/** OpenFL's class name of each pipeline, as `openfl.pipelines` exports it. */
export const OPENFL_PIPELINE_CLASS = {
  none: "NoCompressionPipeline",
  "random-shift": "RandomShiftPipeline",
  stc: "STCPipeline",
  skc: "SKCPipeline",
  kc: "KCPipeline",
  eden: "EdenPipeline",
} as const satisfies Record<PipelineKind, string>;

export type OpenFLPipelineClass = (typeof OPENFL_PIPELINE_CLASS)[PipelineKind];

/** The module under `openfl.pipelines` that defines each class. */
const OPENFL_PIPELINE_MODULE: Record<PipelineKind, string> = {
  none: "no_compression_pipeline",
  "random-shift": "random_shift_pipeline",
  stc: "stc_pipeline",
  skc: "skc_pipeline",
  kc: "kc_pipeline",
  eden: "eden_pipeline",
};

const KINDS = Object.keys(OPENFL_PIPELINE_CLASS) as PipelineKind[];

/** OpenFL: `TransformationPipeline.is_lossy()`; under a lossy pipeline, lossless tensors use NoCompression. */
export function isLossyPipeline(pipeline: CompressionPipeline): boolean {
  return pipeline.kind !== "none" && pipeline.kind !== "random-shift";
}

/**
 * The pipeline a plan's `compression_pipeline.template` names, e.g.
 * "openfl.pipelines.STCPipeline" or "openfl.pipelines.stc_pipeline.STCPipeline" (both import
 * the same class in OpenFL's `Plan.build`), with the `p_sparsity` and `n_clusters` of its
 * `settings` where that pipeline reads them (other settings are ignored, as OpenFL's
 * constructors take and drop them). A setting out of range is refused (see pipeline-settings.ts).
 */
export function pipelineFromTemplate(
  template: string,
  settings: Readonly<Record<string, unknown>> = {},
): CompressionPipeline {
  for (const kind of KINDS) {
    const name = OPENFL_PIPELINE_CLASS[kind];
    if (
      template === `openfl.pipelines.${name}` ||
      template === `openfl.pipelines.${OPENFL_PIPELINE_MODULE[kind]}.${name}`
    ) {
      return withSettings(kind, settings);
    }
  }
  throw new InvalidOptionError(
    "compression_pipeline.template",
    `one of ${KINDS.map((k) => `openfl.pipelines.${OPENFL_PIPELINE_CLASS[k]}`).join(", ")}`,
    template,
  );
}

const SETTINGS = "compression_pipeline.settings";

function withSettings(
  kind: PipelineKind,
  settings: Readonly<Record<string, unknown>>,
): CompressionPipeline {
  const p = settings.p_sparsity;
  const k = settings.n_clusters;
  const pSparsity =
    p === undefined ? {} : { pSparsity: checkSparsity(p, `${SETTINGS}.p_sparsity`) };
  const nClusters =
    k === undefined ? {} : { nClusters: checkClusters(k, `${SETTINGS}.n_clusters`) };
  switch (kind) {
    case "stc":
      return { kind, ...pSparsity };
    case "skc":
      return { kind, ...pSparsity, ...nClusters };
    case "kc":
      return { kind, ...nClusters };
    default:
      return { kind };
  }
}
