// Answers get_aggregated_tensor from the tensor store as OpenFL's aggregator does: tags as a
// set, another collaborator's tensors withheld, ("aggregated", "delta") computed on request.
import { create } from "@bufbuild/protobuf";
import {
  COMPRESSED_TAG,
  encodeNamedTensor,
  type Float32Tensor,
  generateDelta,
  type NamedTensor,
} from "@openfl-connect/core";
import { NamedTensorSchema } from "@openfl-connect/core/protocol";
import { AggregatorStateError } from "./aggregator-state-error.js";
import { normaliseTags, tensorKeyRepr } from "./tensor-key.js";
import type { TensorStore } from "./tensor-store.js";

export interface TensorRequest {
  readonly tensorName: string;
  readonly roundNumber: number;
  readonly report: boolean;
  readonly tags: readonly string[];
  readonly requireLossless: boolean;
  readonly requestedBy: string;
}

export interface TensorRequestContext {
  readonly store: TensorStore;
  /** OpenFL: aggregator_uuid, the origin of the TensorKeys that errors name. */
  readonly origin: string;
  readonly authorizedCollaborators: readonly string[];
  /** How long to wait for a tensor that is not stored yet, in ms. */
  readonly waitMs: number;
}

/**
 * OpenFL: get_aggregated_tensor(...). Waits up to `waitMs` for a tensor that is not there yet
 * (e.g. the next round's model), then fails. A tag naming another authorised collaborator
 * yields an empty NamedTensor.
 */
export async function answerTensorRequest(
  request: TensorRequest,
  { store, origin, authorizedCollaborators, waitMs }: TensorRequestContext,
  signal?: AbortSignal,
): Promise<NamedTensor> {
  const tags = normaliseTags(request.tags);
  if (tags.some((t) => authorizedCollaborators.includes(t) && t !== request.requestedBy)) {
    return create(NamedTensorSchema);
  }
  // OpenFL: a request for ("aggregated", "delta") of round r >= 1 is answered from the
  // aggregated tensor of round r, as its difference from the round r - 1 model.
  const delta = isAggregatedDelta(tags) && request.roundNumber !== 0;
  const key = {
    name: request.tensorName,
    round: request.roundNumber,
    report: request.report,
    tags: delta ? ["aggregated"] : tags,
  };
  const stored = store.get(key) ?? (await store.waitFor(key, waitMs, signal));
  if (stored === undefined) {
    throw new AggregatorStateError(
      `Aggregator does not have an aggregated tensor for ${tensorKeyRepr(origin, request.tensorName, request.roundNumber, request.report, tags)}`,
    );
  }
  if (delta) return aggregatedDelta(request, stored, store);
  // Stored tensors are never modified (a new round stores new ones), so data_bytes can be a
  // view of the stored data: the response is serialised from it, no extra copy of the tensor.
  const named = encodeNamedTensor(stored, {
    name: request.tensorName,
    roundNumber: request.roundNumber,
    tags,
    report: request.report,
    zeroCopy: true,
  });
  named.tags = [...new Set(named.tags)].sort();
  return named;
}

/** The aggregated tensor of a round minus the previous round's model, as OpenFL sends it. */
function aggregatedDelta(
  request: TensorRequest,
  aggregated: Float32Tensor,
  store: TensorStore,
): NamedTensor {
  const base = store.get({
    name: request.tensorName,
    round: request.roundNumber - 1,
    report: request.report,
    tags: ["model"],
  });
  if (base === undefined) {
    throw new AggregatorStateError(
      `The original model layer should be present if the latest aggregated model is present (${request.tensorName}, round ${request.roundNumber - 1})`,
    );
  }
  return encodeNamedTensor(
    { shape: aggregated.shape, data: generateDelta(aggregated, base, request.tensorName) },
    {
      name: request.tensorName,
      roundNumber: request.roundNumber,
      tags: ["aggregated", "delta"],
      report: request.report,
      lossless: request.requireLossless || request.tags.includes(COMPRESSED_TAG),
    },
  );
}

function isAggregatedDelta(tags: readonly string[]): boolean {
  return tags.length === 2 && tags[0] === "aggregated" && tags[1] === "delta";
}
