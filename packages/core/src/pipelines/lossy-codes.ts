import { TensorCodecError } from "../errors.js";
import { readFloat32LittleEndian } from "../float32-bytes.js";
import { formatShape } from "../tensor-shape.js";

/** A code -> value table: a MetadataProto's int_to_float. */
export type CodeTable = { readonly [code: number]: number };

/**
 * OpenFL: GZIPTransformer.backward. The gunzipped bytes are float32 codes, one per element.
 * Refuses a byte count that is not four per element of `shape`.
 */
export function readCodes(
  gunzipped: Uint8Array,
  shape: readonly number[],
  count: number,
  where: string,
): Float32Array {
  if (gunzipped.byteLength !== count * 4) {
    throw new TensorCodecError(
      `${where}: shape ${formatShape(shape)} needs ${count} float32 codes (${count * 4} bytes), gunzipped data_bytes has ${gunzipped.byteLength} bytes`,
    );
  }
  return readFloat32LittleEndian(gunzipped, count);
}

function tableMap(table: CodeTable): Map<number, number> {
  return new Map(Object.entries(table).map(([code, value]) => [Number(code), value]));
}

/**
 * OpenFL: TernaryTransformer.backward and KmeansTransformer.backward: each code becomes its
 * table value. A code with no table entry is refused (OpenFL would leave the code itself as
 * the value). -0 reads as code 0, as numpy's `data == 0` does.
 */
export function codesToValues(codes: Float32Array, table: CodeTable, where: string): Float32Array {
  const values = tableMap(table);
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] as number;
    const value = values.get(code);
    if (value === undefined) {
      throw new TensorCodecError(
        `${where}: code ${code} of element ${i} has no int_to_float entry (the table has ${values.size} codes)`,
      );
    }
    out[i] = value;
  }
  return out;
}

/**
 * Whether OpenFL's own receiver may decode this table differently from code -> value.
 * OpenFL's backward replaces `data == key` by the key's value one key after the other, in the
 * order its protobuf map iterates (hash order under upb, not ascending): a value equal to
 * another code, whose value differs, is then replaced again if that code comes later. E.g.
 * STC's {0: -1, 1: 0, 2: 1} (mean magnitude exactly 1) turns the +1 elements into 0 when key
 * 1 follows key 2. STC's full table {0: -m, 1: 0, 2: m} always qualifies (its zeros survive
 * only if key 0 comes before key 1, as it does in OpenFL 1.9 with upb). This decoder always
 * returns what the sender encoded.
 */
export function tableIsOrderDependent(table: CodeTable): boolean {
  const values = tableMap(table);
  for (const value of values.values()) {
    const next = values.get(value);
    if (next !== undefined && !Object.is(next, value)) return true;
  }
  return false;
}
