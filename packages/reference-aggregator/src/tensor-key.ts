// How OpenFL's aggregator names a tensor: the tags it keys it by, and the TensorKey repr its
// errors quote, so that ours read the same.
import { COMPRESSED_TAG, LOSSY_COMPRESSED_TAG } from "@openfl-connect/core";

/** Tags as OpenFL's aggregator keys them: without the compression tags, unique, sorted. */
export function normaliseTags(tags: readonly string[]): string[] {
  return [...new Set(tags)]
    .filter((t) => t !== COMPRESSED_TAG && t !== LOSSY_COMPRESSED_TAG)
    .sort();
}

/** Python's repr of OpenFL's TensorKey, e.g. `TensorKey(tensor_name='w', ..., tags=('model',))`. */
export function tensorKeyRepr(
  origin: string,
  name: string,
  round: number,
  report: boolean,
  tags: readonly string[],
): string {
  const tuple = tags.length === 1 ? `('${tags[0]}',)` : `(${tags.map((t) => `'${t}'`).join(", ")})`;
  return `TensorKey(tensor_name='${name}', origin='${origin}', round_number=${round}, report=${report ? "True" : "False"}, tags=${tuple})`;
}
