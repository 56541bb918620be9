// Reads the collaborator's configuration: the YAML file, then env vars, then flags (flags win),
// each key checked where it came from.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "./config-error.js";
import { parseFlags } from "./config-flags.js";
import { envName, flagName } from "./config-names.js";
import {
  CONFIG_SCHEMA,
  type CollaboratorConfig,
  configKeys,
  RETRY_SCHEMA,
} from "./config-schema.js";
import { checkValue, coerce } from "./config-values.js";

export interface LoadConfigInput {
  /** Command-line arguments after the script (`--config FILE`, `--agg-port 50051`, ...). */
  readonly argv?: readonly string[];
  /** Environment (`OPENFL_AGG_PORT=50051`, `OPENFL_CONFIG=file.yaml`, ...). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Base of relative paths given by flags or env vars. Default process.cwd(). */
  readonly cwd?: string;
  /**
   * Values that come before the file, env vars and flags (which all win over them): what
   * `openfl-collaborator start` derived from an OpenFL workspace. Keys as in the file.
   */
  readonly base?: Readonly<Record<string, unknown>>;
  /** The config file when no --config or OPENFL_CONFIG names one (start: the workspace overlay). */
  readonly defaultConfigFile?: string;
}

/**
 * Reads the YAML file named by `--config` (or OPENFL_CONFIG), then applies env vars, then
 * flags (flags win). Checks every key: unknown keys, wrong types and missing required keys
 * throw ConfigError naming the key and where it came from.
 */
export function loadConfig(input: LoadConfigInput = {}): CollaboratorConfig {
  const env = input.env ?? {};
  const cwd = input.cwd ?? process.cwd();
  const flags = parseFlags(input.argv ?? []);
  const configPath = flags.config ?? env.OPENFL_CONFIG ?? input.defaultConfigFile;
  const merged: Record<string, unknown> = structuredClone({ ...(input.base ?? {}) });
  if (configPath !== undefined) {
    const file = resolve(cwd, configPath);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new ConfigError(undefined, `cannot read config file ${file}: ${message(error)}`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (error) {
      throw new ConfigError(undefined, `config file ${file} is not valid YAML: ${message(error)}`);
    }
    checkDocument(doc ?? {}, file, merged, dirname(file));
  }
  for (const key of configKeys()) {
    const value = env[envName(key)];
    if (value !== undefined) setKey(merged, key, coerce(key, value, `env ${envName(key)}`, cwd));
  }
  for (const [key, raw] of Object.entries(flags.values)) {
    setKey(merged, key, coerce(key, raw, `flag ${flagName(key)}`, cwd));
  }
  for (const [key, field] of Object.entries(CONFIG_SCHEMA)) {
    if (field.required && merged[key] === undefined) {
      throw new ConfigError(
        key,
        `missing required config key '${key}' (YAML key ${key}, flag ${flagName(key)} or env ${envName(key)})`,
      );
    }
  }
  return merged as unknown as CollaboratorConfig;
}

function checkDocument(
  doc: unknown,
  file: string,
  into: Record<string, unknown>,
  baseDir: string,
): void {
  if (!isPlainObject(doc))
    throw new ConfigError(undefined, `config file ${file} must be a mapping`);
  for (const [key, value] of Object.entries(doc)) {
    if (key === "retry") {
      if (!isPlainObject(value)) {
        throw new ConfigError("retry", `config key 'retry' in ${file}: expected a mapping`);
      }
      for (const [sub, subValue] of Object.entries(value)) {
        const field = RETRY_SCHEMA[sub];
        if (field === undefined) throw unknownKey(`retry.${sub}`, file);
        setKey(into, `retry.${sub}`, checkValue(`retry.${sub}`, field, subValue, file, baseDir));
      }
      continue;
    }
    const field = CONFIG_SCHEMA[key];
    if (field === undefined) throw unknownKey(key, file);
    into[key] = checkValue(key, field, value, file, baseDir);
  }
}

/** OpenFL plan keys whose counterpart here is not just the camelCase spelling. */
const OPENFL_KEY_HINTS: Readonly<Record<string, string>> = {
  client_reconnect_interval:
    "did you mean 'retry.intervalMs'? It is in milliseconds: client_reconnect_interval 5 (seconds) is retry.intervalMs 5000",
  db_store_rounds:
    "it has no equivalent here: this collaborator keeps only the round's model; leave it out",
  transport_protocol: "did you mean 'transportProtocol'? grpc (the default) or rest",
  cert_folder:
    "give rootCertificate, certificate and privateKey, or run openfl-collaborator start -n NAME in the workspace",
};

function unknownKey(key: string, where: string): ConfigError {
  const known = configKeys();
  const close = known.find((k) => k.toLowerCase() === key.toLowerCase().replace(/[_-]/g, ""));
  const hint = OPENFL_KEY_HINTS[key] ?? (close ? `did you mean '${close}'?` : undefined);
  return new ConfigError(
    key,
    `unknown config key '${key}' in ${where}${hint ? ` (${hint})` : ""}; known keys: ${known.join(", ")}`,
  );
}

function setKey(into: Record<string, unknown>, key: string, value: unknown): void {
  if (!key.startsWith("retry.")) {
    into[key] = value;
    return;
  }
  const retry = (into.retry ?? {}) as Record<string, unknown>;
  retry[key.slice(6)] = value;
  into.retry = retry;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
