import { TensorCodecError } from "./errors.js";

/** `[2, 3]` for messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** How many values a tensor of `shape` holds (1 for a scalar, shape []). */
export function elementCount(shape: readonly number[], where: string): number {
  let count = 1;
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new TensorCodecError(
        `${where}: shape ${formatShape(shape)} has an invalid dimension ${dim}`,
      );
    }
    count *= dim;
  }
  return count;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}
