// Gzip for the lossy pipelines (OpenFL's GZIPTransformer) through the Compression Streams API,
// which Node (>= 18) and every current browser provide: one implementation for the CLI and the
// tab, nothing to install.

/** Gzip-compresses `bytes` (CompressionStream "gzip"). */
export function streamGzip(bytes: Uint8Array): Promise<Uint8Array> {
  return through(bytes, new CompressionStream("gzip"));
}

/**
 * Decompresses gzip `bytes` (DecompressionStream "gzip"). Bytes that are not gzip, or a stream
 * cut short, reject with the platform's error (core's decodeTensor names the tensor).
 */
export function streamGunzip(bytes: Uint8Array): Promise<Uint8Array> {
  return through(bytes, new DecompressionStream("gzip"));
}

async function through(
  bytes: Uint8Array,
  transform: ReadableWritablePair<Uint8Array, BufferSource>,
): Promise<Uint8Array> {
  // A Blob copies the input, so a caller's buffer is never detached or read late. (Tensor
  // bytes are never in a SharedArrayBuffer, which a Blob would refuse.)
  const output = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(transform);
  return new Uint8Array(await new Response(output).arrayBuffer());
}
