// Float32 values and OpenFL's byte layout for them (little-endian, as numpy writes them on
// OpenFL's platforms), both ways: one memcpy on a little-endian platform, a DataView elsewhere.

/** Whether this platform stores numbers little-endian (OpenFL's byte order). */
export const platformIsLittleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Values as little-endian float32 bytes (numpy's `astype(np.float32).tobytes()`); any numeric
 * array-like, cast to float32. `zeroCopy`: a Float32Array on a little-endian platform becomes a
 * view of its memory instead of a copy. `viaDataView` forces the portable path a big-endian
 * platform takes.
 */
export function float32LittleEndian(
  data: ArrayLike<number>,
  viaDataView = !platformIsLittleEndian,
  zeroCopy = false,
): Uint8Array {
  if (data instanceof Float32Array && !viaDataView) {
    const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return zeroCopy ? view : view.slice();
  }
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] as number, true);
  return bytes;
}

/**
 * Reads `count` little-endian float32 values. On a little-endian platform one memcpy does
 * it; `viaDataView` forces the portable path a big-endian platform takes (tested on both).
 */
export function readFloat32LittleEndian(
  bytes: Uint8Array,
  count: number,
  viaDataView = !platformIsLittleEndian,
): Float32Array {
  const data = new Float32Array(count);
  if (!viaDataView) {
    new Uint8Array(data.buffer).set(bytes.subarray(0, count * 4));
    return data;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
  return data;
}
