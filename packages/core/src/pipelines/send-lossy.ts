/** What decides how OpenFL's Collaborator sends one result tensor. */
export interface SendLossyInput {
  /** The result's tags before compression, e.g. ["trained"] or ["metric"]. */
  readonly tags: readonly string[];
  /** OpenFL: collaborator.settings.use_delta_updates (plan default true; keras templates false). */
  readonly useDeltaUpdates: boolean;
  /**
   * Whether the collaborator holds this round's whole model tensor of the same name, as OpenFL
   * looks it up: `TensorKey(name, collaborator, round, report, ("model",))` in its TensorDB.
   * OpenFL caches that key only when it fetched the whole tensor (`require_lossless=True`):
   * always in round 0, later when it had no prior model layer to apply a delta to. A model
   * built from the previous model plus an aggregated delta is cached under the aggregator's
   * origin instead, so it does not count.
   */
  readonly holdsRoundModel: boolean;
}

/**
 * Whether OpenFL's Collaborator sends a result as a delta that may be compressed lossily.
 * Mirrors `Collaborator.nparray_to_named_tensor` (openfl/component/collaborator/collaborator.py):
 * a tensor tagged `trained`, under `use_delta_updates`, when `tensor_db.get_tensor_from_cache`
 * finds that round's model, is sent as `TensorCodec.generate_delta` (trained - model, tag
 * `delta` added) through `TensorCodec.compress(..., require_lossless=False)` with
 * `construct_named_tensor(..., lossless=False)`: tag `lossy_compressed` under a lossy
 * pipeline, `compressed` under a lossless one. Every other result, and every result without
 * `use_delta_updates`, is the whole tensor with `require_lossless=True` (NoCompression under a
 * lossy pipeline, tag `compressed`, lossless=True).
 *
 * true: encode `tensor - model` with tags + "delta" and `requireLossless: false`;
 * false: encode the tensor itself with `requireLossless: true`.
 * Every collaborator of a federation must decide alike, or the aggregator cannot average.
 */
export function shouldSendLossy(input: SendLossyInput): boolean {
  return input.tags.includes("trained") && input.useDeltaUpdates && input.holdsRoundModel;
}
