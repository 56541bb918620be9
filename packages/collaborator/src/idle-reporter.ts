import type { Logger } from "./logger.js";

/** How often a collaborator that gets no tasks says so, by default (seconds). */
export const DEFAULT_IDLE_WARNING_SECONDS = 300;

/**
 * Says what a run of "no tasks" answers means: once when it starts (info), then every
 * `warnEveryMs` while it lasts (warn, with how long and the likely reasons). An aggregator whose
 * round cannot end (OpenFL's fails a round on an exception and then answers "no tasks" forever)
 * would otherwise keep the collaborator polling without a word.
 */
export class IdleReporter {
  readonly #log: Logger;
  readonly #warnEveryMs: number;
  readonly #now: () => number;
  #since: number | undefined;
  #lastWarning = 0;

  constructor(log: Logger, warnEveryMs: number, now: () => number = Date.now) {
    if (!(warnEveryMs > 0)) {
      throw new RangeError(`idleWarningSeconds must be > 0, got ${warnEveryMs / 1000}`);
    }
    this.#log = log;
    this.#warnEveryMs = warnEveryMs;
    this.#now = now;
  }

  /** The aggregator answered "no tasks"; the collaborator sleeps `sleepSeconds`. */
  noTasks(round: number, sleepSeconds: number): void {
    const now = this.#now();
    if (this.#since === undefined) {
      this.#since = now;
      this.#lastWarning = now;
      this.#log("info", "no tasks; waiting for the aggregator", { round, sleepSeconds });
      return;
    }
    this.#log("debug", "no tasks; sleeping", { round, sleepSeconds });
    if (now - this.#lastWarning < this.#warnEveryMs) return;
    this.#lastWarning = now;
    this.#log("warn", "still no tasks", {
      round,
      waitingSeconds: Math.round((now - this.#since) / 1000),
      why: "the aggregator waits for other collaborators to finish the round, or the round cannot end; the aggregator's log says which",
    });
  }

  /** Tasks arrived: the wait is over. */
  tasksReceived(): void {
    this.#since = undefined;
  }
}
