/**
 * The longest delay one JavaScript timer holds: 2^31 - 1 ms (about 24.8 days). A longer delay
 * given to setTimeout does not wait at all (Node fires it after 1 ms), so every wait whose
 * length comes from a user or a server goes through abortableSleep or stays below this.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Waits `ms` (any length; Infinity waits until the signal aborts), or rejects with the
 * signal's reason as soon as it aborts. Leaves no timer behind. A delay longer than one timer
 * holds is waited in steps of MAX_TIMER_MS. NaN or a negative delay rejects with a RangeError.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (typeof ms !== "number" || Number.isNaN(ms) || ms < 0) {
    return Promise.reject(
      new RangeError(`abortableSleep: expected a delay in ms >= 0 (or Infinity), got ${ms}`),
    );
  }
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let remaining = ms;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const arm = () => {
      const step = Math.min(remaining, MAX_TIMER_MS);
      remaining -= step;
      timer = setTimeout(() => {
        if (remaining > 0) {
          arm();
          return;
        }
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, step);
    };
    arm();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
