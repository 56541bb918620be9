import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { InvalidOptionError } from "@openfl-connect/core";
import { resolveRetryPolicy } from "@openfl-connect/core/internal";
import { loadConfig } from "./config.js";
import { ConfigError } from "./config-error.js";
import { envName, flagName } from "./config-names.js";
import {
  CLIENT_OPTION_KEYS,
  CONFIG_SCHEMA,
  clientOptionsOf,
  configKeys,
  RETRY_SCHEMA,
} from "./config-schema.js";

const BASE = `aggAddr: localhost
aggPort: 50051
aggregatorUuid: aggregator_plan.yaml_4ebcd576
federationUuid: plan.yaml_4ebcd576
collaboratorName: col1
tasks: ./tasks.ts
`;

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "collaborator-config-"));
  const file = join(dir, "collaborator.yaml");
  writeFileSync(file, text);
  return file;
}

function rejectsNaming(key: string, load: () => unknown, pattern?: RegExp): void {
  assert.throws(load, (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.key, key);
    assert.match(error.message, new RegExp(`'${key.replace(".", "\\.")}'`));
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

describe("loadConfig", () => {
  it("reads the YAML file and resolves paths relative to it", () => {
    const file = configFile(
      `${BASE}pendingDir: pending\nretry:\n  intervalMs: 50\n  maxAttempts: .inf\n`,
    );
    const config = loadConfig({ argv: ["--config", file], env: {} });
    assert.equal(config.aggPort, 50051);
    assert.equal(config.tasks, join(file, "..", "tasks.ts"));
    assert.equal(config.pendingDir, join(file, "..", "pending"));
    assert.deepEqual(config.retry, { intervalMs: 50, maxAttempts: Number.POSITIVE_INFINITY });
  });

  it("rejects an unknown key, naming it (and suggesting the camelCase key)", () => {
    const file = configFile(`${BASE}agg_port: 1\n`);
    rejectsNaming(
      "agg_port",
      () => loadConfig({ argv: ["--config", file] }),
      /did you mean 'aggPort'/,
    );
  });

  it("refuses a duration past its maximum (a timer longer than 2^31 - 1 ms fires at once), naming the key and the maximum", () => {
    const overTimer: [string, string][] = [
      ["shutdownGraceMs", "inf"],
      ["connectTimeoutMs", "2147483648"],
      ["retry.intervalMs", "Infinity"],
      ["retry.maxIntervalMs", "2147483648"],
      ["retry.attemptTimeoutMs", "inf"],
    ];
    for (const [key, value] of overTimer) {
      rejectsNaming(
        key,
        () => loadConfig({ argv: [flagName(key), value], env: {} }),
        /to 2147483647\b.*, got (Infinity|2147483648)$/,
      );
    }
    rejectsNaming(
      "maxSleepSeconds",
      () =>
        loadConfig({
          argv: [
            "--config",
            configFile(`${BASE}maxSleepSeconds: 86401
`),
          ],
        }),
      /from 0 to 86400, got 86401/,
    );
    const file = configFile(
      `${BASE}shutdownGraceMs: 2147483647
maxSleepSeconds: 86400
retry:
  maxElapsedMs: .inf
`,
    );
    const config = loadConfig({ argv: ["--config", file], env: {} });
    assert.equal(config.shutdownGraceMs, 2147483647);
    assert.equal(config.maxSleepSeconds, 86400);
    assert.equal(config.retry?.maxElapsedMs, Number.POSITIVE_INFINITY);
  });

  it("refuses exactly the retry values the client refuses (one rule, core's), from file, env and flag", () => {
    const refused: [string, number][] = [
      ["attemptTimeoutMs", 0],
      ["maxAttempts", 1.5],
      ["maxAttempts", 0],
      ["ambiguousFailureAttempts", 2.5],
      ["maxElapsedMs", -1],
    ];
    for (const [option, value] of refused) {
      assert.throws(() => resolveRetryPolicy({ [option]: value }), InvalidOptionError);
      const key = `retry.${option}`;
      const file = configFile(`${BASE}retry:\n  ${option}: ${value}\n`);
      rejectsNaming(key, () => loadConfig({ argv: ["--config", file], env: {} }), /expected/);
      rejectsNaming(key, () => loadConfig({ argv: [flagName(key), String(value)], env: {} }));
      rejectsNaming(key, () => loadConfig({ argv: [], env: { [envName(key)]: String(value) } }));
    }
    // And what the client takes, the CLI takes.
    const accepted = loadConfig({
      argv: [
        "--config",
        configFile(`${BASE}retry:\n  maxAttempts: 2\n  attemptTimeoutMs: 1\n  maxElapsedMs: 0\n`),
      ],
      env: {},
    });
    assert.deepEqual(
      resolveRetryPolicy(accepted.retry),
      resolveRetryPolicy({ maxAttempts: 2, attemptTimeoutMs: 1, maxElapsedMs: 0 }),
    );
  });

  it("rejects an unknown key inside retry", () => {
    const file = configFile(`${BASE}retry:\n  intervalSeconds: 1\n`);
    rejectsNaming("retry.intervalSeconds", () => loadConfig({ argv: ["--config", file] }));
  });

  it("rejects a wrong type, naming the key, the expectation and the value", () => {
    const file = configFile(BASE.replace("aggPort: 50051", 'aggPort: "fifty"'));
    rejectsNaming(
      "aggPort",
      () => loadConfig({ argv: ["--config", file] }),
      /whole number.*"fifty"/,
    );
    const bool = configFile(`${BASE}useTls: "yes"\n`);
    rejectsNaming("useTls", () => loadConfig({ argv: ["--config", bool] }), /true or false/);
    const log = configFile(`${BASE}log: xml\n`);
    rejectsNaming("log", () => loadConfig({ argv: ["--config", log] }), /"json" or "pretty"/);
  });

  it("rejects a missing required key, naming its flag and env var", () => {
    const file = configFile(BASE.replace("collaboratorName: col1\n", ""));
    rejectsNaming(
      "collaboratorName",
      () => loadConfig({ argv: ["--config", file] }),
      /--collaborator-name.*OPENFL_COLLABORATOR_NAME/,
    );
  });

  it("lets env vars override the file and flags override env vars", () => {
    const file = configFile(BASE);
    const config = loadConfig({
      argv: ["--config", file, "--agg-port", "6000", "--no-use-tls", "--retry-interval-ms=5"],
      env: { OPENFL_AGG_PORT: "5000", OPENFL_COLLABORATOR_NAME: "col2", OPENFL_LOG: "json" },
    });
    assert.equal(config.aggPort, 6000);
    assert.equal(config.collaboratorName, "col2");
    assert.equal(config.useTls, false);
    assert.equal(config.log, "json");
    assert.deepEqual(config.retry, { intervalMs: 5 });
  });

  it("rejects a flag or env var of the wrong type, naming the key and the source", () => {
    const file = configFile(BASE);
    rejectsNaming(
      "aggPort",
      () => loadConfig({ argv: ["--config", file, "--agg-port", "x"] }),
      /flag --agg-port/,
    );
    rejectsNaming(
      "requireClientAuth",
      () => loadConfig({ argv: ["--config", file], env: { OPENFL_REQUIRE_CLIENT_AUTH: "maybe" } }),
      /env OPENFL_REQUIRE_CLIENT_AUTH/,
    );
  });

  it("rejects an unknown flag", () => {
    assert.throws(() => loadConfig({ argv: ["--agg-prot", "1"] }), /unknown flag '--agg-prot'/);
  });

  it("maps keys to flags and env vars", () => {
    assert.equal(flagName("aggPort"), "--agg-port");
    assert.equal(envName("aggPort"), "OPENFL_AGG_PORT");
    assert.equal(flagName("retry.intervalMs"), "--retry-interval-ms");
    assert.equal(envName("retry.intervalMs"), "OPENFL_RETRY_INTERVAL_MS");
  });
});

describe("every config key, one definition", () => {
  /** A value of each key's type, as YAML text and as flag/env text, and what it reads as. */
  function sample(key: string): { yaml: string; text: string; value: unknown } {
    const field = key.startsWith("retry.") ? RETRY_SCHEMA[key.slice(6)] : CONFIG_SCHEMA[key];
    assert.ok(field, key);
    switch (field.type) {
      case "boolean":
        return { yaml: "true", text: "true", value: true };
      case "enum":
        return {
          yaml: field.values[0] as string,
          text: field.values[0] as string,
          value: field.values[0],
        };
      case "integer":
      case "number": {
        const n = Math.max(field.min ?? 0, 1) + 1;
        return { yaml: String(n), text: String(n), value: n };
      }
      case "string":
        return field.path
          ? { yaml: "/abs/path", text: "/abs/path", value: "/abs/path" }
          : { yaml: "word", text: "word", value: "word" };
    }
  }
  const read = (config: Record<string, unknown>, key: string) =>
    key.startsWith("retry.")
      ? (config.retry as Record<string, unknown> | undefined)?.[key.slice(6)]
      : config[key];

  it("reads each key the same from the file, an env var and a flag", () => {
    for (const key of configKeys()) {
      const { yaml, text, value } = sample(key);
      const line = key.startsWith("retry.")
        ? `retry:\n  ${key.slice(6)}: ${yaml}\n`
        : `${key}: ${yaml}\n`;
      const base = BASE.split("\n")
        .filter((l) => !l.startsWith(`${key}:`))
        .join("\n");
      const fromFile = loadConfig({ argv: ["--config", configFile(`${base}\n${line}`)], env: {} });
      const file = configFile(base);
      const fromEnv = loadConfig({ argv: ["--config", file], env: { [envName(key)]: text } });
      const fromFlag = loadConfig({ argv: ["--config", file, flagName(key), text], env: {} });
      for (const [where, config] of [
        ["file", fromFile],
        ["env", fromEnv],
        ["flag", fromFlag],
      ] as const) {
        assert.deepEqual(
          read(config as unknown as Record<string, unknown>, key),
          value,
          `${key} from ${where}`,
        );
      }
    }
  });

  it("hands the client exactly its own options, each a config key", () => {
    const keys = new Set(configKeys().map((k) => k.split(".")[0]));
    for (const key of CLIENT_OPTION_KEYS) assert.ok(keys.has(key), key);
    const config = loadConfig({
      argv: ["--config", configFile(`${BASE}maxSleepSeconds: 5\nretry:\n  maxAttempts: 2\n`)],
      env: {},
    });
    const options = clientOptionsOf(config);
    assert.equal("tasks" in options, false);
    assert.equal("maxSleepSeconds" in options, false);
    assert.deepEqual(options.retry, { maxAttempts: 2 });
    assert.equal(options.aggPort, 50051);
  });
});
