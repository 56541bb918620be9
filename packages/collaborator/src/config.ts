import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { MAX_TIMER_MS, type RetryOptions } from "@openfl-connect/core";
import { parse as parseYaml } from "yaml";
import type { LogFormat } from "./logger.js";

/** The collaborator's configuration: the Node client's options plus the service's own. */
export interface CollaboratorConfig {
  /** Aggregator host name or IP (OpenFL: agg_addr). Required. */
  readonly aggAddr: string;
  /** Aggregator port (OpenFL: agg_port). Required. */
  readonly aggPort: number;
  /** OpenFL: aggregator_uuid. Required. */
  readonly aggregatorUuid: string;
  /** OpenFL: federation_uuid. Required. */
  readonly federationUuid: string;
  /** This collaborator's name; equals its certificate's CN (OpenFL: collaborator_name). Required. */
  readonly collaboratorName: string;
  /** OpenFL: single_col_cert_common_name. Default "". */
  readonly singleColCertCommonName?: string;
  /** CA bundle PEM path (OpenFL: root_certificate). */
  readonly rootCertificate?: string;
  /** Client certificate PEM path (OpenFL: certificate). */
  readonly certificate?: string;
  /** Client private key PEM path (OpenFL: private_key). */
  readonly privateKey?: string;
  /** TLS server name if it differs from aggAddr. */
  readonly serverName?: string;
  /** Default true (OpenFL: use_tls). */
  readonly useTls?: boolean;
  /** Default true (OpenFL: require_client_auth). */
  readonly requireClientAuth?: boolean;
  /** Default false (OpenFL: enable_atomic_connections). */
  readonly enableAtomicConnections?: boolean;
  /** Default true (OpenFL: resend_data_on_reconnection). */
  readonly resendDataOnReconnection?: boolean;
  /** Connection timeout incl. TLS handshake, in ms. Default 20000, at most MAX_TIMER_MS. */
  readonly connectTimeoutMs?: number;
  /** Retry policy of the core client (defaults and meaning: RetryOptions). */
  readonly retry?: RetryOptions;
  /** Path of the task module (exports `tasks`). Required. */
  readonly tasks: string;
  /** Directory of the durable resend buffer. Default none (pending uploads kept in memory only). */
  readonly pendingDir?: string;
  /** "json" or "pretty". Default pretty when stdout is a TTY, else json. */
  readonly log?: LogFormat;
  /** Also log debug lines. Default false. */
  readonly debug?: boolean;
  /**
   * Cap of the aggregator's no-task sleep_time in seconds. Default 3600, at most
   * MAX_SLEEP_SECONDS_LIMIT (86400).
   */
  readonly maxSleepSeconds?: number;
  /** While there are no tasks, a warning this often (seconds). Default 300. */
  readonly idleWarningSeconds?: number;
  /**
   * Trained tensors as deltas from the round's model, models rebuilt from aggregated deltas.
   * Default false (OpenFL: the plan's collaborator use_delta_updates).
   */
  readonly useDeltaUpdates?: boolean;
  /**
   * How long an upload in flight may finish after SIGINT/SIGTERM, in ms. Default 10000, at
   * most MAX_TIMER_MS.
   */
  readonly shutdownGraceMs?: number;
}

/** A configuration problem; `key` is the offending key (dotted for nested ones). */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly key: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The type of one configuration value. */
export type ConfigScalar =
  | { readonly type: "string"; readonly path?: boolean }
  | { readonly type: "integer"; readonly min?: number; readonly max?: number }
  | { readonly type: "number"; readonly min?: number; readonly max?: number }
  | { readonly type: "boolean" }
  | { readonly type: "enum"; readonly values: readonly string[] };
/** One key of the configuration schema. */
export type ConfigField = ConfigScalar & { readonly required?: boolean };

/**
 * The longest no-task sleep that maxSleepSeconds may allow, in seconds (1 day). The default cap
 * is the service's DEFAULT_MAX_SLEEP_SECONDS (1 h).
 */
export const MAX_SLEEP_SECONDS_LIMIT = 86_400;

// Durations that become a timer are at most MAX_TIMER_MS (2^31 - 1 ms, about 24.8 days): a
// longer timer fires at once. maxElapsedMs is a budget compared with the clock, not a timer,
// so it has no maximum (inf, its default, means no limit).
const RETRY_SCHEMA: Readonly<Record<string, ConfigField>> = {
  backoff: { type: "enum", values: ["constant", "exponential"] },
  intervalMs: { type: "number", min: 0, max: MAX_TIMER_MS },
  maxIntervalMs: { type: "number", min: 0, max: MAX_TIMER_MS },
  maxAttempts: { type: "number", min: 1 },
  maxElapsedMs: { type: "number", min: 0 },
  ambiguousFailureAttempts: { type: "number", min: 1 },
  retryOnAnyError: { type: "boolean" },
  attemptTimeoutMs: { type: "number", min: 0, max: MAX_TIMER_MS },
};

/** Every top-level key: its type (and whether it is a path, resolved against the config file). */
export const CONFIG_SCHEMA: Readonly<Record<string, ConfigField>> = {
  aggAddr: { type: "string", required: true },
  aggPort: { type: "integer", min: 1, max: 65535, required: true },
  aggregatorUuid: { type: "string", required: true },
  federationUuid: { type: "string", required: true },
  collaboratorName: { type: "string", required: true },
  singleColCertCommonName: { type: "string" },
  rootCertificate: { type: "string", path: true },
  certificate: { type: "string", path: true },
  privateKey: { type: "string", path: true },
  serverName: { type: "string" },
  useTls: { type: "boolean" },
  requireClientAuth: { type: "boolean" },
  enableAtomicConnections: { type: "boolean" },
  resendDataOnReconnection: { type: "boolean" },
  connectTimeoutMs: { type: "number", min: 1, max: MAX_TIMER_MS },
  tasks: { type: "string", path: true, required: true },
  pendingDir: { type: "string", path: true },
  log: { type: "enum", values: ["json", "pretty"] },
  debug: { type: "boolean" },
  maxSleepSeconds: { type: "number", min: 0, max: MAX_SLEEP_SECONDS_LIMIT },
  idleWarningSeconds: { type: "number", min: 1, max: MAX_SLEEP_SECONDS_LIMIT },
  useDeltaUpdates: { type: "boolean" },
  shutdownGraceMs: { type: "number", min: 0, max: MAX_TIMER_MS },
};

/** Every settable key, dotted for retry's: e.g. "aggPort", "retry.intervalMs". */
export function configKeys(): string[] {
  return [...Object.keys(CONFIG_SCHEMA), ...Object.keys(RETRY_SCHEMA).map((k) => `retry.${k}`)];
}

/** "retry.intervalMs" -> "--retry-interval-ms" */
export function flagName(key: string): string {
  return `--${key.replace(/\./g, "-").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** "retry.intervalMs" -> "OPENFL_RETRY_INTERVAL_MS" */
export function envName(key: string): string {
  return `OPENFL_${key
    .replace(/\./g, "_")
    .replace(/[A-Z]/g, (c) => `_${c}`)
    .toUpperCase()}`;
}

export interface LoadConfigInput {
  /** Command-line arguments after the script (`--config FILE`, `--agg-port 50051`, ...). */
  readonly argv?: readonly string[];
  /** Environment (`OPENFL_AGG_PORT=50051`, `OPENFL_CONFIG=file.yaml`, ...). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Base of relative paths given by flags or env vars. Default process.cwd(). */
  readonly cwd?: string;
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
  const configPath = flags.config ?? env.OPENFL_CONFIG;
  const merged: Record<string, unknown> = {};
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

function unknownKey(key: string, where: string): ConfigError {
  const known = configKeys();
  const close = known.find((k) => k.toLowerCase() === key.toLowerCase().replace(/[_-]/g, ""));
  return new ConfigError(
    key,
    `unknown config key '${key}' in ${where}${close ? ` (did you mean '${close}'?)` : ""}; known keys: ${known.join(", ")}`,
  );
}

function fieldOf(key: string): ConfigField {
  const field = key.startsWith("retry.") ? RETRY_SCHEMA[key.slice(6)] : CONFIG_SCHEMA[key];
  if (field === undefined) throw new ConfigError(key, `unknown config key '${key}'`);
  return field;
}

/** Checks a YAML value's type and range; resolves paths against `baseDir`. */
function checkValue(
  key: string,
  field: ConfigField,
  value: unknown,
  where: string,
  baseDir: string,
): unknown {
  const fail = (expected: string) =>
    new ConfigError(
      key,
      `config key '${key}' in ${where}: expected ${expected}, got ${JSON.stringify(value) ?? String(value)}`,
    );
  switch (field.type) {
    case "string":
      if (typeof value !== "string" || value === "") throw fail("a non-empty string");
      return field.path && !isAbsolute(value) ? resolve(baseDir, value) : value;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) throw fail("a whole number");
      checkRange(field, value, fail);
      return value;
    case "number":
      if (typeof value !== "number" || Number.isNaN(value)) throw fail("a number");
      checkRange(field, value, fail);
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw fail("true or false");
      return value;
    case "enum":
      if (typeof value !== "string" || !field.values.includes(value)) {
        throw fail(field.values.map((v) => JSON.stringify(v)).join(" or "));
      }
      return value;
  }
}

function checkRange(
  field: { readonly min?: number; readonly max?: number },
  value: number,
  fail: (expected: string) => ConfigError,
): void {
  const { min, max } = field;
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    throw fail(
      min !== undefined && max !== undefined
        ? `a number from ${min} to ${max}`
        : min !== undefined
          ? `a number >= ${min}`
          : `a number <= ${max}`,
    );
  }
}

/** Turns a flag's or env var's text into the key's type, then checks it like a YAML value. */
function coerce(key: string, raw: string, where: string, cwd: string): unknown {
  const field = fieldOf(key);
  let value: unknown = raw;
  if (field.type === "integer" || field.type === "number") {
    const text = raw.trim();
    value = text === "Infinity" || text === "inf" ? Number.POSITIVE_INFINITY : Number(text);
    if (text === "" || Number.isNaN(value)) value = raw;
  } else if (field.type === "boolean") {
    if (["true", "1", "yes"].includes(raw.toLowerCase())) value = true;
    else if (["false", "0", "no"].includes(raw.toLowerCase())) value = false;
  }
  return checkValue(key, field, value, where, cwd);
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

const FLAG_TO_KEY = new Map(configKeys().map((k) => [flagName(k), k]));

/** `--key value`, `--key=value`, bare `--bool-key` (= true) and `--no-bool-key` (= false). */
function parseFlags(argv: readonly string[]): {
  config: string | undefined;
  values: Record<string, string>;
} {
  const values: Record<string, string> = {};
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) {
      throw new ConfigError(
        undefined,
        `unexpected argument '${arg}' (flags look like --agg-port 50051)`,
      );
    }
    const eq = arg.indexOf("=");
    let flag = eq === -1 ? arg : arg.slice(0, eq);
    let value = eq === -1 ? undefined : arg.slice(eq + 1);
    if (flag.startsWith("--no-") && value === undefined && FLAG_TO_KEY.has(`--${flag.slice(5)}`)) {
      flag = `--${flag.slice(5)}`;
      value = "false";
    }
    if (flag === "--config") {
      config = value ?? argv[++i];
      if (config === undefined) throw new ConfigError(undefined, "flag --config needs a file path");
      continue;
    }
    const key = FLAG_TO_KEY.get(flag);
    if (key === undefined) {
      throw new ConfigError(
        flag.slice(2),
        `unknown flag '${flag}'; known flags: --config, ${[...FLAG_TO_KEY.keys()].join(", ")}`,
      );
    }
    if (value === undefined) {
      const next = argv[i + 1];
      if (fieldOf(key).type === "boolean" && (next === undefined || next.startsWith("--"))) {
        value = "true";
      } else if (next === undefined) {
        throw new ConfigError(key, `flag ${flag} needs a value`);
      } else {
        value = next;
        i++;
      }
    }
    values[key] = value;
  }
  return { config, values };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
