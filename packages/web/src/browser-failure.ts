import { causeChain, type PlatformFailure } from "@openfl-connect/core/internal";

/**
 * What a failure's browser cause means (the adapter's `classifyPlatformFailure`): fetch()
 * rejects with a TypeError when the network or the CORS check fails; the page cannot tell which.
 */
export function classifyBrowserFailure(error: unknown): PlatformFailure | undefined {
  const networkFailure = causeChain(error).some(
    (c) => c.name === "TypeError" && /fetch|network/i.test(c.message),
  );
  return networkFailure ? { t: "connection", failure: "network request failed" } : undefined;
}
