import type { AggregatorConnector } from "./aggregator-connection.js";
import { isChunkSize, OPENFL_CHUNK_BYTES } from "./datastream-chunks.js";
import { InvalidOptionError } from "./errors.js";
import type { CollaboratorIdentity } from "./message-header.js";
import { InMemoryResendBuffer, type ResendBuffer } from "./resend-buffer.js";
import {
  type ResolvedRetryPolicy,
  type RetryEvent,
  type RetryOptions,
  resolveRetryPolicy,
} from "./retry-policy.js";

/** Options of the transport-agnostic client. Identity fields: see CollaboratorIdentity. */
export interface AggregatorClientOptions extends CollaboratorIdentity {
  /** Opens channels to the aggregator; given by the node or web adapter. */
  readonly connector: AggregatorConnector;
  /** A fresh channel for every call, closed after it. Default false (OpenFL: enable_atomic_connections). */
  readonly enableAtomicConnections?: boolean;
  /**
   * Keep each request until acknowledged and resend it after a transient failure.
   * Default true (OpenFL: resend_data_on_reconnection). False: every failure surfaces at once.
   */
  readonly resendDataOnReconnection?: boolean;
  /** When and how often to resend. Defaults: see RetryOptions. */
  readonly retry?: RetryOptions;
  /**
   * Called before each resend; returns the new root certificate (a path or PEM text, as the
   * adapter expects) which the adapter trusts from then on. May be async. Default none
   * (OpenFL: refetch_server_cert_callback). With it, a server certificate that does not
   * verify is retried within retry.ambiguousFailureAttempts; without it, it surfaces at once.
   */
  readonly refetchServerCertificate?: () => string | Promise<string>;
  /** Largest DataStream chunk of an upload, in bytes. Default 2 MiB (OpenFL's chunk size). */
  readonly uploadChunkBytes?: number;
  /** Where uploads wait for acknowledgement. Default in memory. */
  readonly resendBuffer?: ResendBuffer;
  /** Told before every resend (for logs). */
  readonly onRetry?: (event: RetryEvent) => void;
}

export interface ResolvedClientOptions extends CollaboratorIdentity {
  readonly connector: AggregatorConnector;
  readonly enableAtomicConnections: boolean;
  readonly resendDataOnReconnection: boolean;
  readonly retry: ResolvedRetryPolicy;
  readonly refetchServerCertificate: (() => string | Promise<string>) | undefined;
  readonly uploadChunkBytes: number;
  readonly resendBuffer: ResendBuffer;
  readonly onRetry: ((event: RetryEvent) => void) | undefined;
}

/** Validates every option (type and range) and fills in defaults. Throws InvalidOptionError. */
export function resolveClientOptions(options: AggregatorClientOptions): ResolvedClientOptions {
  if (typeof options !== "object" || options === null)
    throw new InvalidOptionError("options", "an object", options);
  const o = options;
  nonEmptyString("aggregatorUuid", o.aggregatorUuid);
  nonEmptyString("federationUuid", o.federationUuid);
  nonEmptyString("collaboratorName", o.collaboratorName);
  if (o.singleColCertCommonName !== undefined && typeof o.singleColCertCommonName !== "string") {
    throw new InvalidOptionError("singleColCertCommonName", "a string", o.singleColCertCommonName);
  }
  if (
    typeof o.connector !== "object" ||
    o.connector === null ||
    typeof o.connector.open !== "function"
  ) {
    throw new InvalidOptionError("connector", "an AggregatorConnector (with open())", o.connector);
  }
  optionalBoolean("enableAtomicConnections", o.enableAtomicConnections);
  optionalBoolean("resendDataOnReconnection", o.resendDataOnReconnection);
  optionalFunction("refetchServerCertificate", o.refetchServerCertificate);
  optionalFunction("onRetry", o.onRetry);
  if (o.uploadChunkBytes !== undefined && !isChunkSize(o.uploadChunkBytes)) {
    throw new InvalidOptionError(
      "uploadChunkBytes",
      "a whole number of bytes > 0, or Infinity",
      o.uploadChunkBytes,
    );
  }
  if (
    o.resendBuffer !== undefined &&
    (typeof o.resendBuffer !== "object" || typeof o.resendBuffer?.add !== "function")
  ) {
    throw new InvalidOptionError(
      "resendBuffer",
      "a ResendBuffer (add, acknowledge, list)",
      o.resendBuffer,
    );
  }
  return {
    aggregatorUuid: o.aggregatorUuid,
    federationUuid: o.federationUuid,
    collaboratorName: o.collaboratorName,
    singleColCertCommonName: o.singleColCertCommonName ?? "",
    connector: o.connector,
    enableAtomicConnections: o.enableAtomicConnections ?? false,
    resendDataOnReconnection: o.resendDataOnReconnection ?? true,
    retry: resolveRetryPolicy(o.retry),
    refetchServerCertificate: o.refetchServerCertificate,
    uploadChunkBytes: o.uploadChunkBytes ?? OPENFL_CHUNK_BYTES,
    resendBuffer: o.resendBuffer ?? new InMemoryResendBuffer(),
    onRetry: o.onRetry,
  };
}

function nonEmptyString(option: string, value: unknown): void {
  if (typeof value !== "string" || value === "")
    throw new InvalidOptionError(option, "a non-empty string", value);
}

function optionalBoolean(option: string, value: unknown): void {
  if (value !== undefined && typeof value !== "boolean")
    throw new InvalidOptionError(option, "a boolean", value);
}

function optionalFunction(option: string, value: unknown): void {
  if (value !== undefined && typeof value !== "function")
    throw new InvalidOptionError(option, "a function", value);
}
