import type { Readable } from "node:stream";

/** A child's stdout read as JSON lines (a line that is not JSON becomes `{ raw }`). */
export interface JsonLines {
  /** Every line so far, in order. */
  readonly lines: Record<string, unknown>[];
  /**
   * The first line (already seen or to come) that `matches`; rejects when `ended` resolves
   * first (the child exited) or after `timeoutMs` (default: no limit but `ended`), saying what
   * was awaited.
   */
  waitFor(
    matches: (line: Record<string, unknown>) => boolean,
    options: {
      readonly what: string;
      readonly ended: Promise<unknown>;
      readonly timeoutMs?: number;
    },
  ): Promise<Record<string, unknown>>;
}

export function jsonLines(stream: Readable): JsonLines {
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let buffered = "";
  stream.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ raw: line });
      }
    }
    for (const wake of waiters) wake();
  });
  return {
    lines,
    waitFor(matches, { what, ended, timeoutMs }) {
      return new Promise((resolve, reject) => {
        const settle = (error?: Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
        };
        const check = () => {
          const found = lines.find(matches);
          if (found === undefined) return false;
          settle();
          resolve(found);
          return true;
        };
        const timer =
          timeoutMs === undefined
            ? undefined
            : setTimeout(() => settle(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
        waiters.add(check);
        if (check()) return;
        // Lines still buffered in the pipe arrive before 'exit' is handled: check once more.
        void ended.then(() =>
          setTimeout(() => check() || settle(new Error(`exited before printing ${what}`)), 0),
        );
      });
    },
  };
}
