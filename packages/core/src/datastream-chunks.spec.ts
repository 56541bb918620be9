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

describe("dataStreamChunks: order, edges and refusals", () => {
  const kib = 1024;

  it("keeps the bytes in order across small and large parts (the server only concatenates)", () => {
    const parts = [
      Uint8Array.of(1, 2),
      Uint8Array.from({ length: 300 * kib }, (_, i) => i & 0xff),
      Uint8Array.of(3),
      Uint8Array.of(4, 5, 6),
      Uint8Array.from({ length: 100 * kib }, (_, i) => (i * 7) & 0xff),
      Uint8Array.of(9),
    ];
    const joined = joinDataStreamChunks([...dataStreamChunks(parts, 128 * kib)]);
    assert.ok(Buffer.from(joined).equals(Buffer.concat(parts)), "the parts' bytes, in order");
  });

  it("makes no empty chunk after a part that is a whole number of chunks", () => {
    const sizes = [...dataStreamChunks([new Uint8Array(256 * kib)], 128 * kib)].map((c) => c.size);
    assert.deepEqual(sizes, [128 * kib, 128 * kib]);
  });

  it("sends a 64 KiB piece alone as a view; a piece 1 byte smaller is coalesced", () => {
    const at = new Uint8Array(64 * kib);
    const below = new Uint8Array(64 * kib - 1);
    const chunks = [...dataStreamChunks([Uint8Array.of(1), at, Uint8Array.of(2)])];
    assert.deepEqual(
      chunks.map((c) => c.size),
      [1, 64 * kib, 1],
    );
    assert.equal(chunks[1]?.npbytes.buffer, at.buffer);
    const coalesced = [...dataStreamChunks([Uint8Array.of(1), below, Uint8Array.of(2)])];
    assert.deepEqual(
      coalesced.map((c) => c.size),
      [64 * kib + 1],
    );
  });

  it("fills a coalesced chunk up to exactly the limit, and starts another one byte past it", () => {
    const exact = [...dataStreamChunks([new Uint8Array(60), new Uint8Array(40)], 100)];
    assert.deepEqual(
      exact.map((c) => c.size),
      [100],
    );
    const over = [...dataStreamChunks([new Uint8Array(60), new Uint8Array(41)], 100)];
    assert.deepEqual(
      over.map((c) => c.size),
      [60, 41],
    );
  });

  it("refuses a chunk size that is not a positive whole number, naming it", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.NEGATIVE_INFINITY]) {
      assert.throws(
        () => [...dataStreamChunks(new Uint8Array(10), bad)],
        (e: unknown) =>
          e instanceof RangeError &&
          e.message === `chunkBytes must be a positive integer or Infinity, got ${bad}`,
        String(bad),
      );
    }
    assert.equal([...dataStreamChunks(new Uint8Array(10), 1)].length, 10);
  });
});
