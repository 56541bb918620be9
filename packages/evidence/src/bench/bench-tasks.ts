/** Task names the benchmark servers accept: every upload uses its own, so none is a duplicate. */
export const TASK_PREFIXES = ["py", "node2m", "node32m", "rss", "load"] as const;
export const TASKS_PER_PREFIX = 64;

export function benchTasks(): string[] {
  return TASK_PREFIXES.flatMap((p) =>
    Array.from({ length: TASKS_PER_PREFIX }, (_, i) => `${p}${i}`),
  );
}

export const MiB = 1024 * 1024;
