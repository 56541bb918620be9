import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TensorCodecError } from "../errors.js";
import {
  backwardPipeline,
  decompressedTags,
  LOSSY_DECOMPRESSED_TAG,
  requireCompressionTag,
} from "./codec-tags.js";
import type { CompressionPipeline } from "./pipeline-config.js";

describe("TensorCodec tag rules", () => {
  it("accepts a tensor tagged compressed or lossy_compressed", () => {
    requireCompressionTag(["compressed"], "t");
    requireCompressionTag(["lossy_compressed", "trained"], "t");
  });

  it("refuses a tensor tagged neither way", () => {
    assert.throws(
      () => requireCompressionTag(["trained", "delta"], "tensor 'w'"),
      new TensorCodecError(
        "tensor 'w': tags [trained, delta] have neither 'compressed' nor 'lossy_compressed' (OpenFL's TensorCodec cannot decompress an uncompressed tensor)",
      ),
    );
    assert.throws(
      () => requireCompressionTag([], "tensor 'w'"),
      new TensorCodecError(
        "tensor 'w': tags [] have neither 'compressed' nor 'lossy_compressed' (OpenFL's TensorCodec cannot decompress an uncompressed tensor)",
      ),
    );
  });

  it("decodes compressed tensors of a lossy plan with NoCompression", () => {
    for (const kind of ["stc", "skc", "kc", "eden"] as const) {
      assert.deepEqual(backwardPipeline(["compressed"], { kind }), { kind: "none" });
      assert.deepEqual(backwardPipeline(["compressed", "lossy_compressed"], { kind }), {
        kind: "none",
      });
    }
  });

  it("decodes lossy_compressed tensors with the plan's pipeline", () => {
    for (const kind of ["stc", "skc", "kc", "eden", "none", "random-shift"] as const) {
      const pipeline: CompressionPipeline = { kind };
      assert.equal(backwardPipeline(["lossy_compressed"], pipeline), pipeline);
    }
  });

  it("decodes everything with a lossless plan's own pipeline", () => {
    for (const kind of ["none", "random-shift"] as const) {
      const pipeline: CompressionPipeline = { kind };
      assert.equal(backwardPipeline(["compressed"], pipeline), pipeline);
      assert.equal(backwardPipeline(["lossy_compressed"], pipeline), pipeline);
    }
  });

  it("turns lossy_compressed into lossy_decompressed, sorted", () => {
    assert.equal(LOSSY_DECOMPRESSED_TAG, "lossy_decompressed");
    assert.deepEqual(decompressedTags(["trained", "lossy_compressed", "delta"]), [
      "delta",
      "lossy_decompressed",
      "trained",
    ]);
  });

  it("removes compressed, dropping duplicates and sorting", () => {
    assert.deepEqual(decompressedTags(["trained", "compressed", "model", "trained"]), [
      "model",
      "trained",
    ]);
    assert.deepEqual(decompressedTags(["compressed"]), []);
  });

  it("keeps compressed when both tags are present (only the lossy one changes, as in OpenFL)", () => {
    assert.deepEqual(decompressedTags(["lossy_compressed", "compressed", "a"]), [
      "a",
      "compressed",
      "lossy_decompressed",
    ]);
  });
});
