import type { ConnectionOptions } from "node:tls";
import type { PlatformFailure } from "@openfl-connect/core/internal";
import { type ProbeResult, probeHttp2 } from "./connection-probe.js";
import { classifyNodeFailure } from "./node-failure.js";
import { type ClientIdentity, commonName, issuerName } from "./tls-material.js";

/** Per probe connection; a healthy aggregator answers in milliseconds. */
const PROBE_TIMEOUT_MS = 5_000;

export interface DiagnosisTarget {
  readonly host: string;
  readonly port: number;
  /** "host:port", for messages. */
  readonly target: string;
  /** The connector's TLS options; undefined when it speaks clear text (useTls: false). */
  readonly tls: ConnectionOptions | undefined;
  /** The client certificate presented, if any, for messages. */
  readonly clientIdentity: ClientIdentity | undefined;
}

/**
 * Why calls end in a stream reset with no cause, found by probing with fresh connections.
 * A grpcio server (OpenFL's) that refuses a client certificate under TLS 1.3 completes the
 * handshake and then closes the connection without a byte or an alert; under TLS 1.2 it
 * drops the handshake itself, after its hello. A server that is only passing through a bad
 * moment answers a probe with its HTTP/2 SETTINGS, and a relay whose upstream is down closes
 * before any TLS. So: two fresh connections in a row on which the server took part in the TLS
 * handshake and then closed before a single HTTP/2 byte (the second limited to TLS 1.2, where
 * the refusal is part of the handshake) mean the aggregator refuses this identity; anything
 * else means the reset may pass, and the client goes on retrying.
 */
export async function diagnoseReset(
  target: DiagnosisTarget,
  signal?: AbortSignal,
): Promise<PlatformFailure | undefined> {
  return target.tls
    ? diagnoseTlsRefusal(target, target.tls, signal)
    : diagnoseClearTextToTls(target, signal);
}

async function diagnoseTlsRefusal(
  target: DiagnosisTarget,
  tls: ConnectionOptions,
  signal: AbortSignal | undefined,
): Promise<PlatformFailure | undefined> {
  const probe = (extra: ConnectionOptions) =>
    probeHttp2(
      {
        host: target.host,
        port: target.port,
        tls: { ...tls, ...extra },
        timeoutMs: PROBE_TIMEOUT_MS,
      },
      signal,
    );
  const first = await probe({});
  const firstReading = readTlsProbe(first);
  if (firstReading !== "dropped") return firstReading;
  let second = await probe({ maxVersion: "TLSv1.2" });
  if (
    second.t === "failed" &&
    /protocol version|unsupported protocol/i.test(second.error.message)
  ) {
    second = await probe({}); // a TLS 1.3-only server: confirm with a second plain probe
  }
  const secondReading = readTlsProbe(second);
  if (secondReading !== "dropped") return secondReading;
  return { t: "client-certificate-refused", failure: refusalMessage(target) };
}

/** "dropped", or what the probe showed instead (undefined: it answered or says nothing). */
function readTlsProbe(result: ProbeResult): PlatformFailure | "dropped" | undefined {
  switch (result.t) {
    case "dropped":
      return result.serverSpokeTls ? "dropped" : undefined;
    case "failed": {
      const seen = classifyNodeFailure(result.error);
      return seen?.t === "connection" ? undefined : seen;
    }
    default:
      return undefined;
  }
}

function refusalMessage(target: DiagnosisTarget): string {
  const dropped = `the aggregator at ${target.target} closed two fresh connections in a row before sending a byte, right at the TLS handshake (the way a gRPC server refuses a client certificate)`;
  const id = target.clientIdentity;
  if (!id) {
    return `${dropped}: it requires a client certificate and this client presents none (requireClientAuth is false); give certificate and privateKey`;
  }
  const notAfter = new Date(id.leaf.validTo);
  const expired = notAfter.getTime() < Date.now() ? `, EXPIRED on ${notAfter.toISOString()}` : "";
  return `${dropped}: it does not accept the client certificate ${id.source} (CN '${commonName(id.leaf) ?? "?"}', issued by '${issuerName(id.leaf)}', valid until ${notAfter.toISOString()}${expired}); check that the federation's CA signed it and that it has not expired or been revoked`;
}

async function diagnoseClearTextToTls(
  target: DiagnosisTarget,
  signal: AbortSignal | undefined,
): Promise<PlatformFailure | undefined> {
  const clear = await probeHttp2(
    { host: target.host, port: target.port, tls: undefined, timeoutMs: PROBE_TIMEOUT_MS },
    signal,
  );
  if (clear.t !== "dropped" && clear.t !== "tls-record") return undefined;
  // Does it speak TLS? Only the handshake matters here, so the server is not verified.
  const hello = await probeHttp2(
    {
      host: target.host,
      port: target.port,
      tls: { rejectUnauthorized: false },
      timeoutMs: PROBE_TIMEOUT_MS,
    },
    signal,
  );
  const speaksTls =
    hello.t === "answered" ||
    ((hello.t === "dropped" || hello.t === "failed") && hello.serverSpokeTls) ||
    (hello.t === "failed" && /alert|certificate/i.test(hello.error.message));
  if (!speaksTls) return undefined;
  return {
    t: "protocol-mismatch",
    failure: `useTls is false, but the aggregator at ${target.target} speaks TLS (it dropped a clear-text HTTP/2 connection and completed a TLS handshake); set useTls: true (the default) and give its CA as rootCertificate`,
  };
}
