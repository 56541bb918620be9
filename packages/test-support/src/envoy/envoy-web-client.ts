// The browser's client as the Envoy specs use it: the web client through the test Envoy, with a
// test token in the Authorization header and one attempt (a refusal is the result, not a retry).
import type { Interceptor } from "@connectrpc/connect";
import { AggregatorWebClient } from "@openfl-connect/web";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "../reference-federation.js";
import type { RunningEnvoy } from "./start-envoy.js";

/** Sends `token` as `Authorization: Bearer <token>`. */
export function bearer(token: string): Interceptor {
  return (next) => (request) => {
    request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };
}

/** The web client through `envoy` as `collaboratorName`, carrying `token`. */
export function envoyWebClient(
  envoy: RunningEnvoy,
  token: string,
  collaboratorName: string,
): AggregatorWebClient {
  return new AggregatorWebClient({
    proxyUrl: envoy.proxyUrl,
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    collaboratorName,
    retry: { intervalMs: 10, maxAttempts: 1 },
    interceptors: [bearer(token)],
  });
}
