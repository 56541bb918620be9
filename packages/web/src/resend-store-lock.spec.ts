import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { ResendStoreError, ResendStoreLockedError } from "./resend-store-errors.js";
import { lockResendStore } from "./resend-store-lock.js";

/** Every test's own deadline, so that a hang fails naming the test. */
const deadline = { timeout: 10_000 };

/** Settles pending promise callbacks (setImmediate is not mocked). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A Web Locks stand-in that one lock name at a time can be held by `holdElsewhere()` (another
 * tab). It records what is asked of it and, like the real API, rejects a waiting request with its
 * signal's reason when the signal aborts, and keeps a granted lock until the callback's promise
 * settles.
 */
function scriptedLocks() {
  const asked: { name: string; signal: AbortSignal | undefined }[] = [];
  let elsewhere: Promise<void> | undefined;
  let held = false;
  const locks: Pick<LockManager, "request"> = {
    request: (async (
      name: string,
      options: LockOptions,
      callback: (lock: Lock | null) => Promise<unknown>,
    ) => {
      asked.push({ name, signal: options.signal });
      if (elsewhere !== undefined) {
        const signal = options.signal;
        await Promise.race([
          elsewhere,
          new Promise<never>((_, reject) => {
            if (signal?.aborted) reject(signal.reason);
            signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
          }),
        ]);
      }
      held = true;
      try {
        return await callback({ name, mode: "exclusive" } as Lock);
      } finally {
        held = false;
      }
    }) as LockManager["request"],
  };
  return {
    locks,
    asked,
    isHeld: () => held,
    /** Another tab holds the lock until the returned function is called. */
    holdElsewhere(): () => void {
      let letGo: () => void = () => {};
      elsewhere = new Promise<void>((resolve) => {
        letGo = () => {
          elsewhere = undefined;
          resolve();
        };
      });
      return letGo;
    },
  };
}

function track<T>(p: Promise<T>) {
  const state = { value: undefined as T | undefined, error: undefined as unknown, done: false };
  p.then(
    (value) => {
      state.value = value;
      state.done = true;
    },
    (error) => {
      state.error = error;
      state.done = true;
    },
  );
  return state;
}

describe("lockResendStore", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  it("takes the lock named openfl-connect:<database>, held until released", deadline, async () => {
    const s = scriptedLocks();
    const release = await lockResendStore("col-1", s.locks, 100);
    assert.deepEqual(
      s.asked.map((a) => a.name),
      ["openfl-connect:col-1"],
    );
    await settle();
    assert.equal(s.isHeld(), true, "the lock is let go before release()");
    release();
    await settle();
    assert.equal(s.isHeld(), false, "release() does not let the lock go");
  });

  it("takes nothing without a LockManager, and its release does nothing", deadline, async () => {
    const release = await lockResendStore("col-1", undefined, 100);
    assert.equal(typeof release, "function");
    release();
  });

  it("gets a lock let go at waitMs - 1", deadline, async () => {
    const s = scriptedLocks();
    const letGo = s.holdElsewhere();
    const lock = track(lockResendStore("db", s.locks, 100));
    mock.timers.tick(99);
    await settle();
    assert.equal(lock.done, false);
    letGo();
    await settle();
    assert.equal(lock.error, undefined);
    assert.equal(lock.done, true);
    assert.equal(s.isHeld(), true);
  });

  it("waits waitMs in full: still waiting at waitMs - 1, refused at waitMs", deadline, async () => {
    const s = scriptedLocks();
    s.holdElsewhere();
    const lock = track(lockResendStore("db", s.locks, 100));
    mock.timers.tick(99);
    await settle();
    assert.equal(lock.done, false, "gave up before waitMs");
    assert.equal(s.asked[0]?.signal?.aborted, false);
    mock.timers.tick(1);
    await settle();
    assert.equal(lock.done, true, "still waiting at waitMs");
    const error = lock.error;
    assert.ok(error instanceof ResendStoreLockedError);
    assert.ok(error instanceof ResendStoreError);
    assert.equal(error.name, "ResendStoreLockedError");
    assert.equal(error.database, "db");
    assert.equal(
      error.message,
      "IndexedDB database 'db' is in use by another tab of this browser (or another buffer in " +
        "this page) and was not released within 100 ms: one collaborator identity can run in " +
        "one tab at a time. Close the other tab, or stop it there.",
    );
    assert.equal(
      error.cause,
      s.asked[0]?.signal?.reason,
      "the lock manager's refusal is the cause",
    );
  });

  it(
    "stops its wait timer once the lock is held: nothing aborts the request later",
    deadline,
    async () => {
      const s = scriptedLocks();
      const release = await lockResendStore("db", s.locks, 100);
      mock.timers.tick(1000);
      await settle();
      assert.equal(s.asked[0]?.signal?.aborted, false);
      assert.equal(s.isHeld(), true);
      release();
    },
  );

  it(
    "a LockManager refusing outright (e.g. SecurityError) is a ResendStoreLockedError with that cause",
    deadline,
    async () => {
      const refusal = new DOMException("no locks here", "SecurityError");
      const locks: Pick<LockManager, "request"> = {
        request: (async () => {
          throw refusal;
        }) as LockManager["request"],
      };
      const error = await lockResendStore("db", locks, 100).catch((e: unknown) => e);
      assert.ok(error instanceof ResendStoreLockedError);
      assert.equal(error.cause, refusal);
    },
  );
});
