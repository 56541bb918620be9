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
  /** What the platform adapter saw under the failure, when it recognised anything. */
  readonly platform?: PlatformFailure;
  /**
   * The stream was reset (CANCEL) and the platform saw no transport cause. An aggregator that
   * drops every new connection looks like this (a grpcio server refusing a TLS 1.3 client
   * certificate; a TLS server spoken to in clear text), so the client asks the adapter to
   * diagnose it once (`AggregatorConnector.diagnoseReset`).
   */
  readonly unexplainedReset?: true;
}

/**
 * What a platform adapter makes of a failure's transport cause (a Node errno, an OpenSSL alert,
 * a browser fetch TypeError); core itself knows only gRPC codes.
 * - "connection": the connection broke or was refused: transient;
 * - "server-certificate": our verification of the server's certificate failed;
 * - "client-certificate-refused": the server refused our client certificate;
 * - "protocol-mismatch": the two ends speak different protocols (clear text against TLS).
 * `failure` says so in words, e.g. "connection failed (ECONNRESET)".
 */
export interface PlatformFailure {
  readonly t:
    | "connection"
    | "server-certificate"
    | "client-certificate-refused"
    | "protocol-mismatch";
  readonly failure: string;
}

/** An adapter's reading of a failure; undefined when the cause means nothing to it. */
export type PlatformFailureClassifier = (error: unknown) => PlatformFailure | undefined;

/**
 * Whether an UNAUTHENTICATED answer came from a proxy's token check rather than from the
 * aggregator: Envoy's jwt_authn says "Jwt is expired", "Jwt is missing", "Jwt verification
 * fails", "Jwks remote fetch is failed", ... The aggregator's refusals never name a JWT.
 */
export function isAccessTokenRefusal(message: string): boolean {
  return /\bjw[tk]s?\b/i.test(message);
}

/**
 * Texts of OpenFL 1.9's server (aggregator_server.py check_request; Aggregator
 * get_aggregated_tensor) for requests that fail the same way every time.
 */
const OPENFL_DETERMINISTIC_REFUSALS: readonly { pattern: RegExp; meaning: string }[] = [
  {
    pattern: /Receiver in request header does not match aggregator UUID/,
    meaning: "the aggregator runs another plan (its aggregator uuid differs from ours)",
  },
  {
    pattern: /Federation UUID in request header does not match/,
    meaning: "the aggregator runs another plan (its federation uuid differs from ours)",
  },
  {
    pattern: /Sender in request header is not authorized/,
    meaning: "this collaborator is not an authorised collaborator of the federation (cols.yaml)",
  },
  {
    pattern: /Aggregator does not have an aggregated tensor for/,
    meaning: "the aggregator does not hold this tensor (it waited 60 s for it)",
  },
];

/**
 * Texts of OpenFL 1.9's REST server (transport/rest/aggregator_server.py: _is_authorized,
 * _validate_task_headers), which refuses with HTTP 401 (read as UNAUTHENTICATED) what its gRPC
 * server refuses with UNKNOWN and the texts above.
 */
const OPENFL_REST_IDENTITY_REFUSALS: readonly { pattern: RegExp; meaning: string }[] = [
  {
    pattern: /Header receiver mismatch/,
    meaning: "the aggregator runs another plan (its aggregator uuid differs from ours)",
  },
  {
    pattern: /Federation UUID mismatch/,
    meaning: "the aggregator runs another plan (its federation uuid differs from ours)",
  },
  {
    pattern: /Unauthorized collaborator/,
    meaning: "this collaborator is not an authorised collaborator of the federation (cols.yaml)",
  },
  {
    pattern: /Single col cert CN mismatch/,
    meaning:
      "the aggregator's single_col_cert_common_name differs from ours (singleColCertCommonName)",
  },
];

/**
 * OpenFL's server refuses an identity with "Invalid collaborator. CN: |A|
 * collaborator_common_name: |B|" both when the certificate's CN differs from the sender and
 * when they match but the aggregator does not list that collaborator (cols.yaml).
 */
function identityRefusal(detail: string): string {
  const rest = OPENFL_REST_IDENTITY_REFUSALS.find((r) => r.pattern.test(detail));
  if (rest) return rest.meaning;
  const names = /CN: \|([^|]*)\| collaborator_common_name: \|([^|]*)\|/.exec(detail);
  if (names && names[1] === names[2]) {
    return `the aggregator does not list collaborator '${names[1]}' as authorised (its plan/cols.yaml); its certificate CN matches`;
  }
  return cannotHealCodes.get(Code.Unauthenticated) as string;
}

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
 * The one mapping from a failed attempt to what to do next: the platform adapter's reading of
 * the transport cause first (connect-node reports a missing client certificate as Internal and a
 * reset as Aborted), then the gRPC code.
 */
export function classifyFailure(
  error: unknown,
  platform?: PlatformFailureClassifier,
): Classification {
  const ce = ConnectError.from(error);
  const detail = ce.rawMessage || ce.message;
  const seen = platform?.(error);
  const classified = classifyWith(ce, detail, seen);
  return seen === undefined ? classified : { ...classified, platform: seen };
}

function classifyWith(
  ce: ConnectError,
  detail: string,
  seen: PlatformFailure | undefined,
): Classification {
  if (seen?.t === "server-certificate") {
    return {
      disposition: "server-certificate",
      failure: `${seen.failure}: ${detail}`,
      code: ce.code,
    };
  }
  if (seen?.t === "client-certificate-refused" || seen?.t === "protocol-mismatch") {
    return { disposition: "cannot-heal", failure: `${seen.failure}: ${detail}`, code: ce.code };
  }
  const cannotHeal =
    ce.code === Code.Unauthenticated && isAccessTokenRefusal(detail)
      ? "the proxy did not accept the access token (expired, missing, or not issued for it)"
      : ce.code === Code.Unauthenticated
        ? identityRefusal(detail)
        : cannotHealCodes.get(ce.code);
  if (cannotHeal) {
    return {
      disposition: "cannot-heal",
      failure: `${cannotHeal}: ${Code[ce.code]} ${detail}`,
      code: ce.code,
    };
  }
  if (seen?.t === "connection") {
    return { disposition: "retry", failure: `${seen.failure}: ${detail}`, code: ce.code };
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
        unexplainedReset: true,
      };
    default: {
      // OpenFL's server answers some requests that can never succeed with UNKNOWN and a fixed
      // text: a header check (the request is addressed to another plan), or a tensor it still
      // does not hold after waiting 60 s. Resending the same request cannot help.
      const known = OPENFL_DETERMINISTIC_REFUSALS.find((r) => r.pattern.test(detail));
      if (known) {
        return {
          disposition: "cannot-heal",
          failure: `${known.meaning}: ${detail}`,
          code: ce.code,
        };
      }
      return {
        disposition: "retry-bounded",
        failure: `${Code[ce.code] ?? "Unknown"}: ${detail}`,
        code: ce.code,
      };
    }
  }
}

/** One error of a cause chain, as adapters inspect it. */
export interface CauseInfo {
  readonly code: unknown;
  readonly message: string;
  readonly name: string;
}

/** The error and its causes (`cause`, recursively), outermost first. */
export function causeChain(error: unknown): CauseInfo[] {
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
