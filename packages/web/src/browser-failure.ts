import { causeChain, type PlatformFailure } from "@openfl-connect/core/internal";

/**
 * fetch()'s TypeError messages for a failed network request or CORS check: Chromium "Failed to
 * fetch", Firefox "NetworkError when attempting to fetch resource.", Safari "Load failed" (and
 * "The network connection was lost."), Node "fetch failed", createXhrFetch "Failed to fetch <url>".
 */
const NETWORK_FAILURE = /fetch|network|load failed/i;

/**
 * What a failure's browser cause means (the adapter's `classifyPlatformFailure`): fetch()
 * rejects with a TypeError when the network or the CORS check fails; the page cannot tell which.
 */
export function classifyBrowserFailure(error: unknown): PlatformFailure | undefined {
  const networkFailure = causeChain(error).some(
    (c) => c.name === "TypeError" && NETWORK_FAILURE.test(c.message),
  );
  return networkFailure ? { t: "connection", failure: "network request failed" } : undefined;
}
