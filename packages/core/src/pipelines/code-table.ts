import { type CodeTable, tableIsOrderDependent } from "./lossy-codes.js";

/** Values quantized to a few levels: what a lossy transformer turns a tensor into. */
export interface Quantized {
  /** The distinct float32 values elements take, ascending. */
  readonly levels: readonly number[];
  /** Each element's index into `levels`, in C order. */
  readonly labels: Uint32Array;
}

export interface CodedValues {
  /** The int_to_float table: code -> level. */
  readonly table: CodeTable;
  /** Each element's code as float32 (what GZIPTransformer compresses). */
  readonly codes: Float32Array;
}

/**
 * OpenFL: `_float_to_int` of TernaryTransformer and KmeansTransformer, which number the
 * ascending distinct values 0, 1, 2, ... One change: when a level equals another level's
 * code, OpenFL's own receiver may decode it wrongly (it replaces codes key after key, in map
 * order: see `tableIsOrderDependent`), so the codes then start at the first offset where no
 * level is another level's code (e.g. STC's {0: -m, 1: 0, 2: m} becomes {1: -m, 2: 0, 3: m}).
 * Every receiver, OpenFL's included, reads each element's code through the table, so any
 * codes decode the same; with these, in every map order.
 */
export function codeValues(quantized: Quantized): CodedValues {
  const { levels, labels } = quantized;
  let offset = 0;
  let table = tableAt(levels, offset);
  while (tableIsOrderDependent(table)) table = tableAt(levels, ++offset);
  const codes = new Float32Array(labels.length);
  for (let i = 0; i < labels.length; i++) codes[i] = offset + (labels[i] as number);
  return { table, codes };
}

function tableAt(levels: readonly number[], offset: number): CodeTable {
  const table: { [code: number]: number } = {};
  levels.forEach((level, i) => {
    table[offset + i] = level;
  });
  return table;
}
