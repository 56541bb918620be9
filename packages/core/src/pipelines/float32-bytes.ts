import { platformIsLittleEndian } from "../tensor-codec.js";

/**
 * Float32 values as little-endian bytes (numpy's `astype(np.float32).tobytes()` on OpenFL's
 * platforms). `viaDataView` forces the portable path a big-endian platform takes.
 */
export function float32LittleEndian(
  data: Float32Array,
  viaDataView = !platformIsLittleEndian,
): Uint8Array {
  if (!viaDataView) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  }
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] as number, true);
  return bytes;
}
