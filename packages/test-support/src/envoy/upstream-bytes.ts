// Test-only: "nothing reached the aggregator", measured on the wire. The attack specs put the
// fault proxy (a TCP relay that counts bytes) between Envoy and the aggregator.
import assert from "node:assert/strict";
import type { FaultProxy } from "../fault-proxy.js";

/**
 * Resolves once no byte has gone towards the aggregator for `quietMs`: the frames that follow
 * an earlier, allowed call on Envoy's upstream connection (WINDOW_UPDATE, SETTINGS ACK) must
 * not be counted against the next attack.
 */
export async function relayQuiet(relay: FaultProxy, quietMs = 250): Promise<void> {
  let last = relay.bytesToServer;
  for (let stillFor = 0; stillFor < quietMs; ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    stillFor = relay.bytesToServer === last ? stillFor + 50 : 0;
    last = relay.bytesToServer;
  }
}

/** Runs `attack` and resolves with its result and the bytes that went towards the aggregator. */
export async function bytesUpstream<T>(
  relay: FaultProxy,
  attack: () => Promise<T>,
): Promise<{ result: T; bytes: number }> {
  await relayQuiet(relay);
  const before = relay.bytesToServer;
  const result = await attack();
  await relayQuiet(relay);
  return { result, bytes: relay.bytesToServer - before };
}

/** Runs `attack` and asserts that not one byte of it reached the aggregator. */
export async function nothingReachesAggregator<T>(
  relay: FaultProxy,
  attack: () => Promise<T>,
): Promise<T> {
  const { result, bytes } = await bytesUpstream(relay, attack);
  assert.equal(bytes, 0, "bytes reached the aggregator");
  return result;
}
