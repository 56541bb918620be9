// The retry policy, all of it: its options and their checks, the back-off, what each kind of
// failure means for the next attempt, when a call gives up, and what is told before a resend.
// The client runs the loop; adapters only classify what failed on their platform.
import { MAX_TIMER_MS } from "./abortable-sleep.js";
import { type GiveUpReason, InvalidOptionError } from "./errors.js";
import type { Disposition } from "./failure-classifier.js";

/** How the client waits and when it stops retrying. Every field is optional. */
export interface RetryOptions {
  /**
   * "constant" waits `intervalMs` before every resend (OpenFL's behaviour);
   * "exponential" doubles the wait from `intervalMs` up to `maxIntervalMs`, with full
   * jitter so that many collaborators do not reconnect in step. Default "constant".
   */
  readonly backoff?: "constant" | "exponential";
  /**
   * Milliseconds before the first resend. Default 1000 (OpenFL's client default for
   * client_reconnect_interval, 1 s; OpenFL's plan default is 5 s). At most MAX_TIMER_MS.
   */
  readonly intervalMs?: number;
  /** Upper bound of an exponential wait, in ms. Default 30000. At most MAX_TIMER_MS. */
  readonly maxIntervalMs?: number;
  /**
   * Attempts per call, the first included. Default Infinity: like OpenFL, transient
   * failures (aggregator down or restarting) are retried until the aggregator is back.
   */
  readonly maxAttempts?: number;
  /** Stop retrying once this many ms have passed since the call began. Default Infinity. */
  readonly maxElapsedMs?: number;
  /**
   * Attempts per call that may end in an ambiguous failure (UNKNOWN or INTERNAL with no
   * transport cause: an OpenFL header assert, an aggregator exception, "Empty stream
   * message", a tensor not yet there) before the server's message is surfaced. Default 3:
   * enough for a passing server error, without looping on a request that is wrong.
   */
  readonly ambiguousFailureAttempts?: number;
  /**
   * Retry every failure except a response header mismatch, exactly like OpenFL's
   * resend_data_on_reconnection (which loops even on UNAUTHENTICATED). Default false.
   */
  readonly retryOnAnyError?: boolean;
  /**
   * Deadline of each attempt in ms; an attempt past it counts as stalled and is retried.
   * Default none (OpenFL sets no deadlines; uploads of 1 GiB may take minutes). At most
   * MAX_TIMER_MS (about 24.8 days): a longer deadline would expire at once.
   */
  readonly attemptTimeoutMs?: number;
}

export type ResolvedRetryPolicy = Required<Omit<RetryOptions, "attemptTimeoutMs">> & {
  readonly attemptTimeoutMs: number | undefined;
};

export const defaultRetryPolicy: ResolvedRetryPolicy = {
  backoff: "constant",
  intervalMs: 1000,
  maxIntervalMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
  maxElapsedMs: Number.POSITIVE_INFINITY,
  ambiguousFailureAttempts: 3,
  retryOnAnyError: false,
  attemptTimeoutMs: undefined,
};

/** Checks every field's type and range; throws InvalidOptionError naming the field. */
export function resolveRetryPolicy(options: RetryOptions | undefined): ResolvedRetryPolicy {
  if (options === undefined) return defaultRetryPolicy;
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionError("retry", "an object", options);
  }
  const policy = { ...defaultRetryPolicy, ...stripUndefined(options) };
  if (policy.backoff !== "constant" && policy.backoff !== "exponential") {
    throw new InvalidOptionError("retry.backoff", '"constant" or "exponential"', policy.backoff);
  }
  timerDelay("retry.intervalMs", policy.intervalMs);
  timerDelay("retry.maxIntervalMs", policy.maxIntervalMs);
  nonNegative("retry.maxElapsedMs", policy.maxElapsedMs);
  atLeastOne("retry.maxAttempts", policy.maxAttempts);
  atLeastOne("retry.ambiguousFailureAttempts", policy.ambiguousFailureAttempts);
  if (typeof policy.retryOnAnyError !== "boolean") {
    throw new InvalidOptionError("retry.retryOnAnyError", "a boolean", policy.retryOnAnyError);
  }
  if (policy.attemptTimeoutMs !== undefined) {
    timerDelay("retry.attemptTimeoutMs", policy.attemptTimeoutMs);
    if (policy.attemptTimeoutMs === 0)
      throw new InvalidOptionError("retry.attemptTimeoutMs", "> 0", 0);
  }
  return policy;
}

/**
 * A person is waiting (a page's button, a CLI's one-off check): three attempts a second apart,
 * then the failure is shown. The default policy instead retries transient failures forever,
 * as OpenFL's collaborator does.
 */
export const INTERACTIVE_RETRY: RetryOptions = { intervalMs: 1000, maxAttempts: 3 };

/** Reported before every resend, for logs and metrics. */
export interface RetryEvent {
  readonly rpc: string;
  /** The attempt that failed (1 = the first). */
  readonly attempt: number;
  readonly delayMs: number;
  readonly failure: string;
}

/** What the client's options make of a classified failure, before budgets are counted. */
export type RetryDisposition = "retry" | "retry-bounded" | "cannot-heal";

/** The client options the give-up rules read besides the policy itself. */
export interface RetryRules {
  readonly policy: ResolvedRetryPolicy;
  /** OpenFL's resend_data_on_reconnection: false gives up at the first failure. */
  readonly resendDataOnReconnection: boolean;
  /** A server certificate that does not verify heals only if it can be refetched. */
  readonly canRefetchServerCertificate: boolean;
}

/** After one failed attempt: give up (and why), or wait `delayMs` and try again. */
export type RetryStep =
  | { readonly giveUp: GiveUpReason; readonly attempt: number }
  | { readonly giveUp?: undefined; readonly delayMs: number; readonly attempt: number };

/**
 * The retry budget of one call: fed each failed attempt's disposition, it says whether to give
 * up or how long to wait. Checked in this order: cannot heal, resend disabled, ambiguous
 * budget, attempts, elapsed time (the wait included).
 */
export class CallRetries {
  readonly #rules: RetryRules;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #started: number;
  #attempts = 0;
  #ambiguousFailures = 0;

  constructor(rules: RetryRules, now: () => number = Date.now, random = Math.random) {
    this.#rules = rules;
    this.#now = now;
    this.#random = random;
    this.#started = now();
  }

  /** The disposition after the options: retryOnAnyError, and a refetchable certificate. */
  disposition(classified: Disposition): RetryDisposition {
    const { policy, canRefetchServerCertificate } = this.#rules;
    if (policy.retryOnAnyError) return "retry";
    if (classified === "server-certificate") {
      return canRefetchServerCertificate ? "retry-bounded" : "cannot-heal";
    }
    return classified;
  }

  /** Counts one failed attempt and decides what follows it. */
  afterFailure(classified: Disposition): RetryStep {
    const attempt = ++this.#attempts;
    const disposition = this.disposition(classified);
    if (disposition === "retry-bounded") this.#ambiguousFailures++;
    const { policy, resendDataOnReconnection } = this.#rules;
    const delayMs = backoffDelayMs(policy, attempt, this.#random);
    const elapsedAfterWaitMs = this.#now() - this.#started + delayMs;
    let giveUp: GiveUpReason | undefined;
    if (disposition === "cannot-heal") giveUp = "cannot-heal";
    else if (!resendDataOnReconnection) giveUp = "retry-disabled";
    else if (this.#ambiguousFailures >= policy.ambiguousFailureAttempts)
      giveUp = "ambiguous-budget";
    else if (attempt >= policy.maxAttempts) giveUp = "max-attempts";
    else if (elapsedAfterWaitMs > policy.maxElapsedMs) giveUp = "max-elapsed";
    return giveUp === undefined ? { delayMs, attempt } : { giveUp, attempt };
  }
}

/** Wait before resend number `retry` (1 = the first resend). `random` is in [0, 1). */
export function backoffDelayMs(
  policy: ResolvedRetryPolicy,
  retry: number,
  random: () => number = Math.random,
): number {
  if (policy.backoff === "constant") return policy.intervalMs;
  const ceiling = Math.min(policy.maxIntervalMs, policy.intervalMs * 2 ** Math.min(retry - 1, 30));
  return Math.floor(random() * ceiling);
}

function nonNegative(option: string, value: unknown): void {
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new InvalidOptionError(option, "a number >= 0 (milliseconds)", value);
  }
}

/** A delay that becomes one timer: at most MAX_TIMER_MS, or the timer would fire at once. */
function timerDelay(option: string, value: unknown): void {
  if (typeof value !== "number" || !(value >= 0 && value <= MAX_TIMER_MS)) {
    throw new InvalidOptionError(
      option,
      `a number of milliseconds from 0 to ${MAX_TIMER_MS} (about 24.8 days, the longest timer)`,
      value,
    );
  }
}

function atLeastOne(option: string, value: unknown): void {
  if (
    typeof value !== "number" ||
    !(value >= 1) ||
    (!Number.isInteger(value) && value !== Number.POSITIVE_INFINITY)
  ) {
    throw new InvalidOptionError(option, "a whole number >= 1 (or Infinity)", value);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
