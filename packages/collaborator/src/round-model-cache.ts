import {
  AggregatorCallError,
  applyDelta,
  type CompressionPipeline,
  type DecodedTensor,
  decodeTensor,
  type Float32Tensor,
  isLossyPipeline,
  type NamedTensor,
} from "@openfl-connect/core";
import { type TensorCompression, tensorCompression } from "./compression/tensor-compression.js";

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

/**
 * The tags OpenFL's collaborator asks for when it can rebuild a model tensor from a delta
 * (TensorCodec.find_dependencies): ("aggregated", "delta", "lossy_compressed") under a lossy
 * pipeline, ("aggregated", "delta", "compressed") otherwise.
 */
export function aggregatedDeltaTags(pipeline: CompressionPipeline): readonly string[] {
  return ["aggregated", "delta", isLossyPipeline(pipeline) ? "lossy_compressed" : "compressed"];
}

export interface RoundModelCacheOptions {
  readonly useDeltaUpdates: boolean;
  /** The plan's pipeline and gzip. Default NoCompressionPipeline. */
  readonly compression?: TensorCompression;
}

/**
 * The round's model on this collaborator, as OpenFL's Collaborator keeps it in its TensorDB:
 * each tensor is fetched once per round, however many tasks need it. With delta updates, a
 * tensor whose previous-round value is held is rebuilt from the aggregated delta (OpenFL:
 * TensorCodec.find_dependencies + apply_delta); otherwise the whole tensor is fetched lossless.
 * Every answer is decoded with the plan's pipeline (core's decodeTensor). Keeps the current and
 * the previous round only (OpenFL's db_store_rounds=1 plus the base).
 */
export class RoundModelCache {
  readonly #fetch: FetchTensor;
  readonly #useDeltaUpdates: boolean;
  readonly #compression: TensorCompression;
  /**
   * round -> tensor name -> the tensor (never handed out; callers get copies or read-only use)
   * and whether it was fetched whole (lossless) that round rather than rebuilt from a delta.
   */
  readonly #rounds = new Map<number, Map<string, HeldTensor>>();

  constructor(fetch: FetchTensor, options: RoundModelCacheOptions) {
    this.#fetch = fetch;
    this.#useDeltaUpdates = options.useDeltaUpdates;
    this.#compression = options.compression ?? tensorCompression();
  }

  /** A copy of model tensor `name` for `round`, fetched (or rebuilt from a delta) on first use. */
  async tensor(name: string, round: number): Promise<Float32Tensor> {
    const held = this.held(name, round) ?? (await this.#load(name, round));
    return { shape: [...held.shape], data: Float32Array.from(held.data) };
  }

  /** The held tensor, not a copy: do not modify it. */
  held(name: string, round: number): Float32Tensor | undefined {
    return this.#rounds.get(round)?.get(name)?.tensor;
  }

  /**
   * The held tensor when it was fetched whole this round, not rebuilt from a delta: what
   * OpenFL's collaborator finds under `TensorKey(name, collaborator, round, False, ("model",))`
   * and makes an upload's delta from (see core's shouldSendLossy). Not a copy.
   */
  wholeModel(name: string, round: number): Float32Tensor | undefined {
    const held = this.#rounds.get(round)?.get(name);
    return held?.whole === true ? held.tensor : undefined;
  }

  async #load(name: string, round: number): Promise<Float32Tensor> {
    const previous = this.held(name, round - 1);
    const delta =
      this.#useDeltaUpdates && round >= 1 && previous !== undefined
        ? await this.#fetch(name, round, {
            tags: aggregatedDeltaTags(this.#compression.pipeline),
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
    let tensor: Float32Tensor;
    let whole = false;
    if (delta !== undefined && previous !== undefined) {
      tensor = fromDeltaOrWhole(await this.#decoded(delta, name, round), name, round, previous);
    } else {
      const named = await this.#fetch(name, round, { tags: ["model"], requireLossless: true });
      tensor = (await this.#decoded(named, name, round)).tensor;
      whole = true;
    }
    this.#store(name, round, tensor, whole);
    return tensor;
  }

  async #decoded(named: NamedTensor, name: string, round: number): Promise<DecodedTensor> {
    if (named.name !== name) {
      throw new ModelTensorError(
        `asked the aggregator for model tensor '${name}' of round ${round}, got '${named.name || "(empty tensor)"}'`,
      );
    }
    return decodeTensor(named, this.#compression);
  }

  #store(name: string, round: number, tensor: Float32Tensor, whole: boolean): void {
    let tensors = this.#rounds.get(round);
    if (tensors === undefined) {
      tensors = new Map();
      this.#rounds.set(round, tensors);
    }
    tensors.set(name, { tensor, whole });
    for (const r of this.#rounds.keys()) {
      if (r < round - 1 || r > round) this.#rounds.delete(r);
    }
  }
}

interface HeldTensor {
  readonly tensor: Float32Tensor;
  readonly whole: boolean;
}

/** previous + delta when the answer is a delta (tagged "delta"); the answer itself otherwise. */
function fromDeltaOrWhole(
  decoded: DecodedTensor,
  name: string,
  round: number,
  previous: Float32Tensor,
): Float32Tensor {
  const { tensor } = decoded;
  if (!decoded.tags.includes("delta")) return tensor;
  if (tensor.data.length !== previous.data.length) {
    throw new ModelTensorError(
      `delta of model tensor '${name}' for round ${round} has shape [${tensor.shape.join(", ")}], the round ${round - 1} model has [${previous.shape.join(", ")}]`,
    );
  }
  return { shape: [...previous.shape], data: applyDelta(previous, tensor, name) };
}
