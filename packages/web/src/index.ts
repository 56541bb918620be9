export {
  AggregatorWebClient,
  type AggregatorWebClientOptions,
  createWebConnector,
} from "./aggregator-web-client.js";
export { classifyBrowserFailure } from "./browser-failure.js";
export { withConnectionSignal } from "./connection-signal.js";
export {
  type FailedRequest,
  IndexedDbResendBuffer,
  type IndexedDbResendBufferOptions,
  ResendStoreError,
  ResendStoreLockedError,
  ResendStoreQuotaError,
} from "./indexed-db-resend-buffer.js";
export { withSingleMessageClientStreams } from "./single-message-streams.js";
export { WebConnector, type WebConnectorSettings } from "./web-connector.js";
export {
  createXhrFetch,
  parseResponseHeaders,
  type UploadProgress,
  type XhrFetchOptions,
} from "./xhr-fetch.js";
