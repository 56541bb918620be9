import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { streamGunzip, streamGzip } from "./stream-gzip.js";

describe("streamGzip / streamGunzip", () => {
  const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) % 7);

  it("compresses to a gzip stream zlib reads back byte for byte", async () => {
    const gz = await streamGzip(bytes);
    assert.deepEqual([...gz.subarray(0, 2)], [0x1f, 0x8b]);
    assert.ok(gz.byteLength < bytes.byteLength / 10, `${gz.byteLength} bytes`);
    assert.deepEqual(new Uint8Array(gunzipSync(gz)), bytes);
  });

  it("decompresses what zlib (as Python's gzip.compress) wrote, empty input included", async () => {
    assert.deepEqual(await streamGunzip(new Uint8Array(gzipSync(bytes))), bytes);
    assert.deepEqual(
      await streamGunzip(new Uint8Array(gzipSync(new Uint8Array()))),
      new Uint8Array(),
    );
  });

  it("leaves the caller's buffer as it was", async () => {
    const copy = Uint8Array.from(bytes);
    await streamGzip(bytes);
    assert.deepEqual(bytes, copy);
  });

  // Node rejects with zlib's Error, browsers with a TypeError; core's decodeTensor names the tensor.
  it("rejects bytes that are not gzip, and a stream cut short", async () => {
    await assert.rejects(streamGunzip(Uint8Array.of(1, 2, 3, 4)), Error);
    const gz = new Uint8Array(gzipSync(bytes));
    await assert.rejects(streamGunzip(gz.subarray(0, gz.byteLength - 9)), Error);
  });
});
