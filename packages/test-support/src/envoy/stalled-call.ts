// Test-only: an attacker's call through the test Envoy, over raw HTTP/2: a gRPC-web frame
// header announcing more than is sent, `bytes` of body, then silence (the stream is never ended).
// What Envoy does with it (holds it, resets it, forwards it) is what the attack specs measure.
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from "node:http2";

const SERVICE = "/openfl.aggregator.Aggregator/";
const CHUNK_BYTES = 1 << 20;

export interface StalledCall {
  readonly stream: ClientHttp2Stream;
  /** Resolves once all `bytes` have been handed to the socket (or the stream closed first). */
  readonly written: Promise<void>;
  /** Resolves when the stream closes: after how long, the HTTP status if any, the RST code. */
  readonly closed: Promise<{ seconds: number; status?: number; rstCode: number }>;
  /** Closes the session (safe to call twice). */
  close(): void;
}

/**
 * Opens one call of `method` (default the upload) with `bytes` body bytes that then stalls.
 * `target` is Envoy (a session of its own) or a session to share.
 */
export function stalledCall(
  target: { proxyUrl: string } | ClientHttp2Session,
  token: string,
  bytes: number,
  method = "SendLocalTaskResults",
): StalledCall {
  const own = "proxyUrl" in target;
  const session = own ? connect(target.proxyUrl) : target;
  if (own) session.on("error", () => {});
  const started = performance.now();
  const stream = session.request({
    ":method": "POST",
    ":path": `${SERVICE}${method}`,
    "content-type": "application/grpc-web+proto",
    "x-grpc-web": "1",
    authorization: `Bearer ${token}`,
  });
  stream.on("error", () => {});
  let status: number | undefined;
  stream.on("response", (headers) => {
    status = Number(headers[":status"]);
  });
  stream.resume();
  const closed = new Promise<{ seconds: number; status?: number; rstCode: number }>((resolve) => {
    stream.once("close", () =>
      resolve({
        seconds: (performance.now() - started) / 1000,
        ...(status === undefined ? {} : { status }),
        rstCode: stream.rstCode ?? 0,
      }),
    );
  });
  const written = (async () => {
    // The frame announces one byte more than is ever sent: the message can never complete.
    const header = new Uint8Array(5);
    new DataView(header.buffer).setUint32(1, bytes + 1);
    stream.write(header);
    const chunk = new Uint8Array(CHUNK_BYTES);
    for (let sent = 0; sent < bytes && !stream.closed; sent += CHUNK_BYTES) {
      const piece = chunk.subarray(0, Math.min(CHUNK_BYTES, bytes - sent));
      if (!stream.write(piece)) await drainedOrClosed(stream);
    }
  })();
  return {
    stream,
    written,
    closed,
    close: () => {
      if (own) session.destroy();
      else stream.close();
    },
  };
}

function drainedOrClosed(stream: ClientHttp2Stream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}
