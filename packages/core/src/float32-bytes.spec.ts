import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { float32LittleEndian, readFloat32LittleEndian } from "./float32-bytes.js";

describe("float32LittleEndian", () => {
  it("writes little-endian float32 on both paths, from a view at an offset", () => {
    const backing = Float32Array.of(9, 1, -2, 0.5);
    const view = backing.subarray(1);
    const expected = Uint8Array.of(0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0, 0x3f);
    assert.deepEqual(float32LittleEndian(view, false), expected);
    assert.deepEqual(float32LittleEndian(view, true), expected);
    assert.deepEqual(float32LittleEndian(view), expected);
  });

  it("copies: later changes to the values do not reach the bytes", () => {
    const data = Float32Array.of(1);
    const bytes = float32LittleEndian(data, false);
    data[0] = 2;
    assert.deepEqual(bytes, Uint8Array.of(0, 0, 0x80, 0x3f));
    assert.equal(bytes.byteLength, bytes.buffer.byteLength);
  });

  it("reads the same values through a DataView (big-endian platforms) as by memcpy", () => {
    const backing = new Uint8Array(4 * 5 + 3);
    const view = new DataView(backing.buffer);
    const values = [1.5, -2.25, 3e-7, 65504, -0];
    for (const [i, v] of values.entries()) view.setFloat32(3 + i * 4, v, true);
    const bytes = backing.subarray(3);
    const portable = readFloat32LittleEndian(bytes, 5, true);
    const fast = readFloat32LittleEndian(bytes, 5, false);
    assert.deepEqual(portable, Float32Array.from(values));
    assert.deepEqual(fast, portable);
  });
});
