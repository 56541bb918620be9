// `openfl-collaborator start`: the config is what the workspace says (the plan, cols.yaml,
// data.yaml, the certificates), then the overlay file beside the plan (plan/openfl-connect.yaml:
// the task module and anything this collaborator adds, in the --config file's schema), then env
// vars, then flags. One schema serves the workspace and a --config file.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadConfig } from "../config.js";
import { ConfigError } from "../config-error.js";
import type { CollaboratorConfig } from "../config-schema.js";
import type { TaskModuleContext } from "../task-set.js";
import { type CollaboratorWorkspace, readCollaboratorWorkspace } from "./collaborator-workspace.js";
import type { WorkspaceArgs } from "./workspace-args.js";

/** The overlay file's place, relative to the workspace. */
export const OVERLAY_FILE = "plan/openfl-connect.yaml";

export interface StartConfig {
  readonly config: CollaboratorConfig;
  readonly workspace: CollaboratorWorkspace;
  readonly taskContext: TaskModuleContext;
  /** The overlay file read, if there was one. */
  readonly overlay: string | undefined;
}

/** The workspace the flags name (relative paths against `cwd`). */
export function readWorkspaceFor(
  args: WorkspaceArgs,
  cwd: string = process.cwd(),
): CollaboratorWorkspace {
  return readCollaboratorWorkspace({
    dir: resolve(cwd, args.workspaceDir ?? "."),
    collaboratorName: args.collaboratorName,
    ...(args.planFile === undefined ? {} : { planFile: resolve(cwd, args.planFile) }),
    ...(args.dataFile === undefined ? {} : { dataFile: resolve(cwd, args.dataFile) }),
    ...(args.defaultsRoot === undefined ? {} : { defaultsRoot: resolve(cwd, args.defaultsRoot) }),
  });
}

/** Reads the workspace (unless given, already read), then the overlay, env vars and flags over it. */
export function loadStartConfig(
  args: WorkspaceArgs,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
  workspace: CollaboratorWorkspace = readWorkspaceFor(args, cwd),
): StartConfig {
  const overlayFile = join(workspace.taskContext.workspaceDir, OVERLAY_FILE);
  const overlay = existsSync(overlayFile) ? overlayFile : undefined;
  let config: CollaboratorConfig;
  try {
    config = loadConfig({
      argv: args.rest,
      env,
      cwd,
      base: workspace.config,
      ...(overlay === undefined ? {} : { defaultConfigFile: overlay }),
    });
  } catch (error) {
    if (
      error instanceof ConfigError &&
      error.key === "tasks" &&
      /missing required/.test(error.message)
    ) {
      throw new ConfigError(
        "tasks",
        `no task module: give --tasks MODULE, or write "tasks: ../src/tasks.ts" (relative to it) in ${overlayFile}; the module exports tasks, or createTaskSet(context) to get the workspace's data path and task settings`,
      );
    }
    throw error;
  }
  return { config, workspace, taskContext: workspace.taskContext, overlay };
}
