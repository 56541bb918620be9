// What `fx collaborator start -n NAME` reads from an OpenFL workspace, for this collaborator: the
// plan (uuids, address, network and collaborator settings), cols.yaml (NAME must be listed),
// data.yaml (NAME's data path), the certificates of the workspace layout, and the tasks' settings
// for the task module. Plan settings this client cannot honour are refused here, before any
// connection, naming the plan key and its value.
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { InvalidOptionError, pipelineFromTemplate } from "@openfl-connect/core";
import type { TaskModuleContext } from "../task-set.js";
import { kind, type ParsedPlan, type PlanMap, parsePlan } from "./openfl-plan.js";
import { toJson } from "./plan-json.js";
import { isPyMapping, PyFloat, type PyValue } from "./py-values.js";
import { loadPyYaml } from "./pyyaml-load.js";
import { WorkspaceError } from "./workspace-error.js";

export interface WorkspaceInput {
  /** The workspace directory (`fx` runs from it). */
  readonly dir: string;
  /** -n: this collaborator's name (its certificate's CN). */
  readonly collaboratorName: string;
  /** -p: the plan, relative to `dir`. Default plan/plan.yaml. */
  readonly planFile?: string;
  /** -d: the data paths, relative to `dir`. Default plan/data.yaml. */
  readonly dataFile?: string;
  /** The authorised collaborators, relative to `dir`. Default plan/cols.yaml. */
  readonly colsFile?: string;
  /** OpenFL's `openfl-workspace/workspace` for `defaults:` files. Default: OpenFL 1.9's, shipped. */
  readonly defaultsRoot?: string;
  readonly fqdn?: () => string;
}

/** A plan key this collaborator reads but does not act on, and why. */
export interface IgnoredPlanKey {
  readonly key: string;
  readonly value: string;
  readonly reason: string;
}

export interface CollaboratorWorkspace {
  readonly plan: ParsedPlan;
  /** Config values derived from the workspace (CollaboratorConfig's keys). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Where each derived value came from, for `plan show`. */
  readonly sources: Readonly<Record<string, string>>;
  /** What a task module's createTaskSet is given. */
  readonly taskContext: TaskModuleContext;
  readonly ignored: readonly IgnoredPlanKey[];
}

const asMap = (value: PyValue | undefined): PlanMap | undefined =>
  value !== undefined && isPyMapping(value) ? value : undefined;

/** Reads the workspace as OpenFL's collaborator does. */
export function readCollaboratorWorkspace(input: WorkspaceInput): CollaboratorWorkspace {
  const dir = resolve(input.dir);
  const name = input.collaboratorName;
  const at = (file: string) => (isAbsolute(file) ? file : join(dir, file));
  const planFile = at(input.planFile ?? "plan/plan.yaml");
  if (!existsSync(planFile)) {
    throw new WorkspaceError(
      "plan",
      `no plan at ${planFile}: run from an OpenFL workspace (fx workspace create / fx plan initialize), or give --workspace DIR or -p PLAN`,
    );
  }
  const plan = parsePlan(planFile, {
    ...(input.defaultsRoot === undefined ? {} : { defaultsRoot: input.defaultsRoot }),
    ...(input.fqdn === undefined ? {} : { fqdn: input.fqdn }),
  });
  const colsFile = at(input.colsFile ?? "plan/cols.yaml");
  checkListed(colsFile, name);
  refuseUnsupported(plan);

  const network = asMap(asMap(plan.config.network)?.settings) ?? {};
  const collaborator = asMap(asMap(plan.config.collaborator)?.settings) ?? {};
  const ignored: IgnoredPlanKey[] = [];
  const config: Record<string, unknown> = {
    aggAddr: plan.aggAddr,
    aggPort: plan.aggPort,
    aggregatorUuid: plan.aggregatorUuid,
    federationUuid: plan.federationUuid,
    collaboratorName: name,
  };
  const sources: Record<string, string> = {
    aggAddr: "network.settings.agg_addr",
    aggPort: "network.settings.agg_port",
    aggregatorUuid: `"aggregator_" + federationUuid`,
    federationUuid: `plan file name + "_" + sha384(merged plan)[:8]`,
    collaboratorName: "-n",
  };
  const take = (key: string, value: unknown, source: string) => {
    config[key] = value;
    sources[key] = source;
  };
  const bool = (section: string, settings: PlanMap, key: string): boolean | undefined => {
    const value = settings[key];
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") {
      throw new WorkspaceError(
        "plan",
        `plan ${plan.file}: ${section}.settings.${key}: expected true or false, got ${kind(value)}`,
      );
    }
    return value;
  };

  for (const [key, option] of [
    ["use_tls", "useTls"],
    ["require_client_auth", "requireClientAuth"],
    ["enable_atomic_connections", "enableAtomicConnections"],
    ["resend_data_on_reconnection", "resendDataOnReconnection"],
  ] as const) {
    const value = bool("network", network, key);
    if (value !== undefined) take(option, value, `network.settings.${key}`);
  }
  const protocol = transportProtocolOf(plan, network);
  if (protocol !== undefined) {
    take("transportProtocol", protocol, "network.settings.transport_protocol");
  }
  const interval = network.client_reconnect_interval;
  if (interval !== undefined) {
    const seconds = interval instanceof PyFloat ? interval.value : interval;
    if (typeof seconds !== "number" || !(seconds >= 0)) {
      throw new WorkspaceError(
        "plan",
        `plan ${plan.file}: network.settings.client_reconnect_interval: expected seconds >= 0, got ${kind(interval)}`,
      );
    }
    take(
      "retry",
      { intervalMs: Math.round(seconds * 1000) },
      "network.settings.client_reconnect_interval (seconds) x 1000",
    );
  }
  const useTls = config.useTls !== false;
  const requireClientAuth = config.requireClientAuth !== false;
  if (useTls) {
    // OpenFL's get_client_args: these paths, whatever cert_folder says.
    take(
      "rootCertificate",
      certificateFile(dir, "cert/cert_chain.crt", name),
      "cert/cert_chain.crt",
    );
    if (requireClientAuth) {
      take(
        "certificate",
        certificateFile(dir, `cert/client/col_${name}.crt`, name),
        `cert/client/col_${name}.crt`,
      );
      take(
        "privateKey",
        certificateFile(dir, `cert/client/col_${name}.key`, name),
        `cert/client/col_${name}.key`,
      );
    }
  }
  const delta = bool("collaborator", collaborator, "use_delta_updates");
  if (delta !== undefined)
    take("useDeltaUpdates", delta, "collaborator.settings.use_delta_updates");
  takeCompression(plan, take, ignored);

  const reasons: Record<string, string> = {
    hash_salt: "not used by OpenFL's collaborator either",
    cert_folder: "OpenFL's collaborator reads cert/ whatever it says; so does this one",
  };
  const used = new Set([
    "use_tls",
    "require_client_auth",
    "enable_atomic_connections",
    "resend_data_on_reconnection",
    "client_reconnect_interval",
    "agg_addr",
    "agg_port",
    "transport_protocol",
  ]);
  for (const [key, value] of Object.entries(network)) {
    if (used.has(key)) continue;
    ignored.push({
      key: `network.settings.${key}`,
      value: shown(value),
      reason: reasons[key] ?? "not a setting of OpenFL's gRPC client",
    });
  }
  if (collaborator.db_store_rounds !== undefined) {
    ignored.push({
      key: "collaborator.settings.db_store_rounds",
      value: shown(collaborator.db_store_rounds),
      reason: "this collaborator keeps only the round's model; no local tensor database to size",
    });
  }
  for (const section of ["task_runner", "data_loader"]) {
    const template = asMap(plan.config[section])?.template;
    if (template !== undefined) {
      ignored.push({
        key: `${section}.template`,
        value: shown(template),
        reason: "a Python class: the task module (--tasks) takes its place",
      });
    }
  }

  const optTreatment = collaborator.opt_treatment;
  const taskContext: TaskModuleContext = {
    collaboratorName: name,
    workspaceDir: dir,
    dataPath: dataPathOf(at(input.dataFile ?? "plan/data.yaml"), name, dir),
    planTasks: planTasksOf(plan),
    ...(typeof optTreatment === "string" ? { optTreatment } : {}),
  };
  return { plan, config, sources, taskContext, ignored };
}

/**
 * network.settings.transport_protocol as OpenFL's Plan.get_client reads it (lower-cased; grpc
 * or rest, anything else a ValueError there): undefined when the plan leaves it out (grpc).
 */
function transportProtocolOf(plan: ParsedPlan, network: PlanMap): "grpc" | "rest" | undefined {
  const value = network.transport_protocol;
  if (value === undefined) return undefined;
  const protocol = typeof value === "string" ? value.toLowerCase() : undefined;
  if (protocol === "grpc" || protocol === "rest") return protocol;
  throw new WorkspaceError(
    "plan",
    `plan ${plan.file}: network.settings.transport_protocol: expected grpc or rest (as OpenFL's Plan.get_client), got ${shown(value)}`,
  );
}

/** cols.yaml must list NAME: OpenFL's aggregator refuses any collaborator it does not. */
function checkListed(colsFile: string, name: string): void {
  if (!existsSync(colsFile)) {
    throw new WorkspaceError(
      "collaboratorName",
      `no ${colsFile}: the workspace's list of authorised collaborators (fx collaborator create -n ${name} on the aggregator writes it)`,
    );
  }
  const loaded = loadPyYaml(readFileSync(colsFile, "utf8"), colsFile);
  const listed = asMap(loaded)?.collaborators ?? [];
  const names = Array.isArray(listed) ? listed.filter((n) => typeof n === "string") : [];
  if (!names.includes(name)) {
    throw new WorkspaceError(
      "collaboratorName",
      `collaborator '${name}' is not in ${colsFile} (collaborators: ${names.join(", ") || "none"}): OpenFL's aggregator refuses a collaborator it does not list; on the aggregator, fx collaborator create -n ${name} adds it`,
    );
  }
}

/** What this client cannot do yet, refused before connecting, naming the key and value. */
function refuseUnsupported(plan: ParsedPlan): void {
  const fail = (key: string, value: PyValue | undefined, why: string) => {
    throw new WorkspaceError(
      "plan",
      `plan ${plan.file}: ${key}: ${shown(value)} is not supported by openfl-connect yet: ${why}`,
    );
  };
  const pipeline = asMap(plan.config.compression_pipeline)?.template;
  const collaborator = asMap(asMap(plan.config.collaborator)?.settings) ?? {};
  if (
    typeof pipeline === "string" &&
    /\bEdenPipeline$/.test(pipeline) &&
    collaborator.use_delta_updates === true
  ) {
    fail(
      "compression_pipeline.template",
      pipeline,
      "EdenPipeline's lossy deltas need torch to encode and decode; with collaborator.settings.use_delta_updates: false every tensor travels lossless and that works",
    );
  }
  const secure = asMap(asMap(plan.config.aggregator)?.settings)?.secure_aggregation;
  if (secure === true)
    fail("aggregator.settings.secure_aggregation", secure, "no secure aggregation");
  if (plan.config.connector !== undefined) {
    fail("connector", asMap(plan.config.connector)?.template, "no Flower interoperability");
  }
}

/** compression_pipeline: the template and the settings its pipeline reads, checked by core. */
function takeCompression(
  plan: ParsedPlan,
  take: (key: string, value: unknown, source: string) => void,
  ignored: IgnoredPlanKey[],
): void {
  const section = asMap(plan.config.compression_pipeline);
  const template = section?.template;
  if (template === undefined) return;
  const rawSettings = section?.settings ?? {};
  const settings = asMap(rawSettings);
  if (typeof template !== "string" || settings === undefined) {
    throw new WorkspaceError(
      "plan",
      typeof template !== "string"
        ? `plan ${plan.file}: compression_pipeline.template: expected a class name such as openfl.pipelines.STCPipeline, got ${kind(template)}`
        : `plan ${plan.file}: compression_pipeline.settings: expected a mapping, got ${kind(rawSettings)}`,
    );
  }
  const values = toJson(settings) as Record<string, unknown>;
  let pipeline: ReturnType<typeof pipelineFromTemplate>;
  try {
    pipeline = pipelineFromTemplate(template, values);
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    throw new WorkspaceError(
      "plan",
      `plan ${plan.file}: ${error.option}: expected ${error.expected}, got ${shown(settingValue(error.option, template, settings))}`,
    );
  }
  take("compressionPipeline", template, "compression_pipeline.template");
  // Core's pipelineFromTemplate keeps exactly the settings the pipeline reads.
  const read: Readonly<Record<string, unknown>> = pipeline;
  for (const [key, value] of Object.entries(settings)) {
    const option = key === "p_sparsity" ? "pSparsity" : key === "n_clusters" ? "nClusters" : "";
    if (option !== "" && read[option] !== undefined) {
      take(option, values[key], `compression_pipeline.settings.${key}`);
    } else {
      ignored.push({
        key: `compression_pipeline.settings.${key}`,
        value: shown(value),
        reason: `not read by ${template.split(".").at(-1)} (OpenFL's takes it and drops it)`,
      });
    }
  }
}

/** The plan value an InvalidOptionError of pipelineFromTemplate names. */
function settingValue(option: string, template: string, settings: PlanMap): PyValue | undefined {
  const prefix = "compression_pipeline.settings.";
  return option.startsWith(prefix) ? settings[option.slice(prefix.length)] : template;
}

/** NAME's line of data.yaml (`NAME,PATH`, `#` comments), as OpenFL reads it; the path resolved. */
function dataPathOf(dataFile: string, name: string, dir: string): string | undefined {
  if (!existsSync(dataFile)) return undefined;
  for (const raw of readFileSync(dataFile, "utf8").split("\n")) {
    const line = raw.trimEnd();
    if (line.length === 0 || line.startsWith("#")) continue;
    const comma = line.indexOf(",");
    if (comma === -1) continue;
    if (line.slice(0, comma) === name) {
      const path = line.slice(comma + 1);
      return isAbsolute(path) ? path : join(dir, path);
    }
  }
  return undefined;
}

/** The plan's tasks as OpenFL's get_tasks hands them on (no `settings`, no `defaults`), as JSON. */
function planTasksOf(plan: ParsedPlan): Readonly<Record<string, unknown>> {
  const tasks = asMap(plan.config.tasks) ?? {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tasks)) {
    if (key !== "settings" && key !== "defaults") out[key] = toJson(value);
  }
  return out;
}

function certificateFile(dir: string, relative: string, name: string): string {
  const file = join(dir, relative);
  if (!existsSync(file)) {
    const how = relative.startsWith("cert/client/")
      ? `fx collaborator generate-cert-request -n ${name}, then on the aggregator fx collaborator certify, then fx collaborator certify --import`
      : "the aggregator's workspace export holds it (fx workspace export / fx collaborator certify --import)";
    throw new WorkspaceError("certificate", `the workspace has no ${relative} (${file}): ${how}`);
  }
  return file;
}

function shown(value: PyValue | undefined): string {
  const json = toJson(value);
  return typeof json === "string" ? json : JSON.stringify(json);
}
