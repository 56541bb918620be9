import {
  AggregatorCallError,
  applyDelta,
  decodeNamedTensor,
  type Float32Tensor,
  type NamedTensor,
  receivedTags,
} from "@openfl-connect/core";

/** How the cache asks the aggregator for a tensor (OpenFL: get_aggregated_tensor). */
export type FetchTensor = (
  name: string,
  round: number,
  request: { readonly tags: readonly string[]; readonly requireLossless: boolean },
) => Promise<NamedTensor>;

/** The aggregator answered a model request with something that cannot be the model. */
export class ModelTensorError extends Error {
  override name = "ModelTensorError";
}

/** Tags OpenFL's collaborator asks for when it can rebuild a model tensor from a delta. */
export const AGGREGATED_DELTA_TAGS = ["aggregated", "delta", "compressed"] as const;

/**
 * The round's model on this collaborator, as OpenFL's Collaborator keeps it in its TensorDB:
 * each tensor is fetched once per round, however many tasks need it. With delta updates, a
 * tensor whose previous-round value is held is rebuilt from the aggregated delta (OpenFL:
 * TensorCodec.find_dependencies + apply_delta); otherwise the whole tensor is fetched lossless.
 * Keeps the current and the previous round only (OpenFL's db_store_rounds=1 plus the base).
 */
export class RoundModelCache {
  readonly #fetch: FetchTensor;
  readonly #useDeltaUpdates: boolean;
  /** round -> tensor name -> tensor (never handed out; callers get copies or read-only use). */
  readonly #rounds = new Map<number, Map<string, Float32Tensor>>();

  constructor(fetch: FetchTensor, options: { readonly useDeltaUpdates: boolean }) {
    this.#fetch = fetch;
    this.#useDeltaUpdates = options.useDeltaUpdates;
  }

  /** A copy of model tensor `name` for `round`, fetched (or rebuilt from a delta) on first use. */
  async tensor(name: string, round: number): Promise<Float32Tensor> {
    const held = this.held(name, round) ?? (await this.#load(name, round));
    return { shape: [...held.shape], data: Float32Array.from(held.data) };
  }

  /** The held tensor, not a copy: do not modify it. Used as the base of an upload delta. */
  held(name: string, round: number): Float32Tensor | undefined {
    return this.#rounds.get(round)?.get(name);
  }

  async #load(name: string, round: number): Promise<Float32Tensor> {
    const previous = this.held(name, round - 1);
    let tensor: Float32Tensor;
    const delta =
      this.#useDeltaUpdates && round >= 1 && previous !== undefined
        ? await this.#fetch(name, round, {
            tags: AGGREGATED_DELTA_TAGS,
            requireLossless: false,
          }).catch((error: unknown) => {
            // An aggregator that no longer holds the delta's base round (OpenFL with
            // db_store_rounds 1) fails the request; the whole tensor is still there.
            if (error instanceof AggregatorCallError && error.isServerException) {
              return undefined;
            }
            throw error;
          })
        : undefined;
    if (delta !== undefined && previous !== undefined) {
      tensor = fromDeltaOrWhole(delta, name, round, previous);
    } else {
      const named = await this.#fetch(name, round, { tags: ["model"], requireLossless: true });
      tensor = checked(named, name, round);
    }
    this.#store(name, round, tensor);
    return tensor;
  }

  #store(name: string, round: number, tensor: Float32Tensor): void {
    let tensors = this.#rounds.get(round);
    if (tensors === undefined) {
      tensors = new Map();
      this.#rounds.set(round, tensors);
    }
    tensors.set(name, tensor);
    for (const r of this.#rounds.keys()) {
      if (r < round - 1 || r > round) this.#rounds.delete(r);
    }
  }
}

function checked(named: NamedTensor, name: string, round: number): Float32Tensor {
  if (named.name !== name) {
    throw new ModelTensorError(
      `asked the aggregator for model tensor '${name}' of round ${round}, got '${named.name || "(empty tensor)"}'`,
    );
  }
  return decodeNamedTensor(named);
}

/** previous + delta when the answer is a delta (tagged "delta"); the answer itself otherwise. */
function fromDeltaOrWhole(
  named: NamedTensor,
  name: string,
  round: number,
  previous: Float32Tensor,
): Float32Tensor {
  const decoded = checked(named, name, round);
  if (!receivedTags(named).includes("delta")) return decoded;
  if (decoded.data.length !== previous.data.length) {
    throw new ModelTensorError(
      `delta of model tensor '${name}' for round ${round} has shape [${decoded.shape.join(", ")}], the round ${round - 1} model has [${previous.shape.join(", ")}]`,
    );
  }
  return { shape: [...previous.shape], data: applyDelta(previous, decoded, name) };
}
