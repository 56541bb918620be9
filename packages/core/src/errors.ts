import { Code } from "@connectrpc/connect";
import type { PlatformFailure } from "./failure-classifier.js";

/** Base of every error this library throws, so callers can catch the family at once. */
export class OpenFLClientError extends Error {
  override name = "OpenFLClientError";
}

/** Why a call stopped retrying. */
export type GiveUpReason =
  | "cannot-heal"
  | "retry-disabled"
  | "max-attempts"
  | "max-elapsed"
  | "ambiguous-budget";

/**
 * A call to the aggregator failed for good: the one type every failed call ends in. `code` is
 * the gRPC status (as a Connect `Code`), `failure` names what went wrong in words, `reason` why
 * no further attempt was made, `platform` what the platform adapter saw under it (a refused
 * connection, a certificate that did not verify, a browser fetch that failed), so callers read
 * the classification instead of walking the cause chain again. `unsentRequest` holds an upload dropped from the resend buffer as
 * the parts it was sent from (protobuf framing and views of the tensors' bytes; `concatParts`
 * joins them), so that nothing is lost and nothing is copied.
 */
export class AggregatorCallError extends OpenFLClientError {
  override name = "AggregatorCallError";
  unsentRequest: readonly Uint8Array[] | undefined;
  /** The platform adapter's reading of the last attempt's failure; undefined: it saw none. */
  readonly platform: PlatformFailure["t"] | undefined;
  constructor(
    readonly rpc: string,
    readonly code: Code,
    readonly failure: string,
    readonly reason: GiveUpReason,
    readonly attempts: number,
    options: { cause: unknown; platform?: PlatformFailure["t"] | undefined },
  ) {
    super(`${rpc} failed after ${attempts} attempt(s) (${reason}): ${failure}`, {
      cause: options.cause,
    });
    this.platform = options.platform;
  }

  /**
   * The aggregator answered with an exception of its own (UNKNOWN or INTERNAL, no transport
   * cause): e.g. OpenFL failing to build a delta whose base round it no longer holds.
   */
  get isServerException(): boolean {
    return (
      (this.code === Code.Unknown || this.code === Code.Internal) && this.platform === undefined
    );
  }
}

/**
 * A response header field differs from what this collaborator expects (OpenFL:
 * validate_response). Never retried: reason "cannot-heal", code Internal (the response breaks
 * the protocol's contract, whatever its gRPC status).
 */
export class HeaderMismatchError extends AggregatorCallError {
  override name = "HeaderMismatchError";
  constructor(
    rpc: string,
    readonly field: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    const failure = `response header field '${field}' is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`;
    super(rpc, Code.Internal, failure, "cannot-heal", 1, { cause: undefined });
    this.message = `${rpc}: ${failure}`;
  }

  /** Our check of its answer failed, not the aggregator. */
  override get isServerException(): boolean {
    return false;
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
