// Test-only: one raw gRPC-web POST through the test Envoy, for what the web client never sends
// (odd paths, oversized bodies, no token): the answer's status is what the edge decided.

/** A gRPC-web frame announcing and holding `messageBytes` zero bytes (a message, as framed). */
export function grpcWebFrame(messageBytes: number): Uint8Array<ArrayBuffer> {
  const frame = new Uint8Array(5 + messageBytes);
  new DataView(frame.buffer).setUint32(1, messageBytes);
  return frame;
}

/** POSTs `body` (default: an empty message) to `path` at `proxyUrl`, with `token` as bearer. */
export function grpcWebPost(
  proxyUrl: string,
  path: string,
  options: {
    token?: string;
    body?: Uint8Array<ArrayBuffer>;
    headers?: Record<string, string>;
  } = {},
): Promise<Response> {
  return fetch(`${proxyUrl}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/grpc-web+proto",
      "x-grpc-web": "1",
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    body: options.body ?? grpcWebFrame(0),
  });
}
