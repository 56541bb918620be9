import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
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
});

describe("abortableSleep at its edges", () => {
  it("refuses NaN and a negative delay at once with a RangeError naming the value", async () => {
    for (const ms of [-5, -0.5, Number.NaN, "10" as unknown as number]) {
      // Settled before the next turn of the event loop, not after some timer.
      const outcome = await Promise.race([
        abortableSleep(ms).then(
          () => "resolved",
          (e: unknown) => e,
        ),
        new Promise((resolve) => setImmediate(resolve, "still waiting")),
      ]);
      assert.ok(outcome instanceof RangeError, `${String(ms)}: ${String(outcome)}`);
      assert.equal(
        outcome.message,
        `abortableSleep: expected a delay in ms >= 0 (or Infinity), got ${ms}`,
      );
    }
  });

  it("resolves a zero delay: 0 ms is a valid wait, not a refusal", async () => {
    await abortableSleep(0);
  });

  it("rejects at once with the reason of a signal aborted before the call, arming no timer", async () => {
    const stop = new Error("already stopped");
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const sleep = track(abortableSleep(1000, AbortSignal.abort(stop)));
      await settle();
      assert.equal(sleep.error, stop);
      mock.timers.tick(1000);
      await settle();
      assert.equal(sleep.done, false, "a timer was armed for an already-aborted signal");
    } finally {
      mock.timers.reset();
    }
  });

  it("leaves no abort listener behind on the signal, whether it resolved or was aborted", async () => {
    const kept = new AbortController();
    await abortableSleep(1, kept.signal);
    assert.equal(getEventListeners(kept.signal, "abort").length, 0, "listener left after resolve");
    const aborted = new AbortController();
    const sleep = abortableSleep(60_000, aborted.signal);
    aborted.abort(new Error("stop"));
    await assert.rejects(sleep, /stop/);
    assert.equal(getEventListeners(aborted.signal, "abort").length, 0, "listener left after abort");
  });
});
