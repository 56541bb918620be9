import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { varint } from "./protobuf-varint.js";

describe("varint (protobuf's base-128 encoding)", () => {
  it("keeps values up to 127 in one byte and needs two from 128", () => {
    assert.deepEqual(varint(0), [0]);
    assert.deepEqual(varint(127), [0x7f]);
    assert.deepEqual(varint(128), [0x80, 0x01]);
    assert.deepEqual(varint(300), [0xac, 0x02]);
  });

  it("encodes lengths past 2^32 exactly (a tensor over 4 GiB)", () => {
    assert.deepEqual(varint(2 ** 35), [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
  });
});
