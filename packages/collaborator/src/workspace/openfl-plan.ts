// OpenFL's Plan.parse as a collaborator runs it (openfl/federated/plan/plan.py): the plan file,
// every section given a `settings` mapping, each section's `defaults:` file merged under it (in
// sorted section order), then the hash over PyYAML's dump of the merged plan, and from it the
// federation and aggregator uuids and an `auto` aggregator port. A user copies nothing by hand.
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { planHash } from "./plan-hash.js";
import {
  isPyMapping,
  PlanYamlError,
  PyDate,
  PyDateTime,
  PyFloat,
  type PyValue,
  setPyKey,
} from "./py-values.js";
import { loadPyYaml } from "./pyyaml-load.js";
import { WorkspaceError } from "./workspace-error.js";

/** A mapping of a loaded plan. */
export type PlanMap = Record<string, PyValue>;

/** OpenFL 1.9's own defaults files, shipped with this package (README there). */
export const BUNDLED_OPENFL_DEFAULTS = fileURLToPath(
  new URL("../../openfl-plan-defaults/", import.meta.url),
);

export interface ParsePlanOptions {
  /**
   * The directory `defaults:` paths are relative to: OpenFL's `openfl-workspace/workspace`.
   * Default: OpenFL 1.9's files shipped with this package.
   */
  readonly defaultsRoot?: string;
  /** This machine's name, for `agg_addr: auto` (OpenFL: the FQDN env var, else getfqdn()). */
  readonly fqdn?: () => string;
}

export interface ParsedPlan {
  /** The plan file, as given. */
  readonly file: string;
  /** The merged plan, as OpenFL holds it after Plan.parse (`auto` values resolved). */
  readonly config: PlanMap;
  /** sha384 of PyYAML's dump of the merged plan, before `auto` values are resolved (hex). */
  readonly hash: string;
  /** `<plan file name>_<hash[:8]>`. */
  readonly federationUuid: string;
  /** `aggregator_<federationUuid>`. */
  readonly aggregatorUuid: string;
  readonly aggAddr: string;
  readonly aggPort: number;
  /** The defaults files merged, in order. */
  readonly defaultsFiles: readonly string[];
  /** What was derived rather than read, for `plan show`. */
  readonly notes: readonly string[];
}

/** OpenFL's generate_port: the first 8 hex digits of a hash, into 49152..60998. */
export function generatePort(hash: string): number {
  const minPort = 49152;
  const maxPort = 60999;
  return (Number.parseInt(hash.slice(0, 8), 16) % (maxPort - minPort)) + minPort;
}

function isMap(value: PyValue | undefined): value is PlanMap {
  return value !== undefined && isPyMapping(value);
}

/** Python's dict.update: `from`'s entries into `into` (a `__proto__` key is just a key). */
function update(into: PlanMap, from: PlanMap): void {
  for (const [key, value] of Object.entries(from)) setPyKey(into, key, value);
}

function loadFile(file: string, what: string): PyValue {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new WorkspaceError("plan", `cannot read ${what} ${file}: ${(error as Error).message}`);
  }
  try {
    return loadPyYaml(text, file);
  } catch (error) {
    if (error instanceof PlanYamlError) throw new WorkspaceError("plan", error.message);
    throw error;
  }
}

/** Reads and merges the plan as OpenFL's Plan.parse does, and derives the federation's identity. */
export function parsePlan(file: string, options: ParsePlanOptions = {}): ParsedPlan {
  const loaded = loadFile(file, "plan");
  if (!isMap(loaded)) {
    throw new WorkspaceError(
      "plan",
      `plan ${file}: expected a mapping of sections, got ${kind(loaded)}`,
    );
  }
  const config = loaded;
  // _ensure_settings_in_sections: a section without settings (or with `settings:` empty) gets {}.
  for (const [name, section] of Object.entries(config)) {
    if (!isMap(section)) {
      throw new WorkspaceError(
        "plan",
        `plan ${file}: section '${name}': expected a mapping, got ${kind(section)}`,
      );
    }
    if (section.settings === undefined || section.settings === null)
      setPyKey(section, "settings", {});
  }
  const root = options.defaultsRoot ?? BUNDLED_OPENFL_DEFAULTS;
  const defaultsFiles: string[] = [];
  // _load_defaults: sections in sorted order; the defaults file under the section's own keys,
  // its settings under the section's settings. Not recursive, as in OpenFL.
  for (const name of Object.keys(config).sort()) {
    const section = config[name] as PlanMap;
    const named = section.defaults;
    if (named === undefined) continue;
    delete section.defaults;
    if (named === null) continue;
    if (typeof named !== "string") {
      throw new WorkspaceError(
        "plan",
        `plan ${file}: ${name}.defaults: expected a path such as plan/defaults/${name}.yaml, got ${kind(named)}`,
      );
    }
    const defaultsFile = join(root, named);
    if (!existsSync(defaultsFile)) {
      throw new WorkspaceError(
        "plan",
        `plan ${file}: ${name}.defaults names ${named}, which OpenFL's defaults (${root}) do not have` +
          (options.defaultsRoot === undefined
            ? " (this package ships OpenFL 1.9's; give --openfl-defaults <openfl-workspace/workspace> for another OpenFL)"
            : ""),
      );
    }
    defaultsFiles.push(defaultsFile);
    const defaults = loadFile(defaultsFile, `defaults of section '${name}'`);
    if (!isMap(defaults)) {
      throw new WorkspaceError(
        "plan",
        `defaults ${defaultsFile}: expected a mapping, got ${kind(defaults)}`,
      );
    }
    if ("settings" in defaults) {
      if (!isMap(defaults.settings)) {
        throw new WorkspaceError(
          "plan",
          `defaults ${defaultsFile}: settings: expected a mapping, got ${kind(defaults.settings)}`,
        );
      }
      update(defaults.settings, section.settings as PlanMap);
      setPyKey(section, "settings", defaults.settings);
    }
    update(defaults, section);
    setPyKey(config, name, defaults);
  }
  const hash = planHash(config);
  const federationUuid = `${basename(file)}_${hash.slice(0, 8)}`;
  const notes: string[] = [];
  const network = config.network;
  if (!isMap(network) || !isMap(network.settings)) {
    throw new WorkspaceError("plan", `plan ${file}: no network section (network.settings)`);
  }
  if (network.settings.agg_addr === "auto") {
    // OpenFL's getfqdn_env(): the aggregator's own name. Right only when it runs here.
    const fqdn = (options.fqdn ?? defaultFqdn)();
    network.settings.agg_addr = fqdn;
    notes.push(
      `network.settings.agg_addr is auto: ${fqdn}, this machine's name, as OpenFL's collaborator does (right only when the aggregator runs here)`,
    );
  }
  if (network.settings.agg_port === "auto") {
    // As OpenFL: from the hash of the plan as it is now (agg_addr resolved).
    const port = generatePort(planHash(config));
    network.settings.agg_port = port;
    notes.push(
      `network.settings.agg_port is auto: ${port}, from the plan's hash as OpenFL derives it`,
    );
  }
  if (config.connector !== undefined) {
    // As OpenFL's resolve(): a Flower connector's `auto` ports (connector.settings, then
    // tasks.settings), each from the hash of the plan as it is at that moment. This client
    // refuses a connector, but the plan it shows is OpenFL's.
    for (const section of ["connector", "tasks"]) {
      const sectionMap = config[section];
      const settings = isMap(sectionMap) ? sectionMap.settings : undefined;
      if (!isMap(settings)) continue;
      for (const [key, value] of Object.entries(settings)) {
        if (value === "auto") setPyKey(settings, key, generatePort(planHash(config)));
      }
    }
  }
  const aggAddr = network.settings.agg_addr;
  const aggPort = network.settings.agg_port;
  if (typeof aggAddr !== "string" || aggAddr === "") {
    throw new WorkspaceError(
      "plan",
      `plan ${file}: network.settings.agg_addr: expected the aggregator's host name, got ${kind(aggAddr)}`,
    );
  }
  if (typeof aggPort !== "number" || !Number.isInteger(aggPort) || aggPort < 1 || aggPort > 65535) {
    throw new WorkspaceError(
      "plan",
      `plan ${file}: network.settings.agg_port: expected a port 1..65535 or auto, got ${kind(aggPort)}`,
    );
  }
  return {
    file,
    config,
    hash,
    federationUuid,
    aggregatorUuid: `aggregator_${federationUuid}`,
    aggAddr,
    aggPort,
    defaultsFiles,
    notes,
  };
}

function defaultFqdn(): string {
  const fromEnv = process.env.FQDN;
  return fromEnv !== undefined && fromEnv !== "" ? fromEnv : hostname();
}

/** A value for an error message: its YAML-ish text and Python type. */
export function kind(value: PyValue | undefined): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (value instanceof PyFloat) return String(value.value);
  if (value instanceof PyDate || value instanceof PyDateTime) return value.isoformat();
  if (isPyMapping(value)) return "a mapping";
  return JSON.stringify(typeof value === "bigint" ? String(value) : value) ?? String(value);
}
