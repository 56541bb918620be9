import { InvalidOptionError, TensorCodecError } from "../errors.js";
import { readFloat32LittleEndian } from "../float32-bytes.js";
import type { MetadataProto, NamedTensor } from "../gen/openfl/protocols/base_pb.js";
import type { Float32Tensor } from "../tensor-codec.js";
import { elementCount, formatShape, sameShape } from "../tensor-shape.js";
import { backwardPipeline, decompressedTags, requireCompressionTag } from "./codec-tags.js";
import { codesToValues, readCodes, tableIsOrderDependent } from "./lossy-codes.js";
import { layoutFound, requireLayout } from "./metadata-layout.js";
import {
  type CompressionPipeline,
  OPENFL_PIPELINE_CLASS,
  type OpenFLPipelineClass,
} from "./pipeline-config.js";
import { undoRandomShift } from "./random-shift.js";

/**
 * Gzip decompression, given by the platform: Node `zlib.gunzipSync`, browsers
 * `DecompressionStream("gzip")`. Must accept concatenated gzip members, as Python's does.
 */
export type Gunzip = (bytes: Uint8Array) => Uint8Array | Promise<Uint8Array>;

export interface DecodeTensorOptions {
  /** The plan's compression pipeline (OpenFL: the pipeline its TensorCodec is built with). */
  readonly pipeline: CompressionPipeline;
  /** Gzip decompression. Required for STC, SKC and KC; unused otherwise. */
  readonly gunzip?: Gunzip;
}

export interface DecodedTensor {
  readonly tensor: Float32Tensor;
  /** The tags OpenFL's receiver stores the tensor under (`lossy_decompressed` after a lossy decode). */
  readonly tags: string[];
  /** The pipeline whose backward decoded it (NoCompressionPipeline for `compressed` tensors of a lossy plan). */
  readonly decodedWith: OpenFLPipelineClass;
  /**
   * True when OpenFL's own receiver may decode different values, depending on the order its
   * protobuf map iterates the code table (see `tableIsOrderDependent`). The values here are
   * always the ones the sender encoded.
   */
  readonly codeTableOrderDependent: boolean;
}

/** What the lossy pipelines' tables decode to, before the tags are known. */
interface Backward {
  readonly tensor: Float32Tensor;
  readonly codeTableOrderDependent: boolean;
}

const NEEDS_GUNZIP = new Set(["stc", "skc", "kc"]);

/**
 * Decodes a NamedTensor as OpenFL's receiver does (TensorCodec.decompress, then
 * TransformationPipeline.backward, which pops one transformer_metadata entry per transformer
 * in reverse). Throws TensorCodecError for a tensor that cannot be decoded, naming it, the
 * layout found and what the pipeline expects; InvalidOptionError when gunzip is missing.
 */
export async function decodeTensor(
  named: NamedTensor,
  options: DecodeTensorOptions,
): Promise<DecodedTensor> {
  const configured = options.pipeline;
  const gunzip = options.gunzip;
  if (NEEDS_GUNZIP.has(configured.kind) && typeof gunzip !== "function") {
    throw new InvalidOptionError(
      "gunzip",
      `a function (bytes) => bytes, needed by ${OPENFL_PIPELINE_CLASS[configured.kind]}`,
      gunzip,
    );
  }
  const where = `tensor '${named.name}'`;
  requireCompressionTag(named.tags, where);
  const pipeline = backwardPipeline(named.tags, configured);
  const decodedWith = OPENFL_PIPELINE_CLASS[pipeline.kind];
  const label =
    pipeline.kind === configured.kind
      ? decodedWith
      : `${decodedWith} (the lossless pipeline of ${OPENFL_PIPELINE_CLASS[configured.kind]}, for tensors tagged 'compressed')`;
  let result: Backward;
  switch (pipeline.kind) {
    case "none":
      result = noCompression(named, where, label);
      break;
    case "random-shift":
      result = randomShift(named, where);
      break;
    case "stc":
    case "skc":
      result = await sparseCodes(named, pipeline.kind, gunzip as Gunzip, where);
      break;
    case "kc":
      result = await kmeansCodes(named, gunzip as Gunzip, where);
      break;
    case "eden":
      throw new TensorCodecError(
        `${where}: EdenPipeline decoding is not supported yet; found ${layoutFound(named)}`,
      );
  }
  return { ...result, tags: decompressedTags(named.tags), decodedWith };
}

function float32Values(named: NamedTensor, shape: readonly number[], where: string): Float32Array {
  const count = elementCount(shape, where);
  const bytes = named.dataBytes;
  if (bytes.byteLength !== count * 4) {
    throw new TensorCodecError(
      `${where}: shape ${formatShape(shape)} needs ${count * 4} bytes of float32, data_bytes has ${bytes.byteLength}`,
    );
  }
  return readFloat32LittleEndian(bytes, count);
}

/** OpenFL: NoCompressionPipeline (Float32NumpyArrayToBytes.backward). */
function noCompression(named: NamedTensor, where: string, label: string): Backward {
  const [entry] = requireLayout(named, "none", where, label) as [MetadataProto];
  const shape = [...entry.intList];
  return {
    tensor: { shape, data: float32Values(named, shape, where) },
    codeTableOrderDependent: false,
  };
}

/** OpenFL: RandomShiftPipeline = [RandomShiftTransformer, Float32NumpyArrayToBytes]. */
function randomShift(named: NamedTensor, where: string): Backward {
  const [shift, bytes] = requireLayout(named, "random-shift", where) as [
    MetadataProto,
    MetadataProto,
  ];
  const shape = [...bytes.intList];
  const values = float32Values(named, shape, where);
  if (!sameShape(shift.intList, shape)) {
    throw new TensorCodecError(
      `${where}: RandomShiftPipeline's entries disagree on the shape (#0 int_list ${formatShape(shift.intList)}, #1 int_list ${formatShape(shape)}); found ${layoutFound(named)}`,
    );
  }
  return {
    tensor: { shape, data: undoRandomShift(values, shift.intToFloat, where) },
    codeTableOrderDependent: false,
  };
}

async function gunzipped(named: NamedTensor, gunzip: Gunzip, where: string): Promise<Uint8Array> {
  try {
    return await gunzip(named.dataBytes);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new TensorCodecError(
      `${where}: data_bytes (${named.dataBytes.byteLength} bytes) do not gunzip: ${why}`,
      { cause },
    );
  }
}

/** OpenFL: STCPipeline / SKCPipeline = [SparsityTransformer, Ternary|KmeansTransformer, GZIPTransformer]. */
async function sparseCodes(
  named: NamedTensor,
  kind: "stc" | "skc",
  gunzip: Gunzip,
  where: string,
): Promise<Backward> {
  const [sparsity, table] = requireLayout(named, kind, where) as [MetadataProto, MetadataProto];
  return tableBackward(named, [...sparsity.intList], table.intToFloat, gunzip, where);
}

/** OpenFL: KCPipeline = [KmeansTransformer, GZIPTransformer]. */
async function kmeansCodes(named: NamedTensor, gunzip: Gunzip, where: string): Promise<Backward> {
  const [kmeans] = requireLayout(named, "kc", where) as [MetadataProto];
  return tableBackward(named, [...kmeans.intList], kmeans.intToFloat, gunzip, where);
}

async function tableBackward(
  named: NamedTensor,
  shape: number[],
  table: MetadataProto["intToFloat"],
  gunzip: Gunzip,
  where: string,
): Promise<Backward> {
  const count = elementCount(shape, where);
  const codes = readCodes(await gunzipped(named, gunzip, where), shape, count, where);
  return {
    tensor: { shape, data: codesToValues(codes, table, where) },
    codeTableOrderDependent: tableIsOrderDependent(table),
  };
}
