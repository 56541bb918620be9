import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_TIMER_MS } from "./abortable-sleep.js";
import { InvalidOptionError } from "./errors.js";
import {
  backoffDelayMs,
  CallRetries,
  defaultRetryPolicy,
  INTERACTIVE_RETRY,
  type RetryRules,
  resolveRetryPolicy,
} from "./retry-policy.js";

describe("retry policy", () => {
  it("defaults to OpenFL's constant 1 s interval, retrying transient failures without limit", () => {
    const p = resolveRetryPolicy(undefined);
    assert.equal(p.backoff, "constant");
    assert.equal(backoffDelayMs(p, 1), 1000);
    assert.equal(backoffDelayMs(p, 50), 1000);
    assert.equal(p.maxAttempts, Number.POSITIVE_INFINITY);
    assert.equal(p.ambiguousFailureAttempts, 3);
  });

  it("grows exponential waits with full jitter up to the cap", () => {
    const p = resolveRetryPolicy({ backoff: "exponential", intervalMs: 100, maxIntervalMs: 1000 });
    assert.equal(
      backoffDelayMs(p, 1, () => 0.999),
      99,
    );
    assert.equal(
      backoffDelayMs(p, 3, () => 0.5),
      200,
    );
    assert.equal(
      backoffDelayMs(p, 20, () => 0.999),
      999,
    );
    assert.equal(
      backoffDelayMs(p, 20, () => 0),
      0,
    );
  });

  it("rejects wrong types and ranges, naming the option", () => {
    const bad: [object, string][] = [
      [{ backoff: "linear" }, "retry.backoff"],
      [{ intervalMs: -1 }, "retry.intervalMs"],
      [{ intervalMs: "5" }, "retry.intervalMs"],
      [{ maxAttempts: 0 }, "retry.maxAttempts"],
      [{ maxAttempts: 1.5 }, "retry.maxAttempts"],
      [{ retryOnAnyError: "yes" }, "retry.retryOnAnyError"],
      [{ attemptTimeoutMs: 0 }, "retry.attemptTimeoutMs"],
    ];
    for (const [options, name] of bad) {
      assert.throws(
        () => resolveRetryPolicy(options as never),
        (e: unknown) =>
          e instanceof InvalidOptionError && e.option === name && e.message.includes(name),
        name,
      );
    }
  });

  it("refuses a wait or deadline longer than one timer holds, naming the maximum (a longer timer fires at once)", () => {
    for (const option of ["intervalMs", "maxIntervalMs", "attemptTimeoutMs"] as const) {
      for (const value of [MAX_TIMER_MS + 1, Number.POSITIVE_INFINITY]) {
        assert.throws(
          () => resolveRetryPolicy({ [option]: value }),
          (e: unknown) =>
            e instanceof InvalidOptionError &&
            e.option === `retry.${option}` &&
            e.message.includes(`to ${MAX_TIMER_MS}`),
          `${option} = ${value}`,
        );
      }
      assert.equal(resolveRetryPolicy({ [option]: MAX_TIMER_MS })[option], MAX_TIMER_MS);
    }
  });

  it("keeps defaults for fields given as undefined", () => {
    assert.deepEqual(resolveRetryPolicy({ intervalMs: undefined }), defaultRetryPolicy);
  });
});

describe("one call's retry budget (CallRetries)", () => {
  const rules = (over: Partial<RetryRules> = {}, policy = {}): RetryRules => ({
    policy: resolveRetryPolicy({ intervalMs: 100, ...policy }),
    resendDataOnReconnection: true,
    canRefetchServerCertificate: false,
    ...over,
  });

  it("retries transient failures with the back-off's wait, counting attempts from 1", () => {
    const retries = new CallRetries(rules());
    assert.deepEqual(retries.afterFailure("retry"), { delayMs: 100, attempt: 1 });
    assert.deepEqual(retries.afterFailure("retry"), { delayMs: 100, attempt: 2 });
  });

  it("gives up at once on what cannot heal, and on anything when resending is off", () => {
    assert.equal(new CallRetries(rules()).afterFailure("cannot-heal").giveUp, "cannot-heal");
    const off = new CallRetries(rules({ resendDataOnReconnection: false }));
    assert.deepEqual(off.afterFailure("retry"), { giveUp: "retry-disabled", attempt: 1 });
    // cannot-heal is named before retry-disabled: it says more.
    assert.equal(
      new CallRetries(rules({ resendDataOnReconnection: false })).afterFailure("cannot-heal")
        .giveUp,
      "cannot-heal",
    );
  });

  it("spends the ambiguous budget only on ambiguous failures", () => {
    const retries = new CallRetries(rules({}, { ambiguousFailureAttempts: 2 }));
    assert.equal(retries.afterFailure("retry-bounded").giveUp, undefined);
    assert.equal(retries.afterFailure("retry").giveUp, undefined);
    assert.deepEqual(retries.afterFailure("retry-bounded"), {
      giveUp: "ambiguous-budget",
      attempt: 3,
    });
  });

  it("stops at maxAttempts, and when the next wait would pass maxElapsedMs", () => {
    const attempts = new CallRetries(rules({}, { maxAttempts: 2 }));
    assert.equal(attempts.afterFailure("retry").giveUp, undefined);
    assert.deepEqual(attempts.afterFailure("retry"), { giveUp: "max-attempts", attempt: 2 });
    let now = 1000;
    const elapsed = new CallRetries(rules({}, { maxElapsedMs: 250 }), () => now);
    now += 100;
    assert.equal(elapsed.afterFailure("retry").giveUp, undefined); // 100 + 100 <= 250
    now += 100;
    assert.equal(elapsed.afterFailure("retry").giveUp, "max-elapsed"); // 200 + 100 > 250
  });

  it("treats a certificate that does not verify as ambiguous only when it can be refetched", () => {
    assert.equal(new CallRetries(rules()).disposition("server-certificate"), "cannot-heal");
    const refetch = new CallRetries(rules({ canRefetchServerCertificate: true }));
    assert.equal(refetch.disposition("server-certificate"), "retry-bounded");
  });

  it("retries everything with retryOnAnyError, as OpenFL's resend loop does", () => {
    const any = new CallRetries(rules({}, { retryOnAnyError: true }));
    assert.equal(any.disposition("cannot-heal"), "retry");
    assert.equal(any.afterFailure("cannot-heal").giveUp, undefined);
  });
});

describe("retry policy: each refusal says what was expected, at the edge of each range", () => {
  const refusal = (options: unknown) => {
    try {
      resolveRetryPolicy(options as never);
    } catch (e) {
      assert.ok(e instanceof InvalidOptionError);
      return [e.option, e.expected];
    }
    return assert.fail(`accepted ${JSON.stringify(options)}`);
  };
  const timer = `a number of milliseconds from 0 to ${MAX_TIMER_MS} (about 24.8 days, the longest timer)`;

  it("names the expected value of every field", () => {
    assert.deepEqual(refusal(null), ["retry", "an object"]);
    assert.deepEqual(refusal("fast"), ["retry", "an object"]);
    assert.deepEqual(refusal({ backoff: "linear" }), [
      "retry.backoff",
      '"constant" or "exponential"',
    ]);
    assert.deepEqual(refusal({ intervalMs: -1 }), ["retry.intervalMs", timer]);
    assert.deepEqual(refusal({ maxIntervalMs: -1 }), ["retry.maxIntervalMs", timer]);
    assert.deepEqual(refusal({ maxElapsedMs: -1 }), [
      "retry.maxElapsedMs",
      "a number >= 0 (milliseconds)",
    ]);
    assert.deepEqual(refusal({ maxElapsedMs: Number.NaN }), [
      "retry.maxElapsedMs",
      "a number >= 0 (milliseconds)",
    ]);
    assert.deepEqual(refusal({ maxElapsedMs: "60000" }), [
      "retry.maxElapsedMs",
      "a number >= 0 (milliseconds)",
    ]);
    assert.deepEqual(refusal({ ambiguousFailureAttempts: 0 }), [
      "retry.ambiguousFailureAttempts",
      "a whole number >= 1 (or Infinity)",
    ]);
    assert.deepEqual(refusal({ retryOnAnyError: 1 }), ["retry.retryOnAnyError", "a boolean"]);
    assert.deepEqual(refusal({ attemptTimeoutMs: -1 }), ["retry.attemptTimeoutMs", timer]);
    assert.deepEqual(refusal({ attemptTimeoutMs: 0 }), ["retry.attemptTimeoutMs", "> 0"]);
  });

  it("accepts the lowest value of each range: 0 ms waits and budgets, 1 attempt, 1 ms deadline", () => {
    const p = resolveRetryPolicy({
      intervalMs: 0,
      maxIntervalMs: 0,
      maxElapsedMs: 0,
      maxAttempts: 1,
      ambiguousFailureAttempts: 1,
      attemptTimeoutMs: 1,
    });
    assert.deepEqual(
      [p.intervalMs, p.maxIntervalMs, p.maxElapsedMs, p.maxAttempts, p.ambiguousFailureAttempts],
      [0, 0, 0, 1, 1],
    );
    assert.equal(p.attemptTimeoutMs, 1);
    assert.equal(
      resolveRetryPolicy({ maxElapsedMs: Number.POSITIVE_INFINITY }).maxElapsedMs,
      Number.POSITIVE_INFINITY,
    );
  });

  it("gives up when the next wait would end past maxElapsedMs, not when it ends exactly on it", () => {
    let now = 0;
    const policy = resolveRetryPolicy({ intervalMs: 100, maxElapsedMs: 300 });
    const retries = new CallRetries(
      { policy, resendDataOnReconnection: true, canRefetchServerCertificate: false },
      () => now,
    );
    now = 200;
    assert.deepEqual(retries.afterFailure("retry"), { delayMs: 100, attempt: 1 }); // ends at 300
    now = 201;
    assert.deepEqual(retries.afterFailure("retry"), { giveUp: "max-elapsed", attempt: 2 });
  });

  it("INTERACTIVE_RETRY: three attempts a second apart, for a person waiting", () => {
    const p = resolveRetryPolicy(INTERACTIVE_RETRY);
    assert.equal(p.maxAttempts, 3);
    assert.equal(backoffDelayMs(p, 1), 1000);
  });
});
