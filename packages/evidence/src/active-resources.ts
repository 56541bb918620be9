// Checks that a test leaves no sockets, servers or timers behind.

/** Counts of `process.getActiveResourcesInfo()` by resource type. */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

/** Resource types present now in larger numbers than in `before`. */
export function leakedSince(before: Map<string, number>): Record<string, number> {
  const leaked: Record<string, number> = {};
  for (const [type, n] of activeResources()) {
    const extra = n - (before.get(type) ?? 0);
    if (extra > 0) leaked[type] = extra;
  }
  return leaked;
}

/**
 * Waits (up to `timeoutMs`) until nothing is left over compared with `before`; returns what is
 * still left after the wait (empty object = no leak). Closed sockets need a few ticks to go.
 */
export async function waitForNoLeaks(
  before: Map<string, number>,
  timeoutMs = 3000,
): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const leaked = leakedSince(before);
    if (Object.keys(leaked).length === 0 || Date.now() > deadline) return leaked;
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Two-step check. Sockets and servers must be gone within `socketsMs`. Timers may linger until
 * `timersMs`: the reference aggregator (connect-node's handler) keeps the deadline timer of a
 * call whose stream was reset until that deadline passes; it then fires harmlessly.
 */
export async function leftoversAfterClose(
  before: Map<string, number>,
  socketsMs: number,
  timersMs: number,
): Promise<{
  sockets: Record<string, number>;
  timers: Record<string, number>;
  timersGoneMs: number;
}> {
  const t0 = Date.now();
  await waitForNoLeaks(before, socketsMs);
  const sockets = leakedSince(before);
  delete sockets.Timeout;
  const timers = await waitForNoLeaks(before, timersMs);
  return { sockets, timers, timersGoneMs: Date.now() - t0 };
}
