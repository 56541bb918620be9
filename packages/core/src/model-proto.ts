// OpenFL's model file (`save/init.pbuf`, best.pbuf, last.pbuf): a serialized ModelProto, as
// openfl.protocols.utils.construct_model_proto writes it and deconstruct_model_proto reads it.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { TensorCodecError } from "./errors.js";
import { ModelProtoSchema } from "./gen/openfl/protocols/base_pb.js";
import { decodeNamedTensor, encodeNamedTensor, type Float32Tensor } from "./tensor-codec.js";

/** A model file's tensors by name, and the round they belong to. */
export interface ModelFile {
  readonly roundNumber: number;
  readonly tensors: Readonly<Record<string, Float32Tensor>>;
}

/**
 * The bytes of a ModelProto holding `tensors` in NoCompressionPipeline encoding, each tagged
 * ["model"], lossless, not reported, at `roundNumber` (0 for an initial model): what
 * construct_model_proto writes (its tensor keys carry ("model",) and no "compressed" tag).
 */
export function encodeModelFile(
  tensors: Readonly<Record<string, Float32Tensor>>,
  roundNumber = 0,
): Uint8Array {
  const named = Object.entries(tensors).map(([name, tensor]) => {
    const t = encodeNamedTensor(tensor, { name, roundNumber });
    t.tags = ["model"];
    return t;
  });
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, { tensors: named }));
}

/**
 * Reads a model file written by OpenFL (`fx plan initialize`, the aggregator's best/last state)
 * or by encodeModelFile. `where` names the file in errors. Throws TensorCodecError for bytes that
 * are not a ModelProto, a tensor named twice, rounds that disagree (OpenFL asserts the same) or a
 * tensor that is not NoCompressionPipeline float32.
 */
export function decodeModelFile(bytes: Uint8Array, where = "model file"): ModelFile {
  let proto: ReturnType<typeof fromBinary<typeof ModelProtoSchema>>;
  try {
    proto = fromBinary(ModelProtoSchema, bytes);
  } catch (error) {
    throw new TensorCodecError(
      `${where}: not a ModelProto (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const tensors: Record<string, Float32Tensor> = {};
  let roundNumber: number | undefined;
  for (const named of proto.tensors) {
    if (Object.hasOwn(tensors, named.name)) {
      throw new TensorCodecError(`${where}: tensor '${named.name}' appears twice`);
    }
    if (roundNumber !== undefined && named.roundNumber !== roundNumber) {
      throw new TensorCodecError(
        `${where}: tensor '${named.name}' is of round ${named.roundNumber}, the file's earlier tensors of round ${roundNumber}`,
      );
    }
    roundNumber = named.roundNumber;
    try {
      tensors[named.name] = decodeNamedTensor(named);
    } catch (error) {
      throw new TensorCodecError(`${where}: ${(error as Error).message}`, { cause: error });
    }
  }
  return { roundNumber: roundNumber ?? 0, tensors };
}
