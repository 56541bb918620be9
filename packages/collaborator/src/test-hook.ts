import { parsePendingTaskResults, type ResendBuffer } from "@openfl-connect/core";
import type { Logger } from "./logger.js";

/**
 * Test-only: env OPENFL_COLLABORATOR_TEST_HOOK = "pause-after-persist:<task>" or
 * "pause-before-ack:<task>" makes the process hang (until killed) right after the upload of
 * `<task>`'s results is persisted, or right after the aggregator acknowledged it but before
 * the pending files are deleted. Used by the crash (SIGKILL) tests of the durable buffer.
 */
export function withTestHook(
  buffer: ResendBuffer,
  hook: string | undefined,
  logger: Logger,
): ResendBuffer {
  const match = /^(pause-after-persist|pause-before-ack):(.+)$/.exec(hook ?? "");
  if (!match) return buffer;
  const [, phase, task] = match;
  const taskOf = new Map<string, string>();
  const hang = (id: string) => {
    logger("warn", "test hook: paused", { phase, task, id });
    return new Promise<never>(() => setInterval(() => {}, 1 << 30));
  };
  return {
    async add(request) {
      await buffer.add(request);
      const taskName = parsePendingTaskResults(request).taskName;
      taskOf.set(request.id, taskName);
      if (phase === "pause-after-persist" && taskName === task) await hang(request.id);
    },
    async acknowledge(id) {
      if (phase === "pause-before-ack" && taskOf.get(id) === task) await hang(id);
      await buffer.acknowledge(id);
    },
    list: () => buffer.list(),
  };
}
