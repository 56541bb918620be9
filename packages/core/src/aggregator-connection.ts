import type { Transport } from "@connectrpc/connect";
import type { PlatformFailure, PlatformFailureClassifier } from "./failure-classifier.js";

/** One channel to the aggregator (OpenFL: a gRPC channel). */
export interface AggregatorConnection {
  readonly transport: Transport;
  /** Closes the channel and its sockets; pending calls on it fail. */
  close(): Promise<void>;
}

/**
 * What an adapter (node, web) gives the core client: a way to open channels. The core
 * decides when: once and again after a failure, or per call with atomic connections.
 */
export interface AggregatorConnector {
  /** Where it connects, for messages, e.g. "localhost:50051". */
  readonly target: string;
  open(): AggregatorConnection;
  /**
   * Trust this root certificate (what OpenFL's refetch_server_cert_callback returns: a
   * path, or PEM text) for channels opened from now on. Adapters that cannot change
   * trust (a browser) leave it out.
   */
  useRootCertificate?(rootCertificate: string): void | Promise<void>;
  /**
   * Largest DataStream chunk this path carries. Default: the client's uploadChunkBytes.
   * gRPC-web sends an upload as a single message, so its adapter sets Infinity.
   */
  readonly uploadChunkBytes?: number;
  /**
   * What this platform's transport errors mean (errno codes, TLS alerts, fetch TypeErrors), read
   * before the gRPC code. Default: gRPC codes only.
   */
  readonly classifyPlatformFailure?: PlatformFailureClassifier;
  /**
   * Called at most once per call, when an attempt ended in a stream reset the platform could
   * not explain (see `Classification.unexplainedReset`). The adapter probes the aggregator with
   * fresh connections and reports a failure that cannot heal (a refused client certificate,
   * clear text against TLS), or undefined when the aggregator answered (the reset was passing).
   */
  diagnoseReset?(signal?: AbortSignal): Promise<PlatformFailure | undefined>;
  /**
   * RPCs whose responses carry no MessageHeader on this path, so there is nothing to validate:
   * OpenFL's REST server acknowledges an upload with `{"status": "success"}` alone. Default
   * none: every response header is checked (gRPC).
   */
  readonly headerlessResponses?: ReadonlySet<string>;
}
