// The compression pipelines the federation specs run, with the settings they use, and which of
// them a run selects (PIPELINES=stc,kc).
import type { PlanCompressionPipeline } from "./openfl-federation.js";

export interface PipelineCase {
  /** The name PIPELINES uses: random-shift, stc, skc, kc. */
  readonly id: string;
  readonly pipeline: PlanCompressionPipeline;
  /** Whether OpenFL's TransformationPipeline.is_lossy() says so. */
  readonly lossy: boolean;
}

export const PIPELINE_CASES: readonly PipelineCase[] = [
  {
    id: "random-shift",
    pipeline: { template: "openfl.pipelines.RandomShiftPipeline" },
    lossy: false,
  },
  {
    id: "stc",
    pipeline: { template: "openfl.pipelines.STCPipeline", settings: { p_sparsity: 0.25 } },
    lossy: true,
  },
  {
    id: "skc",
    pipeline: {
      template: "openfl.pipelines.SKCPipeline",
      settings: { p_sparsity: 0.5, n_clusters: 4 },
    },
    lossy: true,
  },
  {
    id: "kc",
    pipeline: { template: "openfl.pipelines.KCPipeline", settings: { n_clusters: 6 } },
    lossy: true,
  },
];

/** The cases PIPELINES names (comma-separated ids), or those of `fallback` without it. */
export function selectedPipelineCases(fallback: readonly string[]): PipelineCase[] {
  const ids = process.env.PIPELINES?.split(",").map((s) => s.trim()) ?? fallback;
  return PIPELINE_CASES.filter((c) => ids.includes(c.id));
}

/** The class name of a case's template, e.g. "STCPipeline". */
export function pipelineName(c: PipelineCase): string {
  return c.pipeline.template.split(".").at(-1) ?? c.pipeline.template;
}
