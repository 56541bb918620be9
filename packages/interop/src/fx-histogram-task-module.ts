// The task module ours runs in OpenFL's federated_analytics/histogram workspace: its `analytics`
// task as the template's IrisHistogram computes it (np.histogram of each column the plan's
// kwargs name, bins np.linspace(2.0, 10.0, 10)) on this collaborator's shard of iris as the
// template's IRISInMemory takes it (rows shard-1, shard-1+count, ...: pandas iloc[shard-1::count]).
// The iris table is data/iris.csv in the workspace (what IRISInMemory writes to data/client.csv,
// sklearn's load_iris; the test writes it), the shard count the number of collaborators in
// plan/cols.yaml (the test sets the plan's collaborator_count to it).
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { TaskSet } from "@openfl-connect/collaborator/browser";
import type { FxTaskModuleContext } from "./fx-softmax-task-module.js";

/** np.linspace(2.0, 10.0, 10): arange(10) * step + start, the last edge exactly stop. */
export const HISTOGRAM_EDGES = Array.from({ length: 10 }, (_, i) =>
  i === 9 ? 10 : i * (8 / 9) + 2,
);

/** np.histogram(values, bins=edges): [edge_i, edge_i+1) each, the last bin closed; others out. */
export function histogram(values: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array(edges.length - 1).fill(0);
  const last = edges.length - 1;
  for (const v of values) {
    if (!(v >= (edges[0] as number) && v <= (edges[last] as number))) continue;
    let bin = 0;
    while (bin < last - 1 && v >= (edges[bin + 1] as number)) bin++;
    counts[bin]++;
  }
  return counts;
}

function columnsOf(planTasks: Readonly<Record<string, unknown>>): string[] {
  const kwargs = (planTasks.analytics as { kwargs?: { columns?: unknown } } | undefined)?.kwargs;
  const columns = kwargs?.columns;
  if (!Array.isArray(columns) || !columns.every((c) => typeof c === "string")) {
    throw new Error("plan tasks.analytics.kwargs.columns must be a list of column names");
  }
  return columns;
}

export function createTaskSet(context: FxTaskModuleContext): TaskSet {
  const shard = Number(basename(context.dataPath ?? ""));
  if (!Number.isInteger(shard) || shard < 1) {
    throw new Error(
      `plan/data.yaml must give ${context.collaboratorName} its shard number (1, 2, ...), got ${context.dataPath}`,
    );
  }
  const cols = readFileSync(join(context.workspaceDir, "plan", "cols.yaml"), "utf8");
  const count = cols.split("\n").filter((line) => /^\s*-\s+\S/.test(line)).length;
  const [header, ...rows] = readFileSync(join(context.workspaceDir, "data", "iris.csv"), "utf8")
    .trim()
    .split("\n");
  const names = (header ?? "").split(",");
  const mine = rows.filter((_, i) => i % count === shard - 1).map((r) => r.split(",").map(Number));
  const columns = columnsOf(context.planTasks);
  return {
    tasks: {
      analytics: {
        modelTensors: [],
        run: async () => {
          const analytics: Record<string, { shape: number[]; data: Float32Array }> = {};
          for (const column of columns) {
            const at = names.indexOf(column);
            if (at === -1) throw new Error(`iris has no column '${column}' (${names.join(", ")})`);
            const counts = histogram(
              mine.map((row) => row[at] as number),
              HISTOGRAM_EDGES,
            );
            analytics[`${column} histogram`] = { shape: [9], data: Float32Array.from(counts) };
            analytics[`${column} bins`] = { shape: [10], data: Float32Array.from(HISTOGRAM_EDGES) };
          }
          // OpenFL sends data_size -1 for a task named neither train nor valid.
          return { dataSize: -1, analytics };
        },
      },
    },
  };
}
