import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { InvalidOptionError, TensorCodecError } from "../errors.js";
import { float32LittleEndian } from "../float32-bytes.js";
import {
  MetadataProtoSchema,
  type NamedTensor,
  NamedTensorSchema,
} from "../gen/openfl/protocols/base_pb.js";
import {
  COMPRESSED_TAG,
  encodeNamedTensor,
  type Float32Tensor,
  LOSSY_COMPRESSED_TAG,
} from "../tensor-codec.js";
import { elementCount, formatShape } from "../tensor-shape.js";
import { type CodedValues, codeValues } from "./code-table.js";
import { kmeans1d } from "./kmeans-1d.js";
import {
  type CompressionPipeline,
  isLossyPipeline,
  OPENFL_PIPELINE_CLASS,
} from "./pipeline-config.js";
import { clustersOf, sparsityOf } from "./pipeline-settings.js";
import { shiftedValues } from "./random-shift.js";
import { keptCount, sparsify } from "./sparsity.js";
import { ternarize } from "./ternary.js";

/**
 * Gzip compression, given by the platform: Node `zlib.gzipSync`, browsers
 * `CompressionStream("gzip")`. OpenFL's GZIPTransformer uses Python's `gzip.compress`; any
 * valid gzip stream decodes alike.
 */
export type Gzip = (bytes: Uint8Array) => Uint8Array | Promise<Uint8Array>;

export interface EncodeTensorOptions {
  /** Tensor name, e.g. "dense/kernel" (OpenFL: TensorKey.tensor_name). */
  readonly name: string;
  /** OpenFL: TensorKey.round_number. */
  readonly roundNumber: number;
  /**
   * Tags besides the compression tag (added here: `compressed` or `lossy_compressed`), e.g.
   * ["trained"], ["delta", "trained"] or ["metric"]. Sent sorted, without duplicates
   * (OpenFL: change_tags). Default [].
   */
  readonly tags?: readonly string[];
  /** True for metrics the aggregator should report (OpenFL: TensorKey.report). Default false. */
  readonly report?: boolean;
  /** The plan's compression pipeline (OpenFL: the pipeline its TensorCodec is built with). */
  readonly pipeline: CompressionPipeline;
  /**
   * OpenFL: TensorCodec.compress's `require_lossless`. true: under a lossy pipeline the tensor
   * goes through NoCompressionPipeline (tag `compressed`); false: through the plan's pipeline
   * (tag `lossy_compressed` if it is lossy). Under a lossless pipeline (NoCompression,
   * RandomShift) that pipeline is used either way, tag `compressed`. Also the NamedTensor's
   * `lossless` flag, as OpenFL's Collaborator sets it (true for whole tensors, false for the
   * deltas it sends with require_lossless=False). See `shouldSendLossy` for when to pass false.
   */
  readonly requireLossless: boolean;
  /** Gzip compression. Required for STC, SKC and KC unless `requireLossless`; unused otherwise. */
  readonly gzip?: Gzip;
  /**
   * Uniform numbers in [0, 1) for RandomShiftPipeline's shifts. Default Math.random (OpenFL:
   * numpy's global generator). Tests pass a seeded one.
   */
  readonly random?: () => number;
}

const GZIPPED = new Set(["stc", "skc", "kc"]);

type EntryInit = MessageInitShape<typeof MetadataProtoSchema>;

/**
 * Encodes a tensor as OpenFL's sender does (TensorCodec.compress, then the pipeline's
 * TransformationPipeline.forward, then construct_named_tensor): the same transformer_metadata
 * entries in the same order, data_bytes float32 little-endian (gzip of float32 codes for STC,
 * SKC and KC), tags sorted with `compressed` or `lossy_compressed` added.
 *
 * - RandomShiftPipeline: each element x becomes float32(x + s), s = float32 of a uniform draw
 *   in [-20, 20), entries [{int_to_float: i -> s_i, int_list: shape}, {int_list: shape}].
 *   Decoded within float32 rounding: |decoded - x| <= half a float32 step at |x| + 20 (at
 *   most 2^-24 (|x| + 20)) in OpenFL's float64 decode; at most 2^-23 (|x| + 20) once rounded
 *   to float32, as decodeTensor returns it.
 * - STCPipeline: the ceil(n p_sparsity) elements of largest magnitude keep their sign, at the
 *   mean magnitude m over all n elements; the others become 0. As OpenFL: if the smallest kept
 *   value is below 1e-7, 1e-7 is first added to every kept value. Entries [{int_list: shape},
 *   {int_to_float: codes}, {}]. For ties in magnitude the later element is kept.
 * - SKCPipeline: the same sparsification, then k-means of all n values (zeros included);
 *   KCPipeline: k-means of the values; entries [{int_to_float, int_list: shape}, {}]. The
 *   k-means bound (see kmeans1d): every element decodes to a table value nearest to it, each
 *   table value is the float32 mean of the elements coded with it, and a tensor of at most
 *   n_clusters distinct values decodes exactly.
 * - Codes are OpenFL's 0, 1, ... in ascending value order, moved up where a value would equal
 *   another entry's code (see codeValues), so OpenFL's receiver decodes them in any map order.
 *
 * Where OpenFL breaks, decided here: STC and SKC of an empty tensor (OpenFL raises "min() arg
 * is an empty sequence", failing the collaborator's task) are sent through NoCompressionPipeline,
 * tag `compressed` (the `lossless` flag still follows requireLossless): OpenFL's aggregator
 * decodes and applies a `compressed` delta like any other, an empty tensor loses nothing, and
 * every collaborator of ours decides alike for that tensor, so its round can still end (the
 * aggregator averages each tensor under the tags its first finisher sent). KC of an empty tensor
 * works in OpenFL and here. Refused, with TensorCodecError naming the tensor: a shape that does
 * not match the data, NaN or infinite values under a lossy encode (sklearn's KMeans raises on
 * them; STC would send a NaN table), and lossy EdenPipeline (needs torch). InvalidOptionError: a
 * missing gzip, a p_sparsity outside (0, 1], an n_clusters that is not an integer >= 1, a
 * random() outside [0, 1).
 */
export async function encodeTensor(
  tensor: Float32Tensor,
  options: EncodeTensorOptions,
): Promise<NamedTensor> {
  const { pipeline, requireLossless } = options;
  const where = `tensor '${options.name}'`;
  const lossy = isLossyPipeline(pipeline) && !requireLossless;
  if (lossy && GZIPPED.has(pipeline.kind) && typeof options.gzip !== "function") {
    throw new InvalidOptionError(
      "gzip",
      `a function (bytes) => bytes, needed by ${OPENFL_PIPELINE_CLASS[pipeline.kind]}`,
      options.gzip,
    );
  }
  const count = elementCount(tensor.shape, where);
  if (tensor.data.length !== count) {
    throw new TensorCodecError(
      `${where}: shape ${formatShape(tensor.shape)} holds ${count} values, data has ${tensor.data.length}`,
    );
  }
  if (pipeline.kind === "random-shift") return randomShift(tensor, options);
  if (!lossy) return noCompression(tensor, options);
  const gzip = options.gzip as Gzip;
  switch (pipeline.kind) {
    case "stc":
    case "skc": {
      if (count === 0) return noCompression(tensor, options);
      requireFinite(tensor.data, pipeline.kind, where);
      const kept = keptCount(count, sparsityOf(pipeline));
      const sparse = sparsify(tensor.data, kept);
      const quantized =
        pipeline.kind === "stc" ? ternarize(sparse) : kmeans1d(sparse, clustersOf(pipeline));
      const coded = codeValues(quantized);
      return lossyTensor(
        [{ intList: [...tensor.shape] }, { intToFloat: coded.table }, {}],
        coded,
        gzip,
        options,
      );
    }
    case "kc": {
      requireFinite(tensor.data, pipeline.kind, where);
      const coded = codeValues(kmeans1d(tensor.data, clustersOf(pipeline)));
      return lossyTensor(
        [{ intToFloat: coded.table, intList: [...tensor.shape] }, {}],
        coded,
        gzip,
        options,
      );
    }
    default:
      throw new TensorCodecError(
        `${where}: EdenPipeline encoding is not supported (it needs torch); only tensors sent with requireLossless: true can be encoded`,
      );
  }
}

/** OpenFL: change_tags(tags, add_field=tag): without duplicates, sorted. */
function withTag(tags: readonly string[] | undefined, tag: string): string[] {
  return [...new Set([...(tags ?? []), tag])].sort();
}

function namedTensor(
  options: EncodeTensorOptions,
  tag: string,
  entries: readonly EntryInit[],
  dataBytes: Uint8Array,
): NamedTensor {
  return create(NamedTensorSchema, {
    name: options.name,
    roundNumber: options.roundNumber,
    lossless: options.requireLossless,
    report: options.report ?? false,
    tags: withTag(options.tags, tag),
    transformerMetadata: entries.map((entry) => create(MetadataProtoSchema, entry)),
    dataBytes,
  });
}

/** OpenFL: NoCompressionPipeline, the lossless pipeline of a lossy plan (encodeNamedTensor). */
function noCompression(tensor: Float32Tensor, options: EncodeTensorOptions): NamedTensor {
  return encodeNamedTensor(tensor, {
    name: options.name,
    roundNumber: options.roundNumber,
    tags: options.tags ?? [],
    report: options.report ?? false,
    lossless: options.requireLossless,
  });
}

/** OpenFL: RandomShiftPipeline = [RandomShiftTransformer, Float32NumpyArrayToBytes]. */
function randomShift(tensor: Float32Tensor, options: EncodeTensorOptions): NamedTensor {
  const { values, shifts } = shiftedValues(tensor.data, options.random ?? Math.random);
  const intToFloat: { [index: number]: number } = {};
  shifts.forEach((shift, i) => {
    intToFloat[i] = shift;
  });
  const shape = [...tensor.shape];
  return namedTensor(
    options,
    COMPRESSED_TAG,
    [{ intToFloat, intList: shape }, { intList: shape }],
    float32LittleEndian(values),
  );
}

function requireFinite(data: Float32Array, kind: "stc" | "skc" | "kc", where: string): void {
  const i = data.findIndex((value) => !Number.isFinite(value));
  if (i >= 0) {
    throw new TensorCodecError(
      `${where}: ${OPENFL_PIPELINE_CLASS[kind]} cannot encode element ${i} (${data[i]}): its codes need finite values`,
    );
  }
}

/** The last transformer of STC, SKC and KC: OpenFL's GZIPTransformer.forward. */
async function lossyTensor(
  entries: readonly EntryInit[],
  coded: CodedValues,
  gzip: Gzip,
  options: EncodeTensorOptions,
): Promise<NamedTensor> {
  const bytes = float32LittleEndian(coded.codes);
  let gzipped: Uint8Array;
  try {
    gzipped = await gzip(bytes);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new TensorCodecError(
      `tensor '${options.name}': gzip of ${bytes.byteLength} bytes of codes failed: ${why}`,
      { cause },
    );
  }
  return namedTensor(options, LOSSY_COMPRESSED_TAG, entries, gzipped);
}
