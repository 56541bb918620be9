import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_TIMER_MS } from "./abortable-sleep.js";
import { InvalidOptionError } from "./errors.js";
import { backoffDelayMs, defaultRetryPolicy, resolveRetryPolicy } from "./retry-policy.js";

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
