import { TensorCodecError } from "../errors.js";
import { COMPRESSED_TAG, LOSSY_COMPRESSED_TAG } from "../tensor-codec.js";
import { type CompressionPipeline, isLossyPipeline } from "./pipeline-config.js";

/** Tag OpenFL's receiver adds to what it stores after decoding a `lossy_compressed` tensor. */
export const LOSSY_DECOMPRESSED_TAG = "lossy_decompressed";

/** OpenFL's TensorCodec.decompress refuses a tensor tagged neither way ("Cannot decompress an uncompressed tensor"). */
export function requireCompressionTag(tags: readonly string[], where: string): void {
  if (!tags.includes(COMPRESSED_TAG) && !tags.includes(LOSSY_COMPRESSED_TAG)) {
    throw new TensorCodecError(
      `${where}: tags [${tags.join(", ")}] have neither '${COMPRESSED_TAG}' nor '${LOSSY_COMPRESSED_TAG}' (OpenFL's TensorCodec cannot decompress an uncompressed tensor)`,
    );
  }
}

/**
 * The pipeline whose backward decodes a tensor (OpenFL: TensorCodec.decompress). A tensor
 * tagged `compressed` uses the lossless pipeline: NoCompression under a lossy plan, the plan's
 * own pipeline otherwise; any other tensor uses the plan's pipeline. `compressed` decides even
 * when `lossy_compressed` is also present.
 */
export function backwardPipeline(
  tags: readonly string[],
  pipeline: CompressionPipeline,
): CompressionPipeline {
  return tags.includes(COMPRESSED_TAG) && isLossyPipeline(pipeline) ? { kind: "none" } : pipeline;
}

/**
 * The tags OpenFL's receiver stores the decoded tensor under (TensorCodec.decompress, via
 * change_tags: duplicates dropped, sorted): `lossy_compressed` becomes `lossy_decompressed`;
 * otherwise `compressed` is removed. With both tags present only the lossy one changes.
 */
export function decompressedTags(tags: readonly string[]): string[] {
  const kept = new Set(tags);
  if (kept.has(LOSSY_COMPRESSED_TAG)) {
    kept.delete(LOSSY_COMPRESSED_TAG);
    kept.add(LOSSY_DECOMPRESSED_TAG);
  } else {
    kept.delete(COMPRESSED_TAG);
  }
  return [...kept].sort();
}
