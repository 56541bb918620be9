import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { abortableSleep, MAX_TIMER_MS } from "./abortable-sleep.js";

/** Settles pending promise callbacks so that `state` reflects what the timers did. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function track(p: Promise<void>) {
  const state = { done: false, error: undefined as unknown };
  p.then(
    () => {
      state.done = true;
    },
    (error) => {
      state.error = error;
    },
  );
  return state;
}

describe("abortableSleep", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  it("waits a delay longer than one timer holds (2^31 ms) in full, not 1 ms", async () => {
    const sleep = track(abortableSleep(2 ** 31));
    mock.timers.tick(10);
    await settle();
    assert.equal(sleep.done, false);
    mock.timers.tick(MAX_TIMER_MS - 10);
    await settle();
    assert.equal(sleep.done, false, "resolved before the whole delay had passed");
    mock.timers.tick(1);
    await settle();
    assert.equal(sleep.done, true);
  });

  it("waits an infinite delay until the signal aborts", async () => {
    const abort = new AbortController();
    const sleep = track(abortableSleep(Number.POSITIVE_INFINITY, abort.signal));
    for (let i = 0; i < 3; i++) {
      mock.timers.tick(MAX_TIMER_MS);
      await settle();
    }
    assert.equal(sleep.done, false);
    assert.equal(sleep.error, undefined);
    const stop = new Error("stop");
    abort.abort(stop);
    await settle();
    assert.equal(sleep.error as unknown, stop);
  });

  it("still waits an ordinary delay exactly", async () => {
    const sleep = track(abortableSleep(1000));
    mock.timers.tick(999);
    await settle();
    assert.equal(sleep.done, false);
    mock.timers.tick(1);
    await settle();
    assert.equal(sleep.done, true);
  });

  it("refuses NaN and a negative delay with a RangeError naming the value", async () => {
    await assert.rejects(abortableSleep(-5), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, /got -5/);
      return true;
    });
    await assert.rejects(abortableSleep(Number.NaN), RangeError);
  });
});
