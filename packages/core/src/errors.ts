import type { Code } from "@connectrpc/connect";

/** Base of every error this library throws, so callers can catch the family at once. */
export class OpenFLClientError extends Error {
  override name = "OpenFLClientError";
}

/** A response header field differs from what this collaborator expects. Never retried. */
export class HeaderMismatchError extends OpenFLClientError {
  override name = "HeaderMismatchError";
  /** For an upload: the serialized request, no longer in the resend buffer. */
  unsentRequest: Uint8Array | undefined;
  constructor(
    readonly rpc: string,
    readonly field: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `${rpc}: response header field '${field}' is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`,
    );
  }
}

/** Why a call stopped retrying. */
export type GiveUpReason =
  | "cannot-heal"
  | "retry-disabled"
  | "max-attempts"
  | "max-elapsed"
  | "ambiguous-budget";

/**
 * A call to the aggregator failed for good. `code` is the gRPC status (as a Connect
 * `Code`), `failure` names what went wrong in words, `reason` why no further attempt
 * was made. `unsentRequest` holds the serialized request when it was dropped from the
 * resend buffer, so that nothing is lost.
 */
export class AggregatorCallError extends OpenFLClientError {
  override name = "AggregatorCallError";
  unsentRequest: Uint8Array | undefined;
  constructor(
    readonly rpc: string,
    readonly code: Code,
    readonly failure: string,
    readonly reason: GiveUpReason,
    readonly attempts: number,
    options: { cause: unknown },
  ) {
    super(`${rpc} failed after ${attempts} attempt(s) (${reason}): ${failure}`, options);
  }
}

/** A certificate, key or CA file that cannot be used. Raised at construction. */
export class CertificateLoadError extends OpenFLClientError {
  override name = "CertificateLoadError";
  constructor(
    /** Which option the file was given for, e.g. "certificate". */
    readonly option: string,
    readonly file: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${option} (${file}): ${problem}`, options);
  }
}

/** An option of the wrong type or out of range. Raised at construction. */
export class InvalidOptionError extends OpenFLClientError {
  override name = "InvalidOptionError";
  constructor(
    readonly option: string,
    readonly expected: string,
    readonly actual: unknown,
  ) {
    super(`option '${option}': expected ${expected}, got ${describeValue(actual)}`);
  }
}

/** A NamedTensor that cannot be decoded with the default (no compression) pipeline. */
export class TensorCodecError extends OpenFLClientError {
  override name = "TensorCodecError";
}

function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "string")
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null || typeof value !== "object") return `${typeof value} ${String(value)}`;
  return `an object (${Object.keys(value).slice(0, 5).join(", ")})`;
}
