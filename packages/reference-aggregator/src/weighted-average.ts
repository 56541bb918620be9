// FedAvg: per tensor name, the average of the collaborators' tensors weighted by data_size.
import type { Float32Tensor } from "@openfl-connect/core";
import { AggregatorStateError } from "./aggregator-state-error.js";
import type { ReceivedTensor } from "./received-tensor.js";

/** One collaborator's results, as the average weighs them. */
export interface WeightedResults {
  readonly dataSize: number;
  readonly tensors: readonly ReceivedTensor[];
}

/** Per tensor name (without `tag`), the data_size-weighted average of the tensors tagged `tag`. */
export function weightedAverages(
  results: readonly WeightedResults[],
  tag: string,
): Record<string, Float32Tensor> {
  const groups = new Map<string, { tensor: ReceivedTensor; weight: number }[]>();
  for (const record of results) {
    for (const tensor of record.tensors) {
      if (!tensor.tags.includes(tag)) continue;
      const group = groups.get(tensor.name) ?? [];
      group.push({ tensor, weight: record.dataSize });
      groups.set(tensor.name, group);
    }
  }
  const averages: Record<string, Float32Tensor> = {};
  for (const [name, group] of groups) {
    const first = group[0];
    if (first === undefined) continue;
    const total = group.reduce((n, g) => n + g.weight, 0);
    const sums = new Float64Array(first.tensor.data.length);
    for (const { tensor, weight } of group) {
      if (tensor.data.length !== sums.length) {
        throw new AggregatorStateError(
          `cannot average '${name}': collaborators sent different shapes`,
        );
      }
      const w = total > 0 ? weight / total : 1 / group.length;
      for (let i = 0; i < sums.length; i++) sums[i] += w * (tensor.data[i] as number);
    }
    averages[name] = { shape: [...first.tensor.shape], data: Float32Array.from(sums) };
  }
  return averages;
}
