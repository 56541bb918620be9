// @openfl-connect/web: what an application uses. The building blocks under it (the connector,
// the fetch wrappers, the reading of browser failures) are `@openfl-connect/web/internal`.
export {
  AggregatorWebClient,
  type AggregatorWebClientOptions,
} from "./aggregator-web-client.js";
export {
  type FailedRequest,
  IndexedDbResendBuffer,
  type IndexedDbResendBufferOptions,
} from "./indexed-db-resend-buffer.js";
export {
  ResendStoreError,
  ResendStoreLockedError,
  ResendStoreQuotaError,
} from "./resend-store-errors.js";
export type { WebConnectorSettings } from "./web-connector.js";
export { createXhrFetch, type UploadProgress, type XhrFetchOptions } from "./xhr-fetch.js";
