// The flags `openfl-collaborator start` and `plan show` take as `fx collaborator start` does
// (-n NAME, -p PLAN, -d DATA), plus where the workspace and OpenFL's defaults are. Every other
// argument is a config flag (--tasks, --pending-dir, ...), passed on as it is.
import { ConfigError } from "../config-error.js";

export interface WorkspaceArgs {
  readonly collaboratorName: string;
  readonly planFile?: string;
  readonly dataFile?: string;
  readonly workspaceDir?: string;
  readonly defaultsRoot?: string;
  /** The arguments left for the config (flags such as --tasks). */
  readonly rest: readonly string[];
}

const VALUE_FLAGS: Readonly<Record<string, keyof Omit<WorkspaceArgs, "rest">>> = {
  "-n": "collaboratorName",
  "--collaborator-name": "collaboratorName",
  "-p": "planFile",
  "--plan": "planFile",
  "-d": "dataFile",
  "--data-config": "dataFile",
  "--workspace": "workspaceDir",
  "--openfl-defaults": "defaultsRoot",
};

/** Splits `argv` (after `start` or `plan show`) into the workspace's flags and the rest. */
export function parseWorkspaceArgs(argv: readonly string[], command: string): WorkspaceArgs {
  const found: Partial<Record<keyof Omit<WorkspaceArgs, "rest">, string>> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const field = VALUE_FLAGS[flag];
    if (field === undefined) {
      rest.push(arg);
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === "" || (eq === -1 && value.startsWith("-"))) {
      throw new ConfigError(field, `${command}: flag ${flag} needs a value`);
    }
    found[field] = value;
  }
  if (found.collaboratorName === undefined) {
    throw new ConfigError(
      "collaboratorName",
      `${command}: which collaborator? Give -n NAME (its certificate's CN, listed in plan/cols.yaml), as for fx collaborator start`,
    );
  }
  return { ...found, collaboratorName: found.collaboratorName, rest };
}
