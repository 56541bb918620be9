import { ResendStoreLockedError } from "./resend-store-errors.js";

/**
 * Takes the database's Web Lock, waiting up to `waitMs`; resolves with its release. Without a
 * LockManager there is nothing to take.
 */
export async function lockResendStore(
  database: string,
  locks: Pick<LockManager, "request"> | undefined,
  waitMs: number,
): Promise<() => void> {
  if (locks === undefined) return () => {};
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  // A timer of our own, not AbortSignal.timeout (whose timer does not keep Node running).
  const stopWaiting = new AbortController();
  const timer = setTimeout(() => stopWaiting.abort(), waitMs);
  try {
    await new Promise<void>((acquired, failed) => {
      locks
        .request(`openfl-connect:${database}`, { signal: stopWaiting.signal }, () => {
          acquired();
          return held;
        })
        .catch((error: unknown) =>
          failed(new ResendStoreLockedError(database, waitMs, { cause: error })),
        );
    });
  } finally {
    clearTimeout(timer);
  }
  return release;
}
