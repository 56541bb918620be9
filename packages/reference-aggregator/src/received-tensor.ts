// An uploaded NamedTensor decoded into what the aggregator keeps of it, refusing what OpenFL's
// aggregator could not decompress, and rebuilding a delta against the round's model.
import {
  applyDelta,
  COMPRESSED_TAG,
  decodeNamedTensor,
  type Float32Tensor,
  LOSSY_COMPRESSED_TAG,
  type NamedTensor,
} from "@openfl-connect/core";
import { AggregatorStateError } from "./aggregator-state-error.js";
import type { AggregatorLogger } from "./logger.js";
import { normaliseTags, tensorKeyRepr } from "./tensor-key.js";
import { withSha256 } from "./tensor-sha256.js";
import type { TensorStore } from "./tensor-store.js";

/** One tensor of a received TaskResults, decoded. */
export interface ReceivedTensor {
  readonly name: string;
  readonly roundNumber: number;
  readonly report: boolean;
  /** Tags as the receiver keeps them: without "compressed", sorted. */
  readonly tags: readonly string[];
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /**
   * Hex SHA-256 of the tensor's data_bytes as received. Computed on first read (an upload
   * does not wait for it), from `data`'s bytes where those equal data_bytes (little-endian
   * platforms): do not modify `data`.
   */
  readonly sha256: string;
}

export interface DecodeContext {
  /** OpenFL: aggregator_uuid, the origin of the TensorKeys that errors name. */
  readonly origin: string;
  /** Holds the round's model, which a delta is added to. */
  readonly store: TensorStore;
  readonly log: AggregatorLogger;
}

/** Decodes one tensor of the TaskResults of round `round`; throws AggregatorStateError. */
export function decodeReceived(
  named: NamedTensor,
  round: number,
  { origin, store, log }: DecodeContext,
): ReceivedTensor {
  const repr = () => tensorKeyRepr(origin, named.name, named.roundNumber, named.report, named.tags);
  if (!named.tags.includes(COMPRESSED_TAG) && !named.tags.includes(LOSSY_COMPRESSED_TAG)) {
    throw new AggregatorStateError(`Named tensor ${repr()} is not compressed`);
  }
  if (named.transformerMetadata.length === 0) {
    throw new AggregatorStateError(`Named tensor ${repr()} has no transformer_metadata`);
  }
  let decoded: Float32Tensor;
  try {
    decoded = decodeNamedTensor(named);
  } catch (error) {
    throw new AggregatorStateError(
      `Could not decompress ${repr()}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (named.roundNumber !== round) {
    log("warn", "tensor round differs from the results' round", {
      tensor: named.name,
      tensorRound: named.roundNumber,
      round,
    });
  }
  const tags = normaliseTags(named.tags);
  const tensor = {
    name: named.name,
    roundNumber: named.roundNumber,
    report: named.report,
    tags,
    shape: decoded.shape,
    data: decoded.data,
  };
  if (!tags.includes("delta")) return withSha256(tensor, named.dataBytes);
  // OpenFL: a delta is added to the round's model and kept as the tensor it rebuilds.
  const base = store.get({
    name: named.name,
    round: named.roundNumber,
    report: named.report,
    tags: ["model"],
  });
  if (base === undefined || base.data.length !== decoded.data.length) {
    throw new AggregatorStateError(
      `Base model ${tensorKeyRepr(origin, named.name, named.roundNumber, named.report, ["model"])} not present in TensorDB`,
    );
  }
  const data = applyDelta(base, decoded, named.name);
  return withSha256({ ...tensor, tags: tags.filter((t) => t !== "delta"), data }, undefined);
}
