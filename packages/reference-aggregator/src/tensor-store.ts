// The aggregator's tensors by (name, round, report, tags), as OpenFL's TensorDB keeps them, and
// waiting for one that is not stored yet (e.g. the next round's model).
import type { Float32Tensor } from "@openfl-connect/core";

/** Which tensor; `tags` as normaliseTags leaves them. */
export interface TensorStoreKey {
  readonly name: string;
  readonly round: number;
  readonly report: boolean;
  readonly tags: readonly string[];
}

interface Waiter {
  readonly key: string;
  readonly wake: () => void;
}

/** Stored tensors are never modified (a new round stores new ones): callers may share their data. */
export class TensorStore {
  private readonly tensors = new Map<string, Float32Tensor>();
  private readonly waiters = new Set<Waiter>();

  get(key: TensorStoreKey): Float32Tensor | undefined {
    return this.tensors.get(keyString(key));
  }

  /** Stores every entry, then wakes the waits for any tensor now stored. */
  add(entries: Iterable<readonly [TensorStoreKey, Float32Tensor]>): void {
    for (const [key, tensor] of entries) this.tensors.set(keyString(key), tensor);
    for (const waiter of [...this.waiters]) {
      if (this.tensors.has(waiter.key)) waiter.wake();
    }
  }

  /**
   * The tensor once it is stored; after `waitMs`, or once `signal` aborts, whatever is stored
   * then (undefined if still nothing).
   */
  waitFor(
    key: TensorStoreKey,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<Float32Tensor | undefined> {
    const k = keyString(key);
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", finish);
        this.waiters.delete(waiter);
        resolve(this.tensors.get(k));
      };
      const waiter: Waiter = { key: k, wake: finish };
      const timer = setTimeout(finish, waitMs);
      this.waiters.add(waiter);
      signal?.addEventListener("abort", finish, { once: true });
    });
  }
}

function keyString({ name, round, report, tags }: TensorStoreKey): string {
  return JSON.stringify([name, round, report, tags]);
}
