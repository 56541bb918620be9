import { type Socket, connect as tcpConnect } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";

/**
 * What one probe connection saw after sending the HTTP/2 client preface:
 * - "answered": the server sent bytes (an HTTP/2 server sends its SETTINGS at once);
 * - "tls-record": the first bytes were a TLS record, to a clear-text probe;
 * - "dropped": the connection closed or was reset before a single byte arrived;
 * - "failed": another error (a TLS alert, a refused connection), as Node reported it;
 * - "no-answer": nothing happened before the timeout.
 * `serverSpokeTls` says whether a TLS server took part in the handshake (keys were derived from
 * its hello, or the handshake completed): a relay or load balancer whose upstream is down
 * accepts the TCP connection and closes it without that.
 */
export type ProbeResult =
  | { readonly t: "answered" }
  | { readonly t: "tls-record" }
  | { readonly t: "dropped"; readonly serverSpokeTls: boolean }
  | { readonly t: "failed"; readonly error: Error; readonly serverSpokeTls: boolean }
  | { readonly t: "no-answer" };

/** The HTTP/2 connection preface and an empty SETTINGS frame (RFC 9113, section 3.4). */
const HTTP2_PREFACE = Buffer.concat([
  Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

/** TLS record content types a server starts with: alert (21) or handshake (22), version 3.x. */
function isTlsRecord(bytes: Buffer): boolean {
  return (bytes[0] === 0x15 || bytes[0] === 0x16) && bytes[1] === 0x03;
}

export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  /** TLS options for `tls.connect` (certificates, server name); undefined: clear text. */
  readonly tls: ConnectionOptions | undefined;
  readonly timeoutMs: number;
}

/** Opens one connection, sends the HTTP/2 preface and reports what came back. */
export function probeHttp2(target: ProbeTarget, signal?: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let serverSpokeTls = false;
    let settled = false;
    const socket: Socket = target.tls
      ? tlsConnect({ ...target.tls, host: target.host, port: target.port, ALPNProtocols: ["h2"] })
      : tcpConnect({ host: target.host, port: target.port });
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => finish({ t: "no-answer" });
    const timer = setTimeout(() => finish({ t: "no-answer" }), target.timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (target.tls) {
      // "keylog" fires once the server's hello let us derive keys, before it checks our
      // certificate: under TLS 1.2 a refusal drops the handshake after that point.
      socket.once("keylog", () => {
        serverSpokeTls = true;
      });
      socket.once("secureConnect", () => {
        serverSpokeTls = true;
        socket.write(HTTP2_PREFACE);
      });
    } else socket.once("connect", () => socket.write(HTTP2_PREFACE));
    socket.on("data", (bytes: Buffer) =>
      finish(!target.tls && isTlsRecord(bytes) ? { t: "tls-record" } : { t: "answered" }),
    );
    socket.on("error", (error) => {
      const reset = (error as NodeJS.ErrnoException).code === "ECONNRESET";
      finish(reset ? { t: "dropped", serverSpokeTls } : { t: "failed", error, serverSpokeTls });
    });
    socket.on("close", () => finish({ t: "dropped", serverSpokeTls }));
  });
}
