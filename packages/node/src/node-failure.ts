import { causeChain, type PlatformFailure } from "@openfl-connect/core/internal";

/** Node error codes of a broken or refused connection (net, tls, http2, streams, dns). */
const connectionCodes = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_SESSION_ERROR",
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_HTTP2_STREAM_CANCEL",
  "ERR_HTTP2_INVALID_SESSION",
  "ERR_HTTP2_INVALID_STREAM",
  "ERR_HTTP2_ERROR",
  "ERR_STREAM_DESTROYED",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_SOCKET_CLOSED",
]);

/** Node's (OpenSSL's) codes when our verification of the server's certificate fails. */
const serverCertificateCodes = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** OpenSSL's text for a TLS alert the server sent about our client certificate. */
const clientCertificateRefused =
  /alert (certificate required|bad certificate|unknown ca|certificate unknown|certificate expired|certificate revoked|access denied|handshake failure)/i;

/**
 * What a failure's Node cause means (the adapter's `classifyPlatformFailure`): errno and
 * http2 codes anywhere in the cause chain, OpenSSL certificate codes, TLS alert text.
 */
export function classifyNodeFailure(error: unknown): PlatformFailure | undefined {
  const causes = causeChain(error);
  const codes = causes.map((c) => c.code).filter((c): c is string => typeof c === "string");
  const serverCode = codes.find((c) => serverCertificateCodes.has(c));
  if (serverCode) {
    return {
      t: "server-certificate",
      failure: `the aggregator's TLS certificate did not verify (${serverCode})`,
    };
  }
  if (causes.some((c) => clientCertificateRefused.test(c.message))) {
    return {
      t: "client-certificate-refused",
      failure: "the aggregator rejected this collaborator's TLS client certificate",
    };
  }
  const connectionCode = codes.find((c) => connectionCodes.has(c));
  if (connectionCode) return { t: "connection", failure: `connection failed (${connectionCode})` };
  return undefined;
}
