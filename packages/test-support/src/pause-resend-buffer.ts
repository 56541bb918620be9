import { parsePendingTaskResults, type ResendBuffer } from "@openfl-connect/core";

/** Where a paused collaborator stops: after an upload is persisted, or after its acknowledgement. */
export type PausePhase = "pause-after-persist" | "pause-before-ack";

/** The environment variable that asks `collaborator-cli-entry.ts` to pause: "<phase>:<task>". */
export const PAUSE_ENV = "OPENFL_COLLABORATOR_TEST_HOOK";

/**
 * Wraps a resend buffer so that the process hangs (until killed) right after the upload of
 * `task`'s results is persisted, or right after the aggregator acknowledged it but before it
 * leaves the buffer: the two crash points of the durable-buffer (SIGKILL) tests.
 */
export function pauseResendBuffer(
  buffer: ResendBuffer,
  spec: string | undefined,
  onPause: (details: Record<string, unknown>) => void,
): ResendBuffer {
  const match = /^(pause-after-persist|pause-before-ack):(.+)$/.exec(spec ?? "");
  if (!match) return buffer;
  const [, phase, task] = match;
  const taskOf = new Map<string, string>();
  const hang = (id: string) => {
    onPause({ phase, task, id });
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
    ...(buffer.discard ? { discard: buffer.discard.bind(buffer) } : {}),
    list: () => buffer.list(),
  };
}
