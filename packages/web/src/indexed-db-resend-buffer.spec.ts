// Runs on fake-indexeddb, an in-memory IndexedDB stand-in (a devDependency); the collaborator
// page's Playwright spec exercises the same buffer in real Chromium.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PendingRequest } from "@openfl-connect/core";
import { IDBFactory, IDBObjectStore } from "fake-indexeddb";
import { IndexedDbResendBuffer } from "./indexed-db-resend-buffer.js";
import {
  ResendStoreError,
  ResendStoreLockedError,
  ResendStoreQuotaError,
} from "./resend-store-errors.js";

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
  it("lists what was added, oldest first, with its parts' bytes, until acknowledged", async () => {
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
  });

  it("keeps pending uploads across a reopen (a reloaded page)", async () => {
    const indexedDB = new IDBFactory();
    const first = await open(indexedDB);
    await first.add(request("r1", [9, 8, 7]));
    first.close();
    const second = await open(indexedDB);
    assert.deepEqual((await second.list()).map(bytesOf), [[9, 8, 7]]);
  });

  it("copies the parts when added: later changes to the caller's bytes do not leak in", async () => {
    const buffer = await open(new IDBFactory());
    const r = request("c", [1, 2, 3]);
    await buffer.add(r);
    (r.parts[0] as Uint8Array)[0] = 42;
    assert.deepEqual((await buffer.list()).map(bytesOf), [[1, 2, 3]]);
  });

  it("discard moves the upload to the failed store with its reason; it is no longer listed", async () => {
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
  });

  it("sets aside an entry it cannot read, with a warning, instead of resending or deleting it", async () => {
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
  });

  it("a full quota is a ResendStoreQuotaError that explains; nothing is stored or dropped", async () => {
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
  });

  it("one buffer per database at a time: a second open waits for the lock, then is refused", async () => {
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
  });

  it("names the database when IndexedDB is missing", async () => {
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
