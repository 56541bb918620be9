import { create } from "@bufbuild/protobuf";
import { TensorCodecError } from "./errors.js";
import { float32LittleEndian, readFloat32LittleEndian } from "./float32-bytes.js";
import {
  MetadataProtoSchema,
  type NamedTensor,
  NamedTensorSchema,
} from "./gen/openfl/protocols/base_pb.js";
import { elementCount, formatShape } from "./tensor-shape.js";

/** Tag OpenFL's sender adds to a losslessly encoded tensor; the receiver removes it. */
export const COMPRESSED_TAG = "compressed";
export const LOSSY_COMPRESSED_TAG = "lossy_compressed";

/** A dense float32 tensor in row-major (C) order. A scalar has shape []. */
export interface Float32Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface EncodeOptions {
  /** Tensor name, e.g. "conv1.weight". */
  readonly name: string;
  readonly roundNumber: number;
  /** Tags besides "compressed" (added here), e.g. ["trained"] or ["metric"]. */
  readonly tags?: readonly string[];
  /** True for metrics the aggregator should report. Default false. */
  readonly report?: boolean;
  /**
   * The NamedTensor's `lossless` flag. Default true. OpenFL's collaborator sends false for a
   * trained delta (its pipeline may compress deltas lossily) and true for everything else.
   */
  readonly lossless?: boolean;
  /**
   * Share memory instead of copying: when `data` is a Float32Array and the platform is
   * little-endian, data_bytes becomes a view of it, saving one copy of the tensor. Then
   * `data` must not change until the upload is acknowledged. Default false (copy).
   */
  readonly zeroCopy?: boolean;
}

/**
 * Encodes like OpenFL's default NoCompressionPipeline: float32 little-endian, C order,
 * one MetadataProto whose int_list is the shape, lossless, tags sorted with "compressed" added.
 * Accepts any numeric array-like; values are cast to float32 (as numpy's astype).
 */
export function encodeNamedTensor(
  tensor: { readonly shape: readonly number[]; readonly data: ArrayLike<number> },
  options: EncodeOptions,
): NamedTensor {
  const count = elementCount(tensor.shape, `tensor '${options.name}'`);
  if (tensor.data.length !== count) {
    throw new TensorCodecError(
      `tensor '${options.name}': shape ${formatShape(tensor.shape)} holds ${count} values, data has ${tensor.data.length}`,
    );
  }
  const bytes = float32LittleEndian(tensor.data, undefined, options.zeroCopy ?? false);
  // OpenFL's pipeline adds "compressed" and sends the tags sorted, e.g. ["compressed", "trained"].
  const tags = [...new Set([...(options.tags ?? []), COMPRESSED_TAG])].sort();
  return create(NamedTensorSchema, {
    name: options.name,
    roundNumber: options.roundNumber,
    lossless: options.lossless ?? true,
    report: options.report ?? false,
    tags,
    transformerMetadata: [create(MetadataProtoSchema, { intList: [...tensor.shape] })],
    dataBytes: bytes,
  });
}

/**
 * Decodes a NamedTensor made by OpenFL's default pipeline. The bytes are little-endian:
 * copied as they are on little-endian platforms, read through a DataView elsewhere.
 */
export function decodeNamedTensor(named: NamedTensor): Float32Tensor {
  const where = `tensor '${named.name}'`;
  if (named.transformerMetadata.length !== 1) {
    throw new TensorCodecError(
      `${where}: expected exactly 1 transformer_metadata entry (NoCompressionPipeline), got ${named.transformerMetadata.length}`,
    );
  }
  if (named.tags.includes(LOSSY_COMPRESSED_TAG)) {
    throw new TensorCodecError(
      `${where}: lossy_compressed tensors need a lossy pipeline, not supported`,
    );
  }
  const shape = [...(named.transformerMetadata[0]?.intList ?? [])];
  const count = elementCount(shape, where);
  const bytes = named.dataBytes;
  if (bytes.byteLength !== count * 4) {
    throw new TensorCodecError(
      `${where}: shape ${formatShape(shape)} needs ${count * 4} bytes of float32, data_bytes has ${bytes.byteLength}`,
    );
  }
  return { shape, data: readFloat32LittleEndian(bytes, count) };
}

/** The tags a receiver keeps: without "compressed", sorted (as OpenFL's receiver does). */
export function receivedTags(named: NamedTensor): string[] {
  return named.tags.filter((t) => t !== COMPRESSED_TAG && t !== LOSSY_COMPRESSED_TAG).sort();
}
