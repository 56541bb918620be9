// `openfl-collaborator plan show -n NAME`: what start derives from the workspace, where each value
// comes from, and which plan keys it reads but leaves alone (and why). No connection is made.
import type { CollaboratorWorkspace } from "./collaborator-workspace.js";

/** The report, as lines of text. `final` is the config after overlay, env and flags, if known. */
export function describeWorkspace(
  workspace: CollaboratorWorkspace,
  final: Readonly<Record<string, unknown>> | undefined,
  overlay: string | undefined,
): string {
  const { plan } = workspace;
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`${label.padEnd(18)} ${value}`);
  row("plan", plan.file);
  for (const file of plan.defaultsFiles) row("  defaults", file);
  row("plan hash", `${plan.hash} (sha384 of PyYAML's dump of the merged plan)`);
  row("federation uuid", `${plan.federationUuid} (plan file name + "_" + hash[:8])`);
  row("aggregator uuid", plan.aggregatorUuid);
  const shownConfig = final ?? workspace.config;
  for (const [key, value] of Object.entries(shownConfig)) {
    if (key === "aggregatorUuid" || key === "federationUuid") continue;
    const source = workspace.sources[key];
    const derived = workspace.config[key];
    const changed = source !== undefined && JSON.stringify(derived) !== JSON.stringify(value);
    const from = changed
      ? `overlay, env or flag (the workspace said ${JSON.stringify(derived)})`
      : (source ?? (overlay ? `overlay ${overlay}, env or flag` : "env or flag"));
    row(key, `${JSON.stringify(value)}  <- ${from}`);
  }
  const context = workspace.taskContext;
  row("data path", context.dataPath ?? "(none: plan/data.yaml has no line for this collaborator)");
  row(
    "plan tasks",
    Object.entries(context.planTasks)
      .map(([name, task]) => `${name} (${(task as { function?: unknown })?.function ?? "?"})`)
      .join(", ") || "(none)",
  );
  if (context.optTreatment !== undefined) row("opt_treatment", context.optTreatment);
  if (final?.tasks === undefined) {
    row("task module", "(none yet: give --tasks MODULE, or tasks: in plan/openfl-connect.yaml)");
  }
  for (const note of plan.notes) row("note", note);
  for (const key of workspace.ignored) row("not used", `${key.key} = ${key.value}: ${key.reason}`);
  return `${lines.join("\n")}\n`;
}
