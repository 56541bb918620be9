import assert from "node:assert/strict";
import { AggregatorCallError } from "@openfl-connect/core";

/** Retry options that stop a regression after a few attempts instead of retrying forever. */
export const BOUNDED_RETRY = { intervalMs: 50, maxAttempts: 6 } as const;

/**
 * An `assert.rejects` check: the call failed with an AggregatorCallError that cannot heal,
 * after at most `attempts` attempts, its message matching `pattern`.
 */
export function cannotHealWithin(attempts: number, pattern: RegExp) {
  return (e: unknown): true => {
    assert.ok(e instanceof AggregatorCallError, `expected AggregatorCallError, got ${e}`);
    assert.equal(e.reason, "cannot-heal", e.message);
    assert.ok(e.attempts <= attempts, `${e.attempts} attempts, expected at most ${attempts}`);
    assert.match(e.message, pattern);
    return true;
  };
}
