// @openfl-connect/web/internal: the building blocks of AggregatorWebClient (the connector, the
// fetch wrappers, the reading of browser failures), for tools built on it. Not for
// applications, and not kept under semantic versioning.
export { createWebConnector } from "./aggregator-web-client.js";
export { classifyBrowserFailure } from "./browser-failure.js";
export { withConnectionSignal } from "./connection-signal.js";
export { withSingleMessageClientStreams } from "./single-message-streams.js";
export { WebConnector } from "./web-connector.js";
export { parseResponseHeaders } from "./xhr-fetch.js";
