// Runs on fake-indexeddb, an in-memory IndexedDB stand-in (a devDependency); the collaborator
// page's Playwright spec exercises the same buffer in real Chromium.
import assert from "node:assert/strict";
import { afterEach, describe, it, mock } from "node:test";
import type { PendingRequest } from "@openfl-connect/core";
import { IDBDatabase, IDBFactory, IDBObjectStore } from "fake-indexeddb";
import { IndexedDbResendBuffer } from "./indexed-db-resend-buffer.js";
import {
  ResendStoreError,
  ResendStoreLockedError,
  ResendStoreQuotaError,
} from "./resend-store-errors.js";

/** Every test's own deadline, so that a hang fails naming the test. */
const deadline = { timeout: 10_000 };

/**
 * An in-memory stand-in for the Web Locks API (Node has none): exclusive locks by name, granted
 * in order, a waiting request rejected when its signal aborts.
 */
function inMemoryLocks(): Pick<LockManager, "request"> {
  const tails = new Map<string, Promise<void>>();
  const request = async (
    name: string,
    options: LockOptions,
    callback: (lock: Lock | null) => Promise<unknown>,
  ): Promise<unknown> => {
    const before = tails.get(name) ?? Promise.resolve();
    let done: () => void = () => {};
    tails.set(
      name,
      before.then(
        () =>
          new Promise<void>((r) => {
            done = r;
          }),
      ),
    );
    const aborted = new Promise<never>((_, reject) => {
      options.signal?.addEventListener("abort", () => reject(options.signal?.reason), {
        once: true,
      });
    });
    try {
      await Promise.race([before, aborted]);
    } catch (error) {
      void before.then(() => done());
      throw error;
    }
    try {
      return await callback({ name, mode: "exclusive" } as Lock);
    } finally {
      done();
    }
  };
  return { request: request as LockManager["request"] };
}

const request = (id: string, ...parts: number[][]): PendingRequest => ({
  id,
  rpc: "SendLocalTaskResults",
  parts: parts.map((p) => Uint8Array.from(p)),
  description: `upload ${id}`,
});
const bytesOf = (r: PendingRequest) => [...r.parts.flatMap((p) => [...p])];
const open = (indexedDB: IDBFactory, warn: (m: string) => void = () => {}) =>
  IndexedDbResendBuffer.open({ database: "test", indexedDB, warn });

describe("IndexedDbResendBuffer", () => {
  it(
    "lists what was added, oldest first, with its parts' bytes, until acknowledged",
    deadline,
    async () => {
      const buffer = await open(new IDBFactory());
      await buffer.add(request("b", [1, 2], [3]));
      await buffer.add(request("a", [4]));
      const listed = await buffer.list();
      assert.deepEqual(
        listed.map((r) => [r.id, r.rpc, r.description, bytesOf(r)]),
        [
          ["b", "SendLocalTaskResults", "upload b", [1, 2, 3]],
          ["a", "SendLocalTaskResults", "upload a", [4]],
        ],
      );
      await buffer.acknowledge("b");
      assert.deepEqual(
        (await buffer.list()).map((r) => r.id),
        ["a"],
      );
      assert.equal(await buffer.count(), 1);
    },
  );

  it("keeps pending uploads across a reopen (a reloaded page)", deadline, async () => {
    const indexedDB = new IDBFactory();
    const first = await open(indexedDB);
    await first.add(request("r1", [9, 8, 7]));
    first.close();
    const second = await open(indexedDB);
    assert.deepEqual((await second.list()).map(bytesOf), [[9, 8, 7]]);
  });

  it(
    "copies the parts when added: later changes to the caller's bytes do not leak in",
    deadline,
    async () => {
      const buffer = await open(new IDBFactory());
      const r = request("c", [1, 2, 3]);
      await buffer.add(r);
      (r.parts[0] as Uint8Array)[0] = 42;
      assert.deepEqual((await buffer.list()).map(bytesOf), [[1, 2, 3]]);
    },
  );

  it(
    "discard moves the upload to the failed store with its reason; it is no longer listed",
    deadline,
    async () => {
      const buffer = await open(new IDBFactory());
      await buffer.add(request("d", [1, 2]));
      await buffer.discard("d", "PERMISSION_DENIED: not in the plan");
      await buffer.add(request("d", [3]));
      await buffer.discard("d", "again");
      await buffer.discard("never-added", "nothing to move");
      assert.deepEqual(await buffer.list(), []);
      const failed = await buffer.failed();
      assert.deepEqual(
        failed.map((f) => [f.id, f.description, f.bytes, f.reason]),
        [
          ["d", "upload d", 2, "PERMISSION_DENIED: not in the plan"],
          ["d.2", "upload d", 1, "again"],
        ],
      );
    },
  );

  it(
    "sets aside an entry it cannot read, with a warning, instead of resending or deleting it",
    deadline,
    async () => {
      const indexedDB = new IDBFactory();
      const warnings: string[] = [];
      const buffer = await open(indexedDB, (m) => warnings.push(m));
      await buffer.add(request("ok", [1]));
      // An entry written by something else (another version of the page, a manual edit).
      await new Promise<void>((resolve, reject) => {
        const req = indexedDB.open("test");
        req.onsuccess = () => {
          const tx = req.result.transaction("pending", "readwrite");
          tx.objectStore("pending").put({ id: "torn", rpc: "SendLocalTaskResults" });
          tx.oncomplete = () => {
            req.result.close();
            resolve();
          };
          tx.onabort = () => reject(tx.error);
        };
      });
      assert.deepEqual(
        (await buffer.list()).map((r) => r.id),
        ["ok"],
      );
      assert.deepEqual(
        (await buffer.failed()).map((f) => [f.id, f.reason]),
        [["torn", "has no string 'description'"]],
      );
      assert.equal(warnings.length, 1);
      assert.match(
        warnings[0] as string,
        /moved pending torn to failed: has no string 'description'/,
      );
    },
  );

  it(
    "a full quota is a ResendStoreQuotaError that explains; nothing is stored or dropped",
    deadline,
    async () => {
      const indexedDB = new IDBFactory();
      const buffer = await open(indexedDB);
      await buffer.add(request("kept", [1]));
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = () => {
        throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
      };
      try {
        await assert.rejects(buffer.add(request("big", [1, 2, 3, 4])), (e: unknown) => {
          assert.ok(e instanceof ResendStoreQuotaError);
          assert.ok(e instanceof ResendStoreError);
          assert.equal(e.database, "test");
          assert.equal(e.bytes, 4);
          assert.match(e.message, /cannot keep the upload upload big \(4 bytes\)/);
          assert.match(e.message, /storage quota for this site is used up \(QuotaExceededError\)/);
          assert.match(e.message, /Nothing was stored and the upload was not sent/);
          return true;
        });
      } finally {
        IDBObjectStore.prototype.put = put;
      }
      assert.deepEqual(
        (await buffer.list()).map((r) => r.id),
        ["kept"],
      );
    },
  );

  it(
    "one buffer per database at a time: a second open waits for the lock, then is refused",
    deadline,
    async () => {
      const indexedDB = new IDBFactory();
      const locks = inMemoryLocks();
      const first = await IndexedDbResendBuffer.open({ database: "one", indexedDB, locks });
      await assert.rejects(
        IndexedDbResendBuffer.open({ database: "one", indexedDB, locks, lockWaitMs: 50 }),
        (e: unknown) => {
          assert.ok(e instanceof ResendStoreLockedError);
          assert.equal(e.database, "one");
          assert.match(e.message, /'one' is in use by another tab .* within 50 ms/);
          return true;
        },
      );
      // Another database is not held; and closing lets a waiting open through.
      (await IndexedDbResendBuffer.open({ database: "two", indexedDB, locks })).close();
      const waiting = IndexedDbResendBuffer.open({ database: "one", indexedDB, locks });
      first.close();
      (await waiting).close();
    },
  );

  it("names the database when IndexedDB is missing", deadline, async () => {
    await assert.rejects(
      IndexedDbResendBuffer.open({ database: "x", indexedDB: undefined as never }).then(
        () => undefined,
      ),
      (e: unknown) => {
        // globalThis.indexedDB is undefined in Node, so the default is missing too.
        assert.ok(e instanceof ResendStoreError);
        assert.match(e.message, /no IndexedDB/);
        return true;
      },
    );
  });
});

/** Writes `values` into `store` of `database` directly, as another version of the page might. */
function writeRaw(indexedDB: IDBFactory, database: string, store: string, ...values: unknown[]) {
  return new Promise<void>((resolve, reject) => {
    const req = indexedDB.open(database);
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const tx = req.result.transaction(store, "readwrite");
      for (const value of values) tx.objectStore(store).put(value);
      tx.oncomplete = () => {
        req.result.close();
        resolve();
      };
      tx.onabort = () => reject(tx.error);
    };
  });
}

/** A transaction as the database was asked for it, with the durability it was given. */
interface RecordedTransaction {
  readonly stores: string[];
  readonly mode: IDBTransactionMode;
  readonly durability: IDBTransactionDurability;
}

/**
 * Runs `body` while every IDBDatabase.transaction() call (of fake-indexeddb) is recorded with the
 * durability the transaction got: the browser's own record of what the buffer asked for.
 */
async function recordingTransactions(
  body: (log: RecordedTransaction[]) => Promise<void>,
): Promise<void> {
  const log: RecordedTransaction[] = [];
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (
    this: IDBDatabase,
    ...args: Parameters<IDBDatabase["transaction"]>
  ) {
    const tx = transaction.apply(this, args);
    const stores: string[] = [];
    for (let i = 0; i < tx.objectStoreNames.length; i++)
      stores.push(tx.objectStoreNames.item(i) ?? "");
    log.push({ stores, mode: tx.mode, durability: tx.durability });
    return tx;
  } as IDBDatabase["transaction"];
  try {
    await body(log);
  } finally {
    IDBDatabase.prototype.transaction = transaction;
  }
}

/** Replaces IDBObjectStore.prototype.put of store `name` while `body` runs. */
async function withPut(
  name: string,
  put: (store: IDBObjectStore, value: unknown, original: IDBObjectStore["put"]) => IDBRequest,
  body: () => Promise<void>,
): Promise<void> {
  const original = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (
    this: IDBObjectStore,
    value: unknown,
    key?: IDBValidKey,
  ) {
    return this.name === name ? put(this, value, original) : original.call(this, value, key);
  } as IDBObjectStore["put"];
  try {
    await body();
  } finally {
    IDBObjectStore.prototype.put = original;
  }
}

describe("IndexedDbResendBuffer durability", () => {
  it(
    "asks for strict durability on every write: add, acknowledge, discard, setting aside",
    deadline,
    async () => {
      await recordingTransactions(async (log) => {
        const indexedDB = new IDBFactory();
        const buffer = await open(indexedDB);
        await buffer.add(request("a", [1]));
        await buffer.add(request("b", [2]));
        await buffer.acknowledge("a");
        await buffer.discard("b", "refused");
        await writeRaw(indexedDB, "test", "pending", { id: "torn" });
        await buffer.list();
        await buffer.count();
        await buffer.failed();
        buffer.close();
        const writes = log.filter((t) => t.mode === "readwrite");
        // add x2, acknowledge, discard, the raw write above, list's setting aside of "torn".
        assert.equal(writes.length, 6);
        const own = writes.filter((_, i) => i !== 4);
        assert.deepEqual(
          own.map((t) => t.durability),
          ["strict", "strict", "strict", "strict", "strict"],
        );
        assert.deepEqual(
          own.map((t) => t.stores.join("+")),
          ["pending", "pending", "pending", "failed+pending", "failed+pending"],
        );
        // Reads (list, count, failed) do not take the stores for writing.
        assert.deepEqual(
          log.filter((t) => t.mode === "readonly").map((t) => [t.stores.join("+"), t.mode]),
          [
            ["pending", "readonly"],
            ["pending", "readonly"],
            ["failed", "readonly"],
          ],
        );
      });
    },
  );
});

describe("IndexedDbResendBuffer failures", () => {
  afterEach(() => mock.restoreAll());

  it(
    "a failed write commits nothing: discard rejects and the upload stays pending",
    deadline,
    async () => {
      const indexedDB = new IDBFactory();
      const buffer = await open(indexedDB);
      await buffer.add(request("u", [1, 2]));
      await writeRaw(indexedDB, "test", "failed", { id: "other" });
      // The browser fails the request that keeps the upload in `failed` (a colliding add stands in
      // for a disk error): the delete from `pending` in the same transaction must not commit.
      await withPut(
        "failed",
        (store, value) => store.add({ ...(value as object), id: "other" }),
        async () => {
          await assert.rejects(buffer.discard("u", "refused"), /ConstraintError/);
        },
      );
      assert.deepEqual(
        (await buffer.list()).map((r) => [r.id, bytesOf(r)]),
        [["u", [1, 2]]],
      );
      assert.deepEqual(
        (await buffer.failed()).map((f) => f.id),
        ["other"],
      );
    },
  );

  it(
    "a request failing inside add() is a ResendStoreError naming the upload; add rejects",
    deadline,
    async () => {
      const buffer = await open(new IDBFactory());
      await buffer.add(request("kept", [1]));
      await withPut(
        "pending",
        (store, value) => store.add({ ...(value as object), id: "kept" }),
        async () => {
          await assert.rejects(buffer.add(request("new", [2])), (e: unknown) => {
            assert.ok(e instanceof ResendStoreError);
            assert.ok(!(e instanceof ResendStoreQuotaError));
            assert.equal(e.name, "ResendStoreError");
            assert.equal(e.database, "test");
            assert.match(
              e.message,
              /^cannot keep the upload upload new for resending: ConstraintError/,
            );
            assert.equal((e.cause as DOMException).name, "ConstraintError");
            return true;
          });
        },
      );
      assert.deepEqual(
        (await buffer.list()).map((r) => [r.id, bytesOf(r)]),
        [["kept", [1]]],
      );
    },
  );

  for (const [what, thrown, described] of [
    ["an Error", new RangeError("too big"), "RangeError: too big"],
    ["an object with a name", { name: "UnknownError", message: "disk" }, "UnknownError: disk"],
    ["a string", "boom", "boom"],
    ["null", null, "null"],
  ] as const) {
    it(`describes ${what} thrown while adding, and keeps it as the cause`, deadline, async () => {
      const buffer = await open(new IDBFactory());
      await withPut(
        "pending",
        () => {
          throw thrown;
        },
        async () => {
          await assert.rejects(buffer.add(request("x", [1])), (e: unknown) => {
            assert.ok(e instanceof ResendStoreError);
            assert.ok(!(e instanceof ResendStoreQuotaError));
            assert.equal(e.message, `cannot keep the upload upload x for resending: ${described}`);
            assert.equal(e.cause, thrown);
            return true;
          });
        },
      );
      assert.equal(await buffer.count(), 0);
    });
  }

  it("a full quota names the error class and its cause", deadline, async () => {
    const buffer = await open(new IDBFactory());
    const quota = new DOMException("The quota has been exceeded.", "QuotaExceededError");
    await withPut(
      "pending",
      () => {
        throw quota;
      },
      async () => {
        await assert.rejects(buffer.add(request("big", [1, 2, 3])), (e: unknown) => {
          assert.ok(e instanceof ResendStoreQuotaError);
          assert.equal(e.name, "ResendStoreQuotaError");
          assert.equal(e.request, "upload big");
          assert.equal(e.bytes, 3);
          assert.equal(e.cause, quota);
          assert.equal(
            e.message,
            "cannot keep the upload upload big (3 bytes) for resending in IndexedDB database 'test': " +
              "the browser's storage quota for this site is used up (QuotaExceededError). Nothing " +
              "was stored and the upload was not sent; free site storage (or allow more) and run " +
              "the task again.",
          );
          return true;
        });
      },
    );
  });

  /**
   * Runs `call` and aborts its transaction as the browser does when it must (site data cleared,
   * the disk gone): the transaction ends without committing, its `error` null.
   */
  async function abortedByTheBrowser<T>(call: () => Promise<T>): Promise<T> {
    const transaction = IDBDatabase.prototype.transaction;
    let tx: IDBTransaction | undefined;
    IDBDatabase.prototype.transaction = function (
      this: IDBDatabase,
      ...args: Parameters<IDBDatabase["transaction"]>
    ) {
      tx = transaction.apply(this, args);
      return tx;
    } as IDBDatabase["transaction"];
    try {
      const pending = call();
      assert.ok(tx, "no transaction was opened");
      tx.abort();
      return await pending;
    } finally {
      IDBDatabase.prototype.transaction = transaction;
    }
  }

  it(
    "a read the browser aborts (site data cleared) rejects instead of hanging",
    deadline,
    async () => {
      const buffer = await open(new IDBFactory());
      await buffer.add(request("a", [1]));
      for (const read of [
        () => buffer.list(),
        () => buffer.count(),
        () => buffer.failed(),
      ] as (() => Promise<unknown>)[]) {
        await assert.rejects(abortedByTheBrowser(read), (e: unknown) => {
          // The aborted request's own error (the transaction's is null).
          assert.equal((e as DOMException).name, "AbortError");
          return true;
        });
      }
    },
  );

  it(
    "a write the browser aborts rejects: add() does not report the upload kept",
    deadline,
    async () => {
      const buffer = await open(new IDBFactory());
      await assert.rejects(
        abortedByTheBrowser(() => buffer.add(request("a", [1]))),
        (e: unknown) => {
          assert.ok(e instanceof ResendStoreError);
          assert.equal(
            e.message,
            "cannot keep the upload upload a for resending: Error: transaction aborted",
          );
          return true;
        },
      );
    },
  );

  it("refuses every call after close()", deadline, async () => {
    const buffer = await open(new IDBFactory());
    await buffer.add(request("a", [1]));
    buffer.close();
    await assert.rejects(buffer.add(request("b", [2])), ResendStoreError);
    await assert.rejects(buffer.acknowledge("a"));
    await assert.rejects(buffer.list());
    await assert.rejects(buffer.count());
  });
});

describe("IndexedDbResendBuffer entries it cannot read", () => {
  for (const [what, entry, reason, failed] of [
    [
      "no rpc",
      { id: "e", description: "d", data: Uint8Array.of(1, 2), createdAt: 1, seq: 0 },
      "has no string 'rpc'",
      { rpc: "", description: "d", bytes: 2 },
    ],
    [
      "no description",
      { id: "e", rpc: "SendLocalTaskResults", data: Uint8Array.of(1), createdAt: 1, seq: 0 },
      "has no string 'description'",
      { rpc: "SendLocalTaskResults", description: "", bytes: 1 },
    ],
    [
      "no bytes",
      { id: "e", rpc: "r", description: "d", data: [1, 2, 3], createdAt: 1, seq: 0 },
      "has no bytes 'data'",
      { rpc: "r", description: "d", bytes: 0 },
    ],
    [
      "no createdAt",
      { id: "e", rpc: "r", description: "d", data: Uint8Array.of(1), seq: 0 },
      "has no order ('createdAt', 'seq')",
      { rpc: "r", description: "d", bytes: 1 },
    ],
    [
      "no seq",
      { id: "e", rpc: "r", description: "d", data: Uint8Array.of(1), createdAt: 1 },
      "has no order ('createdAt', 'seq')",
      { rpc: "r", description: "d", bytes: 1 },
    ],
  ] as const) {
    it(`sets aside an entry with ${what}, saying so, and never resends it`, deadline, async () => {
      const indexedDB = new IDBFactory();
      const warnings: string[] = [];
      const buffer = await open(indexedDB, (m) => warnings.push(m));
      await writeRaw(indexedDB, "test", "pending", entry);
      assert.deepEqual(await buffer.list(), []);
      assert.equal(await buffer.count(), 0);
      const [set] = await buffer.failed();
      assert.deepEqual(
        { ...set, failedAt: typeof set?.failedAt },
        { id: "e", ...failed, reason, failedAt: "number" },
      );
      assert.deepEqual(warnings, [`IndexedDB database test: moved pending e to failed: ${reason}`]);
    });
  }

  it("sets aside an entry whose key is not a string (e.g. a number), too", deadline, async () => {
    const indexedDB = new IDBFactory();
    const warnings: string[] = [];
    const buffer = await open(indexedDB, (m) => warnings.push(m));
    await writeRaw(indexedDB, "test", "pending", { id: 7, rpc: "r" });
    assert.deepEqual(await buffer.list(), []);
    assert.equal(await buffer.count(), 0);
    assert.deepEqual(
      (await buffer.failed()).map((f) => [f.id, f.reason]),
      [["7", "has no string 'description'"]],
    );
    assert.deepEqual(warnings, [
      "IndexedDB database test: moved pending 7 to failed: has no string 'description'",
    ]);
  });

  it("lists a well-formed entry another page wrote", deadline, async () => {
    const indexedDB = new IDBFactory();
    const buffer = await open(indexedDB, () => assert.fail("no warning expected"));
    await writeRaw(indexedDB, "test", "pending", {
      id: "w",
      rpc: "r",
      description: "d",
      data: Uint8Array.of(5),
      createdAt: 1,
      seq: 0,
    });
    assert.deepEqual(
      (await buffer.list()).map((r) => [r.id, r.rpc, r.description, bytesOf(r)]),
      [["w", "r", "d", [5]]],
    );
  });
});

describe("IndexedDbResendBuffer order and records", () => {
  afterEach(() => mock.restoreAll());

  it(
    "lists oldest first across reloads: by time added, then by order within one page",
    deadline,
    async () => {
      const indexedDB = new IDBFactory();
      const now = mock.method(Date, "now", () => 1000);
      const first = await open(indexedDB);
      // Same millisecond: the order of add() decides (keys sort the other way).
      await first.add(request("m2", [1]));
      await first.add(request("m1", [2]));
      first.close();
      // A reloaded page counts from 0 again, later in time.
      now.mock.mockImplementation(() => 2000);
      const second = await open(indexedDB);
      await second.add(request("a0", [3]));
      assert.deepEqual(
        (await second.list()).map((r) => r.id),
        ["m2", "m1", "a0"],
      );
    },
  );

  it("records when and why an upload was set aside, without its bytes", deadline, async () => {
    const buffer = await open(new IDBFactory());
    await buffer.add(request("d", [1, 2, 3]));
    mock.method(Date, "now", () => 1234);
    await buffer.discard("d", "PERMISSION_DENIED");
    const failed = await buffer.failed();
    assert.deepEqual(failed, [
      {
        id: "d",
        rpc: "SendLocalTaskResults",
        description: "upload d",
        bytes: 3,
        reason: "PERMISSION_DENIED",
        failedAt: 1234,
      },
    ]);
    assert.ok(!("data" in (failed[0] as object)));
  });

  it("keeps a third discard of one id under id.3", deadline, async () => {
    const buffer = await open(new IDBFactory());
    for (const reason of ["one", "two", "three"]) {
      await buffer.add(request("d", [1]));
      await buffer.discard("d", reason);
    }
    assert.deepEqual(
      (await buffer.failed()).map((f) => [f.id, f.reason]),
      [
        ["d", "one"],
        ["d.2", "two"],
        ["d.3", "three"],
      ],
    );
  });
});

describe("IndexedDbResendBuffer.open", () => {
  afterEach(() => mock.restoreAll());

  /** Sets globalThis[name] while `body` runs. */
  async function withGlobal(name: string, value: unknown, body: () => Promise<void>) {
    const before = Object.getOwnPropertyDescriptor(globalThis, name);
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
    try {
      await body();
    } finally {
      if (before === undefined) delete (globalThis as Record<string, unknown>)[name];
      else Object.defineProperty(globalThis, name, before);
    }
  }

  it(
    "defaults: database openfl-connect-resend-buffer in globalThis.indexedDB, locked through navigator.locks",
    deadline,
    async () => {
      const indexedDB = new IDBFactory();
      const asked: string[] = [];
      const locks = inMemoryLocks();
      const recording: Pick<LockManager, "request"> = {
        request: ((name: string, ...rest: unknown[]) => {
          asked.push(name);
          return (locks.request as (...a: unknown[]) => Promise<unknown>)(name, ...rest);
        }) as LockManager["request"],
      };
      await withGlobal("indexedDB", indexedDB, () =>
        withGlobal("navigator", { locks: recording }, async () => {
          const buffer = await IndexedDbResendBuffer.open();
          assert.equal(buffer.database, "openfl-connect-resend-buffer");
          await buffer.add(request("a", [1]));
          buffer.close();
        }),
      );
      assert.deepEqual(asked, ["openfl-connect:openfl-connect-resend-buffer"]);
      assert.deepEqual(
        (await indexedDB.databases()).map((d) => [d.name, d.version]),
        [["openfl-connect-resend-buffer", 1]],
      );
    },
  );

  it("reports unreadable entries through console.warn by default", deadline, async () => {
    const indexedDB = new IDBFactory();
    const warn = mock.method(console, "warn", () => {});
    const buffer = await IndexedDbResendBuffer.open({ database: "w", indexedDB });
    await writeRaw(indexedDB, "w", "pending", { id: "torn" });
    await buffer.list();
    assert.deepEqual(
      warn.mock.calls.map((c) => c.arguments),
      [["IndexedDB database w: moved pending torn to failed: has no string 'rpc'"]],
    );
  });

  it(
    "waits 5000 ms for the lock by default: still waiting at 4999 ms, refused at 5000",
    deadline,
    async () => {
      const indexedDB = new IDBFactory();
      const locks = inMemoryLocks();
      const first = await IndexedDbResendBuffer.open({ database: "one", indexedDB, locks });
      mock.timers.enable({ apis: ["setTimeout"] });
      try {
        const state: { outcome: unknown } = { outcome: "waiting" };
        IndexedDbResendBuffer.open({ database: "one", indexedDB, locks }).then(
          (b) => {
            state.outcome = b;
          },
          (e) => {
            state.outcome = e;
          },
        );
        const settle = () => new Promise<void>((r) => setImmediate(r));
        await settle();
        mock.timers.tick(4999);
        await settle();
        assert.equal(String(state.outcome), "waiting");
        mock.timers.tick(1);
        await settle();
        const { outcome } = state;
        assert.ok(outcome instanceof ResendStoreLockedError);
        assert.match(outcome.message, /within 5000 ms/);
      } finally {
        mock.timers.reset();
        first.close();
      }
    },
  );

  it(
    "takes no lock where there is no navigator (e.g. a worker of an old browser)",
    deadline,
    async () => {
      await withGlobal("navigator", undefined, async () => {
        const indexedDB = new IDBFactory();
        const first = await IndexedDbResendBuffer.open({ database: "n", indexedDB });
        await first.add(request("a", [1]));
        assert.equal(await first.count(), 1);
        first.close();
      });
    },
  );

  it("names the database when there is no IndexedDB", deadline, async () => {
    await withGlobal("indexedDB", undefined, async () => {
      const error = await IndexedDbResendBuffer.open({ database: "x" }).catch((e: unknown) => e);
      assert.ok(error instanceof ResendStoreError);
      assert.equal(error.database, "x");
      assert.equal(error.message, "this environment has no IndexedDB (indexedDB is undefined)");
    });
  });

  it(
    "a database of a newer version is a ResendStoreError, and the lock is let go",
    deadline,
    async () => {
      const indexedDB = new IDBFactory();
      await new Promise<void>((resolve, reject) => {
        const req = indexedDB.open("newer", 2);
        req.onsuccess = () => {
          req.result.close();
          resolve();
        };
        req.onerror = () => reject(req.error);
      });
      const locks = inMemoryLocks();
      const error = await IndexedDbResendBuffer.open({ database: "newer", indexedDB, locks }).catch(
        (e: unknown) => e,
      );
      assert.ok(error instanceof ResendStoreError);
      assert.equal(error.database, "newer");
      assert.match(error.message, /^cannot open IndexedDB database 'newer': VersionError: /);
      assert.equal((error.cause as DOMException).name, "VersionError");
      await assertLockFree(locks, "newer");
    },
  );

  it(
    "an open blocked by another tab is a ResendStoreError, and the lock is let go",
    deadline,
    async () => {
      const blocked = {
        open() {
          const request = {} as IDBOpenDBRequest;
          setTimeout(() => request.onblocked?.call(request, new Event("blocked") as never), 0);
          return request;
        },
      } as unknown as IDBFactory;
      const locks = inMemoryLocks();
      const error = await IndexedDbResendBuffer.open({
        database: "b",
        indexedDB: blocked,
        locks,
      }).catch((e: unknown) => e);
      assert.ok(error instanceof ResendStoreError);
      assert.equal(
        error.message,
        "cannot open IndexedDB database 'b': Error: blocked by another tab holding an older version of the database",
      );
      await assertLockFree(locks, "b");
    },
  );

  it(
    "a page not allowed IndexedDB (open() throws SecurityError) gets a ResendStoreError; the lock is let go",
    deadline,
    async () => {
      const refused = new DOMException("The operation is insecure.", "SecurityError");
      const factory = {
        open() {
          throw refused;
        },
      } as unknown as IDBFactory;
      const locks = inMemoryLocks();
      const error = await IndexedDbResendBuffer.open({
        database: "s",
        indexedDB: factory,
        locks,
      }).catch((e: unknown) => e);
      assert.ok(error instanceof ResendStoreError);
      assert.equal(
        error.message,
        "cannot open IndexedDB database 's': SecurityError: The operation is insecure.",
      );
      assert.equal(error.cause, refused);
      await assertLockFree(locks, "s");
    },
  );
});

/** The lock of `database` can be taken at once. */
async function assertLockFree(locks: Pick<LockManager, "request">, database: string) {
  const taken = await IndexedDbResendBuffer.open({
    database,
    indexedDB: new IDBFactory(),
    locks,
    lockWaitMs: 50,
  });
  taken.close();
}
