// One HTTP/1.1 request to OpenFL's REST server and the reading of its answer, under the call's
// deadline and AbortSignal: the socket is destroyed at either, and the call rejects with the
// deadline's error or the signal's reason.
import { type Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { type Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Code, ConnectError } from "@connectrpc/connect";

export interface RestTarget {
  readonly host: string;
  readonly port: number;
  /** https (an https.Agent carrying the TLS options) or clear text (useTls: false). */
  readonly agent: HttpsAgent | HttpAgent;
  readonly useTls: boolean;
  /** Time to establish a connection including the TLS handshake, in ms. Default 20000 (as gRPC's). */
  readonly connectTimeoutMs: number | undefined;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;

export interface RestExchangeRequest {
  readonly method: "GET" | "POST";
  /** Path and query. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Written part by part as the socket takes it; Content-Length is their total. */
  readonly body?: { readonly parts: readonly Uint8Array[]; readonly byteLength: number };
}

/**
 * Sends `request` and hands the answer to `read` (which consumes its body). Socket and TLS
 * failures reject as a ConnectError (Code.Unknown) whose cause is Node's error, so the
 * adapter's reading of Node's failures (errno, TLS alerts, certificate codes) classifies them.
 */
export function restExchange<T>(
  target: RestTarget,
  request: RestExchangeRequest,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  read: (response: IncomingMessage) => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    signal?.throwIfAborted();
    let settled = false;
    const headers: Record<string, string> = { ...request.headers };
    if (request.body) headers["Content-Length"] = String(request.body.byteLength);
    const req = (target.useTls ? httpsRequest : httpRequest)({
      host: target.host,
      port: target.port,
      method: request.method,
      path: request.path,
      headers,
      agent: target.agent,
    });
    const done = () => {
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      done();
      req.destroy();
      reject(error);
    };
    const onAbort = () => fail(signal?.reason);
    const timer =
      timeoutMs === undefined || timeoutMs <= 0
        ? undefined
        : setTimeout(
            () =>
              fail(
                new ConnectError(
                  `the call ran past its deadline of ${timeoutMs} ms`,
                  Code.DeadlineExceeded,
                ),
              ),
            timeoutMs,
          );
    signal?.addEventListener("abort", onAbort, { once: true });
    req.on("socket", (socket) => {
      if (!socket.connecting) return; // a kept-alive connection
      const ms = target.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      const connecting = setTimeout(
        () =>
          fail(
            new ConnectError(
              `no connection to ${target.host}:${target.port} within ${ms} ms (connectTimeoutMs)`,
              Code.Unavailable,
            ),
          ),
        ms,
      );
      socket.once(target.useTls ? "secureConnect" : "connect", () => clearTimeout(connecting));
      socket.once("close", () => clearTimeout(connecting));
    });
    req.on("error", (error) => fail(transportError(error)));
    req.on("response", (response) => {
      response.on("error", (error) => fail(transportError(error)));
      read(response).then(
        (value) => {
          if (settled) return;
          done();
          resolve(value);
        },
        (error: unknown) => fail(error instanceof ConnectError ? error : transportError(error)),
      );
    });
    void writeBody(req, request.body?.parts ?? [], () => settled).catch(fail);
  });
}

/** Writes the parts as the socket takes them (no copies queued beyond its buffer), then ends. */
async function writeBody(
  req: ReturnType<typeof httpRequest>,
  parts: readonly Uint8Array[],
  stopped: () => boolean,
): Promise<void> {
  for (const part of parts) {
    if (stopped()) return;
    if (!req.write(part)) {
      await new Promise<void>((resolve) => {
        const go = () => {
          req.off("drain", go);
          req.off("close", go);
          resolve();
        };
        req.on("drain", go);
        req.on("close", go);
      });
    }
  }
  if (!stopped()) req.end();
}

/** A socket or TLS failure as a ConnectError, Node's error as its cause. */
function transportError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectError(message, Code.Unknown, undefined, undefined, error);
}

/** The response's body as text, at most `maxBytes` of it (an error page). */
export async function readText(response: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (total < maxBytes) chunks.push(chunk.subarray(0, maxBytes - total));
    total += chunk.byteLength;
  }
  return Buffer.concat(chunks).toString("utf8");
}
