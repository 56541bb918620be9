import type { PendingRequest, ResendBuffer } from "@openfl-connect/core";
import { copyParts } from "@openfl-connect/core/internal";
import { ResendStoreError, ResendStoreQuotaError } from "./resend-store-errors.js";
import { lockResendStore } from "./resend-store-lock.js";

/** A request as the `pending` store keeps it. */
interface StoredRequest {
  readonly id: string;
  readonly rpc: string;
  readonly description: string;
  /** The request's bytes, its parts concatenated (one exact-size copy). */
  readonly data: Uint8Array;
  /** Order of arrival (ms since epoch, then a counter). */
  readonly createdAt: number;
  readonly seq: number;
}

/** A request set aside in the `failed` store, for a person to look at. */
export interface FailedRequest {
  readonly id: string;
  readonly rpc: string;
  readonly description: string;
  readonly bytes: number;
  /** Why it was never resent. */
  readonly reason: string;
  /** When it was set aside (ms since epoch). */
  readonly failedAt: number;
}

export interface IndexedDbResendBufferOptions {
  /**
   * The IndexedDB database name; one per collaborator identity (two buffers on one database
   * would both resend its uploads). Default "openfl-connect-resend-buffer".
   */
  readonly database?: string;
  /** Default `globalThis.indexedDB`. Tests pass an in-memory stand-in. */
  readonly indexedDB?: IDBFactory;
  /** Where entries it cannot read are reported (one line each, never bytes). Default console.warn. */
  readonly warn?: (message: string) => void;
  /**
   * The Web Locks API the buffer takes its database's lock from (`openfl-connect:<database>`,
   * held from `open()` to `close()` or until the page goes away). Default
   * `globalThis.navigator?.locks`; where there is none, no lock is taken.
   */
  readonly locks?: Pick<LockManager, "request">;
  /**
   * How long `open()` waits for the lock, in ms (a reloaded page's predecessor may still be
   * letting it go). Default 5000. Then ResendStoreLockedError.
   */
  readonly lockWaitMs?: number;
}

const PENDING = "pending";
const FAILED = "failed";
const VERSION = 1;

/**
 * A ResendBuffer in the browser's IndexedDB, so a reloaded or crashed tab resends what the
 * aggregator had not acknowledged, once, when the page comes back.
 *
 * Stores of the database:
 * - `pending` (key: request id): rpc, description, the request's bytes, order of arrival.
 *   `add()` resolves once the transaction is committed (durability "strict" where supported);
 *   `acknowledge()` deletes the entry (only acknowledged requests are ever deleted).
 * - `failed` (key: request id, then `.2`, `.3`... if taken): requests never resent, with a reason:
 *   those `discard()`ed (refused in a way resending cannot heal) and entries `list()` cannot read
 *   (each reported through `warn`). Moving is one transaction: an entry is in one store or the
 *   other, never both or neither.
 * A full quota on `add()` throws ResendStoreQuotaError; nothing is dropped to make room.
 */
export class IndexedDbResendBuffer implements ResendBuffer {
  readonly database: string;
  readonly #db: IDBDatabase;
  readonly #warn: (message: string) => void;
  readonly #releaseLock: () => void;
  #seq = 0;

  private constructor(
    database: string,
    db: IDBDatabase,
    warn: (message: string) => void,
    releaseLock: () => void,
  ) {
    this.database = database;
    this.#db = db;
    this.#warn = warn;
    this.#releaseLock = releaseLock;
  }

  /** Opens (creating if needed) the database. Throws ResendStoreError when it cannot. */
  static async open(options: IndexedDbResendBufferOptions = {}): Promise<IndexedDbResendBuffer> {
    const database = options.database ?? "openfl-connect-resend-buffer";
    const factory = options.indexedDB ?? globalThis.indexedDB;
    if (factory === undefined) {
      throw new ResendStoreError(
        database,
        "this environment has no IndexedDB (indexedDB is undefined)",
      );
    }
    const releaseLock = await lockResendStore(
      database,
      options.locks ?? globalThis.navigator?.locks,
      options.lockWaitMs ?? 5000,
    );
    let db: IDBDatabase;
    try {
      db = await new Promise<IDBDatabase>((resolve, reject) => {
        // Inside the promise: open() itself throws where a page may not use IndexedDB (a
        // SecurityError in an opaque-origin iframe); the lock must be released then too.
        const request = factory.open(database, VERSION);
        request.onupgradeneeded = () => {
          const db = request.result;
          if (!db.objectStoreNames.contains(PENDING)) {
            db.createObjectStore(PENDING, { keyPath: "id" });
          }
          if (!db.objectStoreNames.contains(FAILED))
            db.createObjectStore(FAILED, { keyPath: "id" });
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
        request.onblocked = () =>
          reject(new Error("blocked by another tab holding an older version of the database"));
      });
    } catch (error) {
      releaseLock();
      throw new ResendStoreError(
        database,
        `cannot open IndexedDB database '${database}': ${describe(error)}`,
        { cause: error },
      );
    }
    const warn = options.warn ?? ((m: string) => console.warn(m));
    return new IndexedDbResendBuffer(database, db, warn, releaseLock);
  }

  async add(request: PendingRequest): Promise<void> {
    const data = copyParts(request.parts);
    const stored: StoredRequest = {
      id: request.id,
      rpc: request.rpc,
      description: request.description,
      data,
      createdAt: Date.now(),
      seq: this.#seq++,
    };
    try {
      await this.#write([PENDING], (tx) => tx.objectStore(PENDING).put(stored));
    } catch (error) {
      if (isQuotaError(error)) {
        throw new ResendStoreQuotaError(this.database, request.description, data.byteLength, {
          cause: error,
        });
      }
      throw new ResendStoreError(
        this.database,
        `cannot keep the upload ${request.description} for resending: ${describe(error)}`,
        { cause: error },
      );
    }
  }

  async acknowledge(id: string): Promise<void> {
    await this.#write([PENDING], (tx) => tx.objectStore(PENDING).delete(id));
  }

  async discard(id: string, reason: string): Promise<void> {
    await this.#setAside(id, reason);
  }

  /** Pending requests, oldest first. Entries that cannot be read are moved to `failed`. */
  async list(): Promise<readonly PendingRequest[]> {
    const all = await this.#read(PENDING, (store) => store.getAll());
    const pending: StoredRequest[] = [];
    for (const value of all as unknown[]) {
      const problem = storedProblem(value);
      if (problem === undefined) {
        pending.push(value as StoredRequest);
        continue;
      }
      // Its key (the store's keyPath) may be any IndexedDB key another page wrote, e.g. a number.
      const id = (value as { id: IDBValidKey }).id;
      await this.#setAside(id, problem);
      this.#warn(`IndexedDB database ${this.database}: moved pending ${id} to failed: ${problem}`);
    }
    pending.sort((a, b) => a.createdAt - b.createdAt || a.seq - b.seq);
    return pending.map((s) => ({
      id: s.id,
      rpc: s.rpc,
      description: s.description,
      parts: [s.data],
    }));
  }

  /** How many requests are pending. */
  async count(): Promise<number> {
    return this.#read(PENDING, (store) => store.count());
  }

  /** The requests set aside, without their bytes. */
  async failed(): Promise<readonly FailedRequest[]> {
    const all = (await this.#read(FAILED, (store) => store.getAll())) as (FailedRequest & {
      data?: unknown;
    })[];
    return all.map(({ data: _data, ...rest }) => rest);
  }

  /** Closes the database connection and releases its lock; later calls fail. */
  close(): void {
    this.#db.close();
    this.#releaseLock();
  }

  /**
   * Moves `pendingKey` from `pending` to `failed` (under a free string key) with `reason`, in one
   * transaction.
   */
  async #setAside(pendingKey: IDBValidKey, reason: string): Promise<void> {
    const id = String(pendingKey);
    await this.#write([PENDING, FAILED], (tx) => {
      const pending = tx.objectStore(PENDING);
      const failed = tx.objectStore(FAILED);
      const get = pending.get(pendingKey);
      get.onsuccess = () => {
        const value = get.result as Record<string, unknown> | undefined;
        if (value === undefined) return; // acknowledged meanwhile: nothing to set aside
        const data = value.data instanceof Uint8Array ? value.data : undefined;
        const putFree = (n: number) => {
          const key = n === 1 ? id : `${id}.${n}`;
          const taken = failed.getKey(key);
          taken.onsuccess = () => {
            if (taken.result !== undefined) {
              putFree(n + 1);
              return;
            }
            failed.put({
              id: key,
              rpc: typeof value.rpc === "string" ? value.rpc : "",
              description: typeof value.description === "string" ? value.description : "",
              bytes: data?.byteLength ?? 0,
              reason,
              failedAt: Date.now(),
              data,
            });
            pending.delete(pendingKey);
          };
        };
        putFree(1);
      };
    });
  }

  /** Runs `body` in a readwrite transaction; resolves when it commits, rejects when it aborts. */
  #write(stores: string[], body: (tx: IDBTransaction) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const tx = this.#db.transaction(stores, "readwrite", { durability: "strict" });
      tx.oncomplete = () => resolve();
      // A failed request aborts the transaction (its error event is not cancelled: cancelling
      // it would commit the rest, e.g. a pending entry deleted whose copy in `failed` failed).
      tx.onabort = () => reject(tx.error ?? new Error("transaction aborted"));
      try {
        body(tx);
      } catch (error) {
        tx.abort();
        reject(error);
      }
    });
  }

  #read<T>(store: string, body: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      const tx = this.#db.transaction(store, "readonly");
      const request = body(tx.objectStore(store));
      tx.oncomplete = () => resolve(request.result);
      tx.onabort = () => reject(tx.error ?? request.error ?? new Error("transaction aborted"));
    });
  }
}

/** What is wrong with a `pending` entry, or undefined. */
function storedProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== "object") return "is not an object";
  const v = value as Partial<Record<keyof StoredRequest, unknown>>;
  if (typeof v.rpc !== "string") return "has no string 'rpc'";
  if (typeof v.description !== "string") return "has no string 'description'";
  if (!(v.data instanceof Uint8Array)) return "has no bytes 'data'";
  if (typeof v.createdAt !== "number" || typeof v.seq !== "number") {
    return "has no order ('createdAt', 'seq')";
  }
  return undefined;
}

function isQuotaError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "QuotaExceededError";
}

function describe(error: unknown): string {
  if (error instanceof Error || (error as { name?: unknown })?.name !== undefined) {
    const e = error as { name: string; message: string };
    return `${e.name}: ${e.message}`;
  }
  return String(error);
}
