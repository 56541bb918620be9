import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidOptionError } from "../errors.js";
import {
  type CompressionPipeline,
  isLossyPipeline,
  OPENFL_PIPELINE_CLASS,
  pipelineFromTemplate,
} from "./pipeline-config.js";

const ALL_TEMPLATES =
  "one of openfl.pipelines.NoCompressionPipeline, openfl.pipelines.RandomShiftPipeline, " +
  "openfl.pipelines.STCPipeline, openfl.pipelines.SKCPipeline, openfl.pipelines.KCPipeline, " +
  "openfl.pipelines.EdenPipeline";

describe("pipeline config", () => {
  it("names each pipeline by OpenFL's class", () => {
    assert.deepEqual(OPENFL_PIPELINE_CLASS, {
      none: "NoCompressionPipeline",
      "random-shift": "RandomShiftPipeline",
      stc: "STCPipeline",
      skc: "SKCPipeline",
      kc: "KCPipeline",
      eden: "EdenPipeline",
    });
  });

  it("is lossy exactly where OpenFL's is_lossy() is: STC, SKC, KC, Eden", () => {
    const lossy = (kind: CompressionPipeline["kind"]) => isLossyPipeline({ kind });
    assert.equal(lossy("none"), false);
    assert.equal(lossy("random-shift"), false);
    assert.equal(lossy("stc"), true);
    assert.equal(lossy("skc"), true);
    assert.equal(lossy("kc"), true);
    assert.equal(lossy("eden"), true);
  });

  it("reads a plan template given by package or by module", () => {
    const cases: [string, CompressionPipeline["kind"]][] = [
      ["openfl.pipelines.NoCompressionPipeline", "none"],
      ["openfl.pipelines.no_compression_pipeline.NoCompressionPipeline", "none"],
      ["openfl.pipelines.RandomShiftPipeline", "random-shift"],
      ["openfl.pipelines.random_shift_pipeline.RandomShiftPipeline", "random-shift"],
      ["openfl.pipelines.STCPipeline", "stc"],
      ["openfl.pipelines.stc_pipeline.STCPipeline", "stc"],
      ["openfl.pipelines.SKCPipeline", "skc"],
      ["openfl.pipelines.skc_pipeline.SKCPipeline", "skc"],
      ["openfl.pipelines.KCPipeline", "kc"],
      ["openfl.pipelines.kc_pipeline.KCPipeline", "kc"],
      ["openfl.pipelines.EdenPipeline", "eden"],
      ["openfl.pipelines.eden_pipeline.EdenPipeline", "eden"],
    ];
    for (const [template, kind] of cases) {
      assert.deepEqual(pipelineFromTemplate(template), { kind }, template);
    }
  });

  it("refuses a template naming no OpenFL pipeline, or the wrong module", () => {
    for (const template of [
      "STCPipeline",
      "openfl.pipelines.stc_pipeline.KCPipeline",
      "openfl.pipelines.TensorCodec",
      "openfl.pipelines.STCPipeline ",
    ]) {
      assert.throws(
        () => pipelineFromTemplate(template),
        (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError);
          assert.equal(
            error.message,
            `option 'compression_pipeline.template': expected ${ALL_TEMPLATES}, got ${JSON.stringify(template)}`,
          );
          return true;
        },
      );
    }
  });

  it("reads p_sparsity and n_clusters from the settings of the pipelines that use them", () => {
    const settings = { p_sparsity: 0.25, n_clusters: 3, other: "ignored" };
    const from = (name: string) => pipelineFromTemplate(`openfl.pipelines.${name}`, settings);
    assert.deepEqual(from("STCPipeline"), { kind: "stc", pSparsity: 0.25 });
    assert.deepEqual(from("SKCPipeline"), { kind: "skc", pSparsity: 0.25, nClusters: 3 });
    assert.deepEqual(from("KCPipeline"), { kind: "kc", nClusters: 3 });
    assert.deepEqual(from("NoCompressionPipeline"), { kind: "none" });
    assert.deepEqual(from("RandomShiftPipeline"), { kind: "random-shift" });
    assert.deepEqual(from("EdenPipeline"), { kind: "eden" });
    assert.deepEqual(pipelineFromTemplate("openfl.pipelines.SKCPipeline", {}), { kind: "skc" });
    assert.deepEqual(pipelineFromTemplate("openfl.pipelines.SKCPipeline", { n_clusters: 2 }), {
      kind: "skc",
      nClusters: 2,
    });
  });

  it("refuses settings out of range, naming the plan key", () => {
    assert.throws(
      () => pipelineFromTemplate("openfl.pipelines.STCPipeline", { p_sparsity: 0 }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError);
        assert.equal(
          error.message,
          "option 'compression_pipeline.settings.p_sparsity': expected a number in (0, 1], got number 0",
        );
        return true;
      },
    );
    assert.throws(
      () => pipelineFromTemplate("openfl.pipelines.KCPipeline", { n_clusters: 1.5 }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError);
        assert.equal(
          error.message,
          "option 'compression_pipeline.settings.n_clusters': expected an integer >= 1, got number 1.5",
        );
        return true;
      },
    );
  });
});
