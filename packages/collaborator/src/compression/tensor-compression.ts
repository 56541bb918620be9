import type { CompressionPipeline, Gunzip, Gzip } from "@openfl-connect/core";
import { streamGunzip, streamGzip } from "./stream-gzip.js";

/**
 * How this collaborator's tensors travel: the plan's compression pipeline (OpenFL:
 * `compression_pipeline`) and the gzip its lossy pipelines need. Passed as it is to core's
 * decodeTensor and encodeTensor.
 */
export interface TensorCompression {
  readonly pipeline: CompressionPipeline;
  readonly gzip: Gzip;
  readonly gunzip: Gunzip;
  /** RandomShiftPipeline's uniform numbers in [0, 1). Default Math.random (tests seed it). */
  readonly random?: () => number;
}

export interface TensorCompressionOptions {
  /** Default NoCompressionPipeline, OpenFL's default. */
  readonly pipeline?: CompressionPipeline;
  /** Default: the platform's CompressionStream (Node and browsers alike). */
  readonly gzip?: Gzip;
  /** Default: the platform's DecompressionStream. */
  readonly gunzip?: Gunzip;
  readonly random?: () => number;
}

/** The options with their defaults filled in. */
export function tensorCompression(options: TensorCompressionOptions = {}): TensorCompression {
  return {
    pipeline: options.pipeline ?? { kind: "none" },
    gzip: options.gzip ?? streamGzip,
    gunzip: options.gunzip ?? streamGunzip,
    random: options.random,
  };
}
