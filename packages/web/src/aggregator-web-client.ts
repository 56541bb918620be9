import {
  AggregatorClient,
  type AggregatorClientOptions,
  InvalidOptionError,
} from "@openfl-connect/core";
import { WebConnector, type WebConnectorSettings } from "./web-connector.js";

/**
 * Options of the browser client: the core client's options (identity, retry, resend
 * buffer) plus where the gRPC-web proxy is. There are no certificate options: the
 * proxy holds the collaborator's certificate and key, and a page cannot change which
 * CAs the browser trusts (so no refetchServerCertificate either). No uploadChunkBytes: gRPC-web
 * sends an upload as one message.
 */
export interface AggregatorWebClientOptions
  extends Omit<
      AggregatorClientOptions,
      "connector" | "refetchServerCertificate" | "uploadChunkBytes"
    >,
    WebConnectorSettings {}

/**
 * OpenFL's collaborator-side AggregatorGRPCClient for browsers: gRPC-web through a proxy.
 * Retry and resend-on-reconnection behave exactly as in the core client.
 */
export class AggregatorWebClient extends AggregatorClient {
  constructor(options: AggregatorWebClientOptions) {
    super({ ...options, connector: createWebConnector(options) });
  }
}

/** Validates the transport options and builds the connector. Throws InvalidOptionError. */
export function createWebConnector(options: AggregatorWebClientOptions): WebConnector {
  if (typeof options !== "object" || options === null)
    throw new InvalidOptionError("options", "an object", options);
  if ("refetchServerCertificate" in options && options.refetchServerCertificate !== undefined) {
    throw new InvalidOptionError(
      "refetchServerCertificate",
      "nothing (a browser cannot change which CAs it trusts; the proxy verifies the aggregator)",
      (options as { refetchServerCertificate: unknown }).refetchServerCertificate,
    );
  }
  if ("uploadChunkBytes" in options && options.uploadChunkBytes !== undefined) {
    throw new InvalidOptionError(
      "uploadChunkBytes",
      "nothing (gRPC-web sends an upload as one message, as the proxy forwards it)",
      (options as { uploadChunkBytes: unknown }).uploadChunkBytes,
    );
  }
  if (!isHttpUrl(options.proxyUrl)) {
    throw new InvalidOptionError(
      "proxyUrl",
      "an http:// or https:// URL of the gRPC-web proxy",
      options.proxyUrl,
    );
  }
  if (options.fetch !== undefined && typeof options.fetch !== "function") {
    throw new InvalidOptionError("fetch", "a function", options.fetch);
  }
  return new WebConnector({
    proxyUrl: options.proxyUrl.replace(/\/+$/, ""),
    fetch: options.fetch,
    interceptors: options.interceptors,
  });
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== "string") return false;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
