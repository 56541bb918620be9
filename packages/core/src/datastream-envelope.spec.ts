import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { concatParts } from "./byte-parts.js";
import { dataStreamEnvelopeParts, dataStreamFraming } from "./datastream-envelope.js";
import { DataStreamSchema } from "./gen/openfl/protocols/base_pb.js";

describe("dataStreamEnvelopeParts", () => {
  const cases: Record<string, { size: number; npbytes: Uint8Array }> = {
    "an empty chunk": { size: 0, npbytes: new Uint8Array(0) },
    "a short chunk": { size: 3, npbytes: Uint8Array.of(1, 2, 3) },
    "2 MiB (three-byte varints)": {
      size: 2 * 1024 * 1024,
      npbytes: new Uint8Array(2 * 1024 * 1024).fill(9),
    },
    "a size that disagrees with the bytes": { size: 300, npbytes: Uint8Array.of(7) },
  };
  for (const [name, init] of Object.entries(cases)) {
    it(`frames ${name} exactly as connect serializes and envelopes it`, () => {
      const chunk = create(DataStreamSchema, init);
      const { framing, npbytes, messageBytes } = dataStreamEnvelopeParts(chunk);
      const expected = encodeEnvelope(0, toBinary(DataStreamSchema, chunk));
      assert.deepEqual(concatParts([framing, npbytes]), expected);
      assert.equal(messageBytes, expected.byteLength - 5);
    });
  }

  it("passes the chunk's bytes through as the same view, not a copy", () => {
    const tensor = new Uint8Array(4 * 1024 * 1024);
    const chunk = create(DataStreamSchema, { size: 1024, npbytes: tensor.subarray(1024, 2048) });
    const { npbytes } = dataStreamEnvelopeParts(chunk);
    assert.equal(npbytes.buffer, tensor.buffer);
    assert.equal(npbytes.byteOffset, 1024);
    assert.equal(npbytes.byteLength, 1024);
  });
});

describe("dataStreamFraming", () => {
  for (const [size, length] of [
    [0, 0],
    [5, 5],
    [127, 128],
    [64 * 1024 * 1024, 64 * 1024 * 1024],
  ] as const) {
    it(`size ${size}, ${length} bytes: framing + content = toBinary`, () => {
      const npbytes = new Uint8Array(length).fill(3);
      const framing = dataStreamFraming(size, length);
      const expected = toBinary(DataStreamSchema, create(DataStreamSchema, { size, npbytes }));
      assert.deepEqual(concatParts([framing, npbytes]), expected);
    });
  }
});
