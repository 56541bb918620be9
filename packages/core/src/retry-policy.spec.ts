import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_TIMER_MS } from "./abortable-sleep.js";
import { InvalidOptionError } from "./errors.js";
import {
  backoffDelayMs,
  CallRetries,
  defaultRetryPolicy,
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
