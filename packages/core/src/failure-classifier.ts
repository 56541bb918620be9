import { Code, ConnectError } from "@connectrpc/connect";

/**
 * What a failed attempt means for the next one:
 * - "retry": transient (connection refused/reset, GOAWAY, UNAVAILABLE, deadline);
 * - "retry-bounded": ambiguous (UNKNOWN/INTERNAL without a known transport cause): the
 *   server may have failed for a passing reason or because our request is wrong;
 * - "server-certificate": the server's certificate did not verify; heals only if the
 *   server certificate can be refetched (OpenFL's refetch_server_cert_callback);
 * - "cannot-heal": resending the same request cannot succeed.
 */
export type Disposition = "retry" | "retry-bounded" | "server-certificate" | "cannot-heal";

export interface Classification {
  readonly disposition: Disposition;
  /** Words for a person: what went wrong. */
  readonly failure: string;
  readonly code: Code;
}

/** Node/transport error codes of a broken or refused connection. */
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

/** Our verification of the server's certificate failed. */
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

/** The server refused our client certificate (a TLS alert from its side). */
const clientCertificateRejected =
  /alert (certificate required|bad certificate|unknown ca|certificate unknown|certificate expired|certificate revoked|access denied|handshake failure)/i;

const cannotHealCodes = new Map<Code, string>([
  [
    Code.Unauthenticated,
    "the aggregator did not accept this collaborator's identity (certificate CN vs sender)",
  ],
  [Code.PermissionDenied, "the aggregator denied permission"],
  [Code.InvalidArgument, "the aggregator rejected the request as invalid"],
  [Code.Unimplemented, "the aggregator does not implement this call"],
  [Code.ResourceExhausted, "a message exceeded a size limit"],
  [Code.FailedPrecondition, "the aggregator is not in a state to serve this call"],
  [Code.NotFound, "not found"],
  [Code.AlreadyExists, "already exists"],
  [Code.OutOfRange, "out of range"],
  [Code.DataLoss, "data loss"],
]);

/**
 * The one mapping from a transport failure to what to do next. Classifies on the
 * error's cause chain first (connect-node reports a missing client certificate as
 * Internal and a reset as Aborted), then on the gRPC code.
 */
export function classifyFailure(error: unknown): Classification {
  const ce = ConnectError.from(error);
  const detail = ce.rawMessage || ce.message;
  const causes = causeChain(error);
  const codes = new Set(
    causes.map((c) => c.code).filter((c): c is string => typeof c === "string"),
  );
  const messages = causes.map((c) => c.message).join(" | ");

  const serverCertCode = [...codes].find((c) => serverCertificateCodes.has(c));
  if (serverCertCode) {
    return {
      disposition: "server-certificate",
      failure: `the aggregator's TLS certificate did not verify (${serverCertCode}): ${detail}`,
      code: ce.code,
    };
  }
  if (clientCertificateRejected.test(messages) || clientCertificateRejected.test(detail)) {
    return {
      disposition: "cannot-heal",
      failure: `the aggregator rejected this collaborator's TLS client certificate: ${detail}`,
      code: ce.code,
    };
  }
  const cannotHeal = cannotHealCodes.get(ce.code);
  if (cannotHeal) {
    return {
      disposition: "cannot-heal",
      failure: `${cannotHeal}: ${Code[ce.code]} ${detail}`,
      code: ce.code,
    };
  }
  const connectionCode = [...codes].find((c) => connectionCodes.has(c));
  if (connectionCode) {
    return {
      disposition: "retry",
      failure: `connection failed (${connectionCode}): ${detail}`,
      code: ce.code,
    };
  }
  if (isBrowserNetworkFailure(causes)) {
    return { disposition: "retry", failure: `network request failed: ${detail}`, code: ce.code };
  }
  switch (ce.code) {
    case Code.Unavailable:
      return { disposition: "retry", failure: `aggregator unavailable: ${detail}`, code: ce.code };
    case Code.DeadlineExceeded:
      return {
        disposition: "retry",
        failure: `call stalled past its deadline: ${detail}`,
        code: ce.code,
      };
    case Code.Canceled:
      // The caller's own cancellation never gets here (the client checks its signal first),
      // so this is the peer or a proxy resetting the stream (RST_STREAM CANCEL): transient.
      return {
        disposition: "retry",
        failure: `stream reset by the peer: ${detail}`,
        code: ce.code,
      };
    default:
      return {
        disposition: "retry-bounded",
        failure: `${Code[ce.code] ?? "Unknown"}: ${detail}`,
        code: ce.code,
      };
  }
}

interface CauseInfo {
  readonly code: unknown;
  readonly message: string;
  readonly name: string;
}

function causeChain(error: unknown): CauseInfo[] {
  const chain: CauseInfo[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    chain.push({
      code: (current as { code?: unknown }).code,
      message: current.message,
      name: current.name,
    });
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** fetch() rejects with a TypeError when the network or the CORS check fails. */
function isBrowserNetworkFailure(causes: readonly CauseInfo[]): boolean {
  return causes.some((c) => c.name === "TypeError" && /fetch|network/i.test(c.message));
}
