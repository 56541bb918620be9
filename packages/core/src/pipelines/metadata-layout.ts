import { TensorCodecError } from "../errors.js";
import type { MetadataProto, NamedTensor } from "../gen/openfl/protocols/base_pb.js";
import { OPENFL_PIPELINE_CLASS, type PipelineKind } from "./pipeline-config.js";

/** At most this many int_list values are shown in a message; the rest are counted. */
export const MAX_SHOWN_INT_LIST = 8;

/**
 * The transformer_metadata each pipeline's `forward` appends, one entry per transformer, in
 * order (an empty entry is still sent). A scalar's shape is [], so its int_list is empty.
 */
export const EXPECTED_LAYOUT: Record<PipelineKind, string> = {
  none: "1 entry: #0 {int_list: shape}",
  "random-shift":
    "2 entries: #0 {int_to_float: shift per element, int_list: shape}, #1 {int_list: shape}",
  stc: "3 entries: #0 {int_list: shape}, #1 {int_to_float: code table}, #2 {}",
  skc: "3 entries: #0 {int_list: shape}, #1 {int_to_float: code table}, #2 {}",
  kc: "2 entries: #0 {int_to_float: code table, int_list: shape}, #1 {}",
  eden: "1 entry: #0 {int_to_float: seed, dimension and scales, int_list: shape}",
};

const ENTRY_COUNT: Record<PipelineKind, number> = {
  none: 1,
  "random-shift": 2,
  stc: 3,
  skc: 3,
  kc: 2,
  eden: 1,
};

/** The fields one entry carries, e.g. "{int_to_float (6 entries), int_list [2, 3]}". */
export function describeEntry(entry: MetadataProto): string {
  const fields: string[] = [];
  const keys = Object.keys(entry.intToFloat).length;
  if (keys > 0) fields.push(`int_to_float (${keys} ${keys === 1 ? "entry" : "entries"})`);
  const ints = entry.intList;
  if (ints.length > MAX_SHOWN_INT_LIST) {
    fields.push(
      `int_list [${ints.slice(0, MAX_SHOWN_INT_LIST).join(", ")}, … (${ints.length} values)]`,
    );
  } else if (ints.length > 0) {
    fields.push(`int_list [${ints.join(", ")}]`);
  }
  const bools = entry.boolList.length;
  if (bools > 0) fields.push(`bool_list (${bools} ${bools === 1 ? "value" : "values"})`);
  return `{${fields.join(", ")}}`;
}

/** Every entry of a tensor, e.g. "2 entries: #0 {int_list [3]}, #1 {}". */
export function describeLayout(entries: readonly MetadataProto[]): string {
  const count = `${entries.length} ${entries.length === 1 ? "entry" : "entries"}`;
  if (entries.length === 0) return count;
  return `${count}: ${entries.map((entry, i) => `#${i} ${describeEntry(entry)}`).join(", ")}`;
}

/** Whether bytes start with gzip's magic number (1f 8b), as every lossy pipeline's output does. */
export function looksGzipped(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Which OpenFL pipeline a tensor's layout suggests, for messages only: the receiver is told
 * the pipeline by the plan, never by the tensor (a scalar under RandomShift and one under KC
 * differ only in whether data_bytes are gzip).
 */
export function guessLayout(named: NamedTensor): string {
  const entries = named.transformerMetadata;
  const gzipped = looksGzipped(named.dataBytes);
  if (entries.length === 1) {
    const [only] = entries as [MetadataProto];
    return Object.keys(only.intToFloat).length === 0 ? "NoCompressionPipeline" : "EdenPipeline";
  }
  if (entries.length === 2) return gzipped ? "KCPipeline" : "RandomShiftPipeline";
  if (entries.length === 3 && gzipped) return "STCPipeline or SKCPipeline";
  return "unknown layout";
}

/** The layout found, with what it looks like, for a refusal. */
export function layoutFound(named: NamedTensor): string {
  const guess = guessLayout(named);
  const looks = guess === "unknown layout" ? guess : `looks like ${guess}`;
  return `${describeLayout(named.transformerMetadata)} (${looks})`;
}

/**
 * Refuses a tensor whose entry count is not the pipeline's (OpenFL's `backward` pops one entry
 * per transformer and would read the wrong ones). `label` names the pipeline in the message.
 */
export function requireLayout(
  named: NamedTensor,
  kind: PipelineKind,
  where: string,
  label: string = OPENFL_PIPELINE_CLASS[kind],
): readonly MetadataProto[] {
  const entries = named.transformerMetadata;
  if (entries.length !== ENTRY_COUNT[kind]) {
    throw new TensorCodecError(
      `${where}: ${label} expects transformer_metadata of ${EXPECTED_LAYOUT[kind]}; found ${layoutFound(named)}`,
    );
  }
  return entries;
}
