// The task module `openfl-collaborator start -n NAME --tasks <this file>` runs in the OpenFL
// workspace fx-workspace.ts builds: OpenFL's three default tasks, softmax regression on this
// collaborator's CSV (its line of plan/data.yaml), split as the workspace's Python
// CsvShardLoader splits it (python/fx_workspace_src/dataloader.py).
import { readFileSync } from "node:fs";
import {
  type CollaboratorShard,
  parseCsvDataset,
  splitShard,
  type TaskSet,
} from "@openfl-connect/collaborator/browser";
import {
  CLASSES,
  createSoftmaxTasks,
  FEATURES,
  modelTensorNames,
  TRAINING,
} from "@openfl-connect/collaborator/tasks/softmax-regression";

/** What `openfl-collaborator start` hands createTaskSet (its TaskModuleContext). */
export interface FxTaskModuleContext {
  readonly collaboratorName: string;
  readonly workspaceDir: string;
  readonly dataPath: string | undefined;
  readonly planTasks: Readonly<Record<string, unknown>>;
  readonly optTreatment?: string;
}

/**
 * The plan's train kwargs this task set cannot follow (its SGD settings are fixed, as the Python
 * runner's defaults): a plan asking for other epochs or batch size is refused, not ignored.
 */
function refuseOtherTraining(planTasks: Readonly<Record<string, unknown>>): void {
  const kwargs = (planTasks.train as { kwargs?: Record<string, unknown> } | undefined)?.kwargs;
  const wanted = { epochs: TRAINING.epochs, batch_size: TRAINING.batchSize };
  for (const [key, value] of Object.entries(wanted)) {
    const planned = kwargs?.[key];
    if (planned !== undefined && planned !== value) {
      throw new Error(
        `plan tasks.train.kwargs.${key} is ${JSON.stringify(planned)}; this task set trains with ${key} ${value}`,
      );
    }
  }
}

export function createTaskSet(context: FxTaskModuleContext): TaskSet {
  if (context.dataPath === undefined) {
    throw new Error(
      `plan/data.yaml has no line for ${context.collaboratorName}: run fx collaborator create -n ${context.collaboratorName} -d data/${context.collaboratorName}.csv`,
    );
  }
  refuseOtherTraining(context.planTasks);
  const text = readFileSync(context.dataPath, "utf8");
  const shard: CollaboratorShard = splitShard(
    parseCsvDataset(text, { features: FEATURES, classes: CLASSES }),
  );
  return { tasks: createSoftmaxTasks(() => shard), modelTensorNames };
}
