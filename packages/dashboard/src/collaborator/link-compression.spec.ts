import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compressionFrom } from "./link-compression.js";

describe("compressionFrom (the link's compressionPipeline, pSparsity, nClusters)", () => {
  it("is NoCompressionPipeline (undefined) when the link names none", () => {
    assert.equal(compressionFrom("?model=softmax"), undefined);
  });

  it("reads OpenFL's class name and the settings its pipeline reads", () => {
    assert.deepEqual(
      compressionFrom("?compressionPipeline=openfl.pipelines.STCPipeline&pSparsity=0.25"),
      {
        kind: "stc",
        pSparsity: 0.25,
      },
    );
    assert.deepEqual(
      compressionFrom(
        "?compressionPipeline=openfl.pipelines.SKCPipeline&pSparsity=0.5&nClusters=4",
      ),
      { kind: "skc", pSparsity: 0.5, nClusters: 4 },
    );
    assert.deepEqual(compressionFrom("?compressionPipeline=openfl.pipelines.RandomShiftPipeline"), {
      kind: "random-shift",
    });
  });

  it("refuses an unknown class, a setting out of range, and a setting without a pipeline, naming the link parameter", () => {
    assert.throws(
      () => compressionFrom("?compressionPipeline=gzip"),
      /the link's compressionPipeline=gzip is not valid: expected one of openfl\.pipelines\.NoCompressionPipeline/,
    );
    assert.throws(
      () => compressionFrom("?compressionPipeline=openfl.pipelines.STCPipeline&pSparsity=2"),
      /the link's pSparsity=2 is not valid: expected a number in \(0, 1\]/,
    );
    assert.throws(
      () => compressionFrom("?compressionPipeline=openfl.pipelines.KCPipeline&nClusters="),
      /the link's nClusters= is not valid: expected an integer >= 1/,
    );
    assert.throws(() => compressionFrom("?pSparsity=0.1"), RangeError);
  });
});
