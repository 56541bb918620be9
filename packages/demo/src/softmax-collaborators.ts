// The demos' Node collaborators: each a collaborator service, in this process, with the softmax
// task set (or the one `taskSetFor` gives it), until the aggregator says quit (or `signal`
// aborts). One list of failures for every demo.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type CollaboratorConfig,
  createCollaborator,
  createLogger,
  silentLogger,
} from "@openfl-connect/collaborator";
import type { TaskSet } from "@openfl-connect/collaborator/browser";
import * as softmax from "@openfl-connect/collaborator/tasks/softmax-regression";
import { collaboratorConnection, type TestPki } from "@openfl-connect/reference-aggregator/pki";

export interface SoftmaxCollaboratorsOptions {
  readonly names: readonly string[];
  readonly pki: TestPki;
  readonly endpoint: {
    readonly port: number;
    readonly aggregatorUuid: string;
    readonly federationUuid: string;
  };
  /** Each collaborator's pending uploads go to `<dir>/pending-<name>`. */
  readonly dir: string;
  readonly signal: AbortSignal;
  /** Print the collaborators' log lines. */
  readonly verbose: boolean;
  /** Config keys besides the connection, e.g. maxSleepSeconds or useDeltaUpdates. */
  readonly extra?: Partial<CollaboratorConfig>;
  /** Each collaborator's task set. Default: the softmax regression on its synthetic blobs. */
  readonly taskSetFor?: (name: string) => TaskSet;
}

/** Runs them all; returns one line per collaborator that did not end with the aggregator's quit. */
export async function runSoftmaxCollaborators(o: SoftmaxCollaboratorsOptions): Promise<string[]> {
  const tasks = fileURLToPath(
    import.meta.resolve("@openfl-connect/collaborator/tasks/softmax-regression"),
  );
  const runs = await Promise.allSettled(
    o.names.map(async (name) => {
      const config: CollaboratorConfig = {
        ...collaboratorConnection(o.pki, name, o.endpoint),
        tasks,
        pendingDir: join(o.dir, `pending-${name}`),
        ...o.extra,
      };
      const logger = o.verbose
        ? createLogger("pretty", process.stdout, { collaborator: name })
        : silentLogger;
      const taskSet = o.taskSetFor?.(name) ?? softmax;
      const parts = await createCollaborator(config, { logger, taskSet });
      try {
        return await parts.service.run({ signal: o.signal });
      } finally {
        await parts.close();
      }
    }),
  );
  return runs.flatMap((r, i) =>
    r.status === "rejected"
      ? [`${o.names[i]}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`]
      : r.value.t !== "quit"
        ? [`${o.names[i]}: stopped before the aggregator said quit (time limit)`]
        : [],
  );
}
