import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { TensorCodecError } from "../errors.js";
import { MetadataProtoSchema, NamedTensorSchema } from "../gen/openfl/protocols/base_pb.js";
import {
  describeEntry,
  describeLayout,
  EXPECTED_LAYOUT,
  guessLayout,
  layoutFound,
  looksGzipped,
  MAX_SHOWN_INT_LIST,
  requireLayout,
} from "./metadata-layout.js";

type EntryInit = MessageInitShape<typeof MetadataProtoSchema>;

const entry = (init: EntryInit = {}) => create(MetadataProtoSchema, init);
const GZIP = Uint8Array.of(0x1f, 0x8b, 8, 0);
const named = (entries: EntryInit[], dataBytes = new Uint8Array(0)) =>
  create(NamedTensorSchema, { name: "w", transformerMetadata: entries.map(entry), dataBytes });

describe("metadata layout", () => {
  it("describes an empty entry as {}", () => {
    assert.equal(describeEntry(entry()), "{}");
  });

  it("describes each field present, in the proto's field order", () => {
    assert.equal(
      describeEntry(entry({ intToFloat: { 0: 1 }, intList: [2, 3], boolList: [true] })),
      "{int_to_float (1 entry), int_list [2, 3], bool_list (1 value)}",
    );
    assert.equal(
      describeEntry(entry({ intToFloat: { 0: 1, 5: 2 }, boolList: [true, false] })),
      "{int_to_float (2 entries), bool_list (2 values)}",
    );
  });

  it("shows up to 8 int_list values, then counts them", () => {
    assert.equal(MAX_SHOWN_INT_LIST, 8);
    const ints = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    assert.equal(describeEntry(entry({ intList: ints(7) })), "{int_list [1, 2, 3, 4, 5, 6, 7]}");
    assert.equal(describeEntry(entry({ intList: ints(8) })), "{int_list [1, 2, 3, 4, 5, 6, 7, 8]}");
    assert.equal(
      describeEntry(entry({ intList: ints(9) })),
      "{int_list [1, 2, 3, 4, 5, 6, 7, 8, … (9 values)]}",
    );
  });

  it("describes every entry with its index", () => {
    assert.equal(describeLayout([]), "0 entries");
    assert.equal(describeLayout([entry({ intList: [3] })]), "1 entry: #0 {int_list [3]}");
    assert.equal(
      describeLayout([entry({ intList: [3] }), entry()]),
      "2 entries: #0 {int_list [3]}, #1 {}",
    );
  });

  it("recognises gzip by its two magic bytes", () => {
    assert.equal(looksGzipped(new Uint8Array(0)), false);
    assert.equal(looksGzipped(Uint8Array.of(0x1f)), false);
    assert.equal(looksGzipped(Uint8Array.of(0x1f, 0x8b)), true);
    assert.equal(looksGzipped(Uint8Array.of(0x1f, 0x8c)), false);
    assert.equal(looksGzipped(Uint8Array.of(0x1e, 0x8b)), false);
  });

  it("guesses the pipeline from the entry count, the tables and gzip", () => {
    assert.equal(guessLayout(named([{ intList: [2] }])), "NoCompressionPipeline");
    assert.equal(guessLayout(named([{ intList: [200], intToFloat: { 0: 1 } }])), "EdenPipeline");
    assert.equal(guessLayout(named([{ intToFloat: { 0: 1 } }, {}], GZIP)), "KCPipeline");
    assert.equal(guessLayout(named([{ intToFloat: { 0: 1 } }, {}])), "RandomShiftPipeline");
    assert.equal(guessLayout(named([{}, {}, {}], GZIP)), "STCPipeline or SKCPipeline");
    assert.equal(guessLayout(named([{}, {}, {}])), "unknown layout");
    assert.equal(guessLayout(named([])), "unknown layout");
    assert.equal(guessLayout(named([{}, {}, {}, {}], GZIP)), "unknown layout");
  });

  it("reports the layout found with its guess", () => {
    assert.equal(
      layoutFound(named([{ intList: [2] }, {}], GZIP)),
      "2 entries: #0 {int_list [2]}, #1 {} (looks like KCPipeline)",
    );
    assert.equal(layoutFound(named([])), "0 entries (unknown layout)");
  });

  it("states what each pipeline sends", () => {
    assert.deepEqual(EXPECTED_LAYOUT, {
      none: "1 entry: #0 {int_list: shape}",
      "random-shift":
        "2 entries: #0 {int_to_float: shift per element, int_list: shape}, #1 {int_list: shape}",
      stc: "3 entries: #0 {int_list: shape}, #1 {int_to_float: code table}, #2 {}",
      skc: "3 entries: #0 {int_list: shape}, #1 {int_to_float: code table}, #2 {}",
      kc: "2 entries: #0 {int_to_float: code table, int_list: shape}, #1 {}",
      eden: "1 entry: #0 {int_to_float: seed, dimension and scales, int_list: shape}",
    });
  });

  it("returns the entries when their count is the pipeline's", () => {
    const counts = { none: 1, "random-shift": 2, stc: 3, skc: 3, kc: 2, eden: 1 } as const;
    for (const [kind, count] of Object.entries(counts) as [keyof typeof counts, number][]) {
      const tensor = named(Array.from({ length: count }, () => ({})));
      assert.equal(requireLayout(tensor, kind, "t"), tensor.transformerMetadata);
    }
  });

  it("refuses another entry count, naming the pipeline, what it expects and what was found", () => {
    assert.throws(
      () => requireLayout(named([{ intList: [2] }, {}], GZIP), "stc", "tensor 'w'"),
      new TensorCodecError(
        "tensor 'w': STCPipeline expects transformer_metadata of 3 entries: #0 {int_list: shape}, #1 {int_to_float: code table}, #2 {}; found 2 entries: #0 {int_list [2]}, #1 {} (looks like KCPipeline)",
      ),
    );
    assert.throws(
      () => requireLayout(named([{}, {}]), "none", "tensor 'w'", "Label"),
      new TensorCodecError(
        "tensor 'w': Label expects transformer_metadata of 1 entry: #0 {int_list: shape}; found 2 entries: #0 {}, #1 {} (looks like RandomShiftPipeline)",
      ),
    );
  });
});
