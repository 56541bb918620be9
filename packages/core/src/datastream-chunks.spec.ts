import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dataStreamChunks, joinDataStreamChunks, OPENFL_CHUNK_BYTES } from "./datastream-chunks.js";

describe("dataStreamChunks", () => {
  it("sends a message under 2 MiB as one chunk whose size is its length", () => {
    const chunks = [...dataStreamChunks(new Uint8Array(1000).fill(7))];
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0]?.size, 1000);
  });

  it("splits at exactly 2 MiB and keeps the remainder last", () => {
    // OpenFL's client sends 2 MiB chunks (utils.proto_to_datastream, 2 * 1024 * 1024 bytes).
    const bytes = new Uint8Array(2 * 2_097_152 + 5);
    const sizes = [...dataStreamChunks(bytes)].map((c) => c.size);
    assert.deepEqual(sizes, [2_097_152, 2_097_152, 5]);
    assert.equal(OPENFL_CHUNK_BYTES, 2_097_152);
  });

  it("yields views into the one serialized buffer, never copies", () => {
    const bytes = new Uint8Array(5 * 1024 * 1024);
    for (const c of dataStreamChunks(bytes)) assert.equal(c.npbytes.buffer, bytes.buffer);
  });

  it("round-trips the bytes exactly", () => {
    const bytes = Uint8Array.from(
      { length: 3 * OPENFL_CHUNK_BYTES + 123 },
      (_, i) => (i * 31) & 0xff,
    );
    assert.deepEqual(joinDataStreamChunks([...dataStreamChunks(bytes)]), bytes);
  });

  it("honours a custom chunk size and rejects a non-positive one", () => {
    assert.equal([...dataStreamChunks(new Uint8Array(10), 3)].length, 4);
    assert.throws(() => [...dataStreamChunks(new Uint8Array(10), 0)], RangeError);
  });

  it("sends an empty message as one empty chunk", () => {
    const chunks = [...dataStreamChunks(new Uint8Array(0))];
    assert.deepEqual(
      chunks.map((c) => c.size),
      [0],
    );
  });

  it("sends large parts as views and coalesces small framing parts into one chunk", () => {
    const big = new Uint8Array(3 * 1024 * 1024).fill(1);
    const parts = [Uint8Array.of(1, 2), Uint8Array.of(3), big, Uint8Array.of(4)];
    const chunks = [...dataStreamChunks(parts)];
    assert.deepEqual(
      chunks.map((c) => c.size),
      [3, OPENFL_CHUNK_BYTES, 1024 * 1024, 1],
    );
    assert.equal(chunks[1]?.npbytes.buffer, big.buffer);
    assert.equal(chunks[2]?.npbytes.buffer, big.buffer);
    assert.deepEqual(joinDataStreamChunks(chunks).byteLength, 3 + big.byteLength + 1);
  });

  it("never makes a chunk over the limit when coalescing", () => {
    const parts = Array.from({ length: 100 }, () => new Uint8Array(1000));
    for (const c of dataStreamChunks(parts, 4096)) assert.ok(c.size <= 4096);
  });

  it("sends everything as one chunk when the limit is Infinity (gRPC-web)", () => {
    const parts = [Uint8Array.of(1), new Uint8Array(5 * 1024 * 1024), Uint8Array.of(2)];
    const chunks = [...dataStreamChunks(parts, Number.POSITIVE_INFINITY)];
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0]?.size, 5 * 1024 * 1024 + 2);
  });
});
