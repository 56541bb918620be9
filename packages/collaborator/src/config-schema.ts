// What the collaborator's configuration holds: the typed config, every key's type, and the
// keys' names. Ranges of the core client's options are core's (checked in config-values.ts).
import { MAX_TIMER_MS } from "@openfl-connect/core";
import type { AggregatorGRPCClientOptions } from "@openfl-connect/node";
import { ConfigError } from "./config-error.js";
import type { LogFormat } from "./logger.js";

/**
 * The config keys handed to AggregatorGRPCClient as they are: their meaning, defaults and
 * ranges are that client's options (one home), not restated here.
 */
export const CLIENT_OPTION_KEYS = [
  "aggAddr",
  "aggPort",
  "aggregatorUuid",
  "federationUuid",
  "collaboratorName",
  "singleColCertCommonName",
  "rootCertificate",
  "certificate",
  "privateKey",
  "serverName",
  "useTls",
  "requireClientAuth",
  "enableAtomicConnections",
  "resendDataOnReconnection",
  "connectTimeoutMs",
  "transportProtocol",
  "retry",
] as const satisfies readonly (keyof AggregatorGRPCClientOptions)[];

/** The Node client's options a config file can hold (paths, not PEM bytes or callbacks). */
export type ClientConfig = Pick<AggregatorGRPCClientOptions, (typeof CLIENT_OPTION_KEYS)[number]>;

/** The client's options from `config`, the keys it does not set left out. */
export function clientOptionsOf(config: ClientConfig): ClientConfig {
  return Object.fromEntries(
    CLIENT_OPTION_KEYS.filter((key) => config[key] !== undefined).map((key) => [key, config[key]]),
  ) as unknown as ClientConfig;
}

/** The collaborator's configuration: the Node client's options plus the service's own. */
export interface CollaboratorConfig extends ClientConfig {
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
   * The plan's compression pipeline, as OpenFL names its class (compression_pipeline.template),
   * e.g. "openfl.pipelines.STCPipeline". Default openfl.pipelines.NoCompressionPipeline.
   */
  readonly compressionPipeline?: string;
  /** STC and SKC: the fraction of elements kept (compression_pipeline.settings.p_sparsity). */
  readonly pSparsity?: number;
  /** SKC and KC: the number of k-means clusters (compression_pipeline.settings.n_clusters). */
  readonly nClusters?: number;
  /**
   * How long an upload in flight may finish after SIGINT/SIGTERM, in ms. Default 10000, at
   * most MAX_TIMER_MS.
   */
  readonly shutdownGraceMs?: number;
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

// The retry keys' types, for reading flags and env vars; their ranges are core's
// (resolveRetryPolicy), checked per key in checkValue, so the CLI accepts exactly what the
// client does.
export const RETRY_SCHEMA: Readonly<Record<string, ConfigField>> = {
  backoff: { type: "enum", values: ["constant", "exponential"] },
  intervalMs: { type: "number" },
  maxIntervalMs: { type: "number" },
  maxAttempts: { type: "number" },
  maxElapsedMs: { type: "number" },
  ambiguousFailureAttempts: { type: "number" },
  retryOnAnyError: { type: "boolean" },
  attemptTimeoutMs: { type: "number" },
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
  transportProtocol: { type: "enum", values: ["grpc", "rest"] },
  tasks: { type: "string", path: true, required: true },
  pendingDir: { type: "string", path: true },
  log: { type: "enum", values: ["json", "pretty"] },
  debug: { type: "boolean" },
  maxSleepSeconds: { type: "number", min: 0, max: MAX_SLEEP_SECONDS_LIMIT },
  idleWarningSeconds: { type: "number", min: 1, max: MAX_SLEEP_SECONDS_LIMIT },
  useDeltaUpdates: { type: "boolean" },
  compressionPipeline: { type: "string" },
  pSparsity: { type: "number" },
  nClusters: { type: "integer" },
  shutdownGraceMs: { type: "number", min: 0, max: MAX_TIMER_MS },
};

/** Every settable key, dotted for retry's: e.g. "aggPort", "retry.intervalMs". */
export function configKeys(): string[] {
  return [...Object.keys(CONFIG_SCHEMA), ...Object.keys(RETRY_SCHEMA).map((k) => `retry.${k}`)];
}

/** The schema entry of a key (dotted for retry's); ConfigError for an unknown key. */
export function fieldOf(key: string): ConfigField {
  const field = key.startsWith("retry.") ? RETRY_SCHEMA[key.slice(6)] : CONFIG_SCHEMA[key];
  if (field === undefined) throw new ConfigError(key, `unknown config key '${key}'`);
  return field;
}
