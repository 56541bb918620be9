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
  fieldOf,
  RETRY_SCHEMA,
} from "./config-schema.js";
import { checkValue } from "./config-values.js";

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

  it("rejects each missing required key, and takes a config without flags (env vars only)", () => {
    for (const key of [
      "aggAddr",
      "aggPort",
      "aggregatorUuid",
      "federationUuid",
      "collaboratorName",
      "tasks",
    ]) {
      const file = configFile(
        BASE.split("\n")
          .filter((l) => !l.startsWith(`${key}:`))
          .join("\n"),
      );
      rejectsNaming(
        key,
        () => loadConfig({ argv: ["--config", file], env: {} }),
        /missing required/,
      );
    }
    const config = loadConfig({
      env: {
        OPENFL_AGG_ADDR: "h",
        OPENFL_AGG_PORT: "1",
        OPENFL_AGGREGATOR_UUID: "a",
        OPENFL_FEDERATION_UUID: "f",
        OPENFL_COLLABORATOR_NAME: "c",
        OPENFL_TASKS: "/t.ts",
      },
    });
    assert.equal(config.aggAddr, "h");
  });

  it("resolves every path key of the file against the file's directory", () => {
    const file = configFile(
      `${BASE}rootCertificate: ca.pem\ncertificate: c.pem\nprivateKey: k.pem\n`,
    );
    const config = loadConfig({ argv: ["--config", file], env: {} });
    assert.deepEqual(
      [config.rootCertificate, config.certificate, config.privateKey],
      [join(file, "..", "ca.pem"), join(file, "..", "c.pem"), join(file, "..", "k.pem")],
    );
  });

  it("reads inf and Infinity from a flag or env var as Infinity, and keeps a string key's text as written", () => {
    const file = configFile(BASE);
    const config = loadConfig({
      argv: ["--config", file, "--retry-max-attempts", "inf", "--server-name", "yes"],
      env: { OPENFL_RETRY_MAX_ELAPSED_MS: "Infinity", OPENFL_COLLABORATOR_NAME: "1" },
    });
    assert.equal(config.retry?.maxAttempts, Number.POSITIVE_INFINITY);
    assert.equal(config.retry?.maxElapsedMs, Number.POSITIVE_INFINITY);
    assert.equal(config.serverName, "yes");
    assert.equal(config.collaboratorName, "1");
    assert.equal(
      loadConfig({ argv: ["--config", file, "--retry-backoff", "exponential"] }).retry?.backoff,
      "exponential",
    );
    rejectsNaming(
      "retry",
      () => loadConfig({ argv: ["--config", configFile(`${BASE}retry:\n`)] }),
      /expected a mapping/,
    );
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

  it("rejects an unknown flag, naming it and the known flags", () => {
    assert.throws(
      () => loadConfig({ argv: ["--agg-prot", "1"] }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.name === "ConfigError" &&
        e.key === "agg-prot" &&
        e.message.startsWith(
          "unknown flag '--agg-prot'; known flags: --config, --agg-addr, --agg-port, ",
        ),
    );
    // --no- only negates a boolean key's bare flag.
    for (const [arg, flag] of [
      ["--no-use-tls=false", "--no-use-tls"],
      ["--no-such", "--no-such"],
      // Five characters and a boolean key's name: not --no-debug.
      ["--yesdebug", "--yesdebug"],
    ]) {
      assert.throws(
        () => loadConfig({ argv: ["--config", configFile(BASE), arg as string] }),
        new RegExp(`^ConfigError: unknown flag '${flag}'`),
      );
    }
  });

  it("takes the file named by --config over OPENFL_CONFIG, and OPENFL_CONFIG over the default file (flags beat env vars)", () => {
    const fromFlag = configFile(BASE.replace("aggPort: 50051", "aggPort: 1001"));
    const fromEnv = configFile(BASE.replace("aggPort: 50051", "aggPort: 1002"));
    const fallback = configFile(BASE.replace("aggPort: 50051", "aggPort: 1003"));
    const load = (argv: string[], env: Record<string, string>) =>
      loadConfig({ argv, env, defaultConfigFile: fallback }).aggPort;
    assert.equal(load(["--config", fromFlag], { OPENFL_CONFIG: fromEnv }), 1001);
    assert.equal(load([`--config=${fromFlag}`], { OPENFL_CONFIG: fromEnv }), 1001);
    assert.equal(load([], { OPENFL_CONFIG: fromEnv }), 1002);
    assert.equal(load([], {}), 1003);
    // The losing file is not read at all: a broken OPENFL_CONFIG does not stop --config.
    assert.equal(load(["--config", fromFlag], { OPENFL_CONFIG: "/nonexistent/x.yaml" }), 1001);
    assert.throws(
      () => load([], { OPENFL_CONFIG: "/nonexistent/x.yaml" }),
      /cannot read config file \/nonexistent\/x\.yaml/,
    );
  });

  it("refuses --config without a path, and a file that is not a YAML mapping", () => {
    assert.throws(() => loadConfig({ argv: ["--config"] }), /flag --config needs a file path/);
    assert.throws(
      () => loadConfig({ argv: ["--config", configFile("- a\n- b\n")] }),
      /config file .*collaborator\.yaml must be a mapping/,
    );
    assert.throws(
      () => loadConfig({ argv: ["--config", configFile("a: [\n")] }),
      /config file .*collaborator\.yaml is not valid YAML/,
    );
    rejectsNaming(
      "retry",
      () => loadConfig({ argv: ["--config", configFile(`${BASE}retry: 5\n`)] }),
      /expected a mapping/,
    );
    // An empty file is an empty mapping: the required keys then come from flags.
    const config = loadConfig({
      argv: ["--config", configFile(""), "--agg-addr", "h", "--agg-port", "1"],
      env: {
        OPENFL_AGGREGATOR_UUID: "a",
        OPENFL_FEDERATION_UUID: "f",
        OPENFL_COLLABORATOR_NAME: "c",
        OPENFL_TASKS: "/t.ts",
      },
    });
    assert.deepEqual(
      [config.aggAddr, config.aggPort, config.collaboratorName, config.tasks],
      ["h", 1, "c", "/t.ts"],
    );
  });

  it("refuses an empty identity (collaborator name, uuids, single certificate CN, address) from the file, an env var and a flag", () => {
    for (const key of [
      "collaboratorName",
      "federationUuid",
      "aggregatorUuid",
      "singleColCertCommonName",
      "aggAddr",
    ]) {
      const base = BASE.split("\n")
        .filter((l) => !l.startsWith(`${key}:`))
        .join("\n");
      const file = configFile(`${base}\n${key}: ""\n`);
      rejectsNaming(key, () => loadConfig({ argv: ["--config", file], env: {} }), /non-empty/);
      const good = configFile(BASE);
      rejectsNaming(
        key,
        () => loadConfig({ argv: ["--config", good], env: { [envName(key)]: "" } }),
        /env OPENFL_.*non-empty string, got ""/,
      );
      rejectsNaming(
        key,
        () => loadConfig({ argv: ["--config", good, `${flagName(key)}=`], env: {} }),
        /flag --.*non-empty string, got ""/,
      );
    }
    const config = loadConfig({
      argv: ["--config", configFile(BASE), "--single-col-cert-common-name", "shared"],
      env: {},
    });
    assert.equal(clientOptionsOf(config).singleColCertCommonName, "shared");
    assert.equal(clientOptionsOf(config).collaboratorName, "col1");
    assert.equal(clientOptionsOf(config).federationUuid, "plan.yaml_4ebcd576");
    assert.equal(clientOptionsOf(config).aggregatorUuid, "aggregator_plan.yaml_4ebcd576");
  });

  it("refuses each numeric key just past its limits and takes the limits and their neighbours inside, from the file and a flag", () => {
    const max = 2147483647;
    // [key, refused, accepted]: each limit L is tested at L - 1, L and L + 1.
    const limits: [string, number[], number[]][] = [
      ["aggPort", [0, 65536], [1, 2, 65534, 65535]],
      ["connectTimeoutMs", [0, max + 1], [1, 2, max - 1, max]],
      ["maxSleepSeconds", [-1, 86401], [0, 1, 86399, 86400]],
      ["idleWarningSeconds", [0, 86401], [1, 2, 86399, 86400]],
      ["shutdownGraceMs", [-1, max + 1], [0, 1, max - 1, max]],
      ["retry.intervalMs", [-1, max + 1], [0, 1, max - 1, max]],
      ["retry.maxIntervalMs", [-1, max + 1], [0, 1, max - 1, max]],
      ["retry.attemptTimeoutMs", [0, max + 1], [1, 2, max - 1, max]],
      ["retry.maxElapsedMs", [-1], [0, 1, Number.POSITIVE_INFINITY]],
      ["retry.maxAttempts", [0], [1, 2, Number.POSITIVE_INFINITY]],
      ["retry.ambiguousFailureAttempts", [0], [1, 2, Number.POSITIVE_INFINITY]],
    ];
    const read = (config: Record<string, unknown>, key: string) =>
      key.startsWith("retry.")
        ? (config.retry as Record<string, unknown>)[key.slice(6)]
        : config[key];
    const yamlOf = (key: string, value: number) => {
      const text = value === Number.POSITIVE_INFINITY ? ".inf" : String(value);
      const base = BASE.split("\n")
        .filter((l) => !l.startsWith(`${key}:`))
        .join("\n");
      return key.startsWith("retry.")
        ? `${base}\nretry:\n  ${key.slice(6)}: ${text}\n`
        : `${base}\n${key}: ${text}\n`;
    };
    const good = configFile(BASE);
    for (const [key, refused, accepted] of limits) {
      for (const value of refused) {
        const file = configFile(yamlOf(key, value));
        rejectsNaming(key, () => loadConfig({ argv: ["--config", file], env: {} }), /expected/);
        rejectsNaming(
          key,
          () => loadConfig({ argv: ["--config", good, flagName(key), String(value)], env: {} }),
          new RegExp(`flag ${flagName(key)}: expected .*, got ${value}$`),
        );
      }
      for (const value of accepted) {
        const fromFile = loadConfig({ argv: ["--config", configFile(yamlOf(key, value))] });
        assert.equal(read(fromFile as unknown as Record<string, unknown>, key), value, key);
        const fromFlag = loadConfig({
          argv: ["--config", good, flagName(key), String(value)],
          env: {},
        });
        assert.equal(read(fromFlag as unknown as Record<string, unknown>, key), value, key);
      }
    }
  });

  it("names the range a value is outside of", () => {
    rejectsNaming(
      "aggPort",
      () => loadConfig({ argv: ["--config", configFile(BASE), "--agg-port", "70000"] }),
      /expected a number from 1 to 65535, got 70000$/,
    );
    rejectsNaming(
      "aggPort",
      () => loadConfig({ argv: ["--config", configFile(BASE), "--agg-port", "8.5"] }),
      /expected a whole number, got 8.5$/,
    );
    rejectsNaming(
      "idleWarningSeconds",
      () =>
        loadConfig({
          argv: ["--config", configFile(BASE)],
          env: { OPENFL_IDLE_WARNING_SECONDS: " " },
        }),
      /env OPENFL_IDLE_WARNING_SECONDS: expected a number, got " "$/,
    );
  });

  it("reads booleans from flags and env vars as true/1/yes and false/0/no, any case", () => {
    const file = configFile(BASE);
    for (const [text, value] of [
      ["true", true],
      ["TRUE", true],
      ["1", true],
      ["Yes", true],
      ["false", false],
      ["False", false],
      ["0", false],
      ["NO", false],
    ] as const) {
      assert.equal(loadConfig({ argv: ["--config", file, "--use-tls", text] }).useTls, value, text);
      assert.equal(
        loadConfig({ argv: ["--config", file], env: { OPENFL_DEBUG: text } }).debug,
        value,
        text,
      );
    }
    // A bare boolean flag is true, also before another flag; --no-X is false.
    const bare = loadConfig({ argv: ["--config", file, "--use-tls", "--debug"] });
    assert.deepEqual([bare.useTls, bare.debug], [true, true]);
    assert.equal(loadConfig({ argv: ["--config", file, "--no-debug"] }).debug, false);
    assert.throws(
      () => loadConfig({ argv: ["--config", file, "--agg-port"] }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.key === "aggPort" &&
        e.message === "flag --agg-port needs a value",
    );
    assert.throws(
      () => loadConfig({ argv: ["--config", file, "stray"] }),
      (e: unknown) => e instanceof ConfigError && /unexpected argument 'stray'/.test(e.message),
    );
    assert.throws(
      () => loadConfig({ argv: ["--no-config"] }),
      (e: unknown) => e instanceof ConfigError && e.key === "no-config",
    );
  });

  it("resolves relative paths from flags and env vars against cwd, and leaves absolute paths alone", () => {
    const file = configFile(BASE);
    const config = loadConfig({
      argv: ["--config", file, "--pending-dir", "pending"],
      env: { OPENFL_ROOT_CERTIFICATE: "/abs/ca.pem", OPENFL_PRIVATE_KEY: "key.pem" },
      cwd: "/work/here",
    });
    assert.equal(config.pendingDir, "/work/here/pending");
    assert.equal(config.rootCertificate, "/abs/ca.pem");
    assert.equal(config.privateKey, "/work/here/key.pem");
    // Not a path: kept as written.
    assert.equal(
      loadConfig({ argv: ["--config", file, "--server-name", "agg"], cwd: "/x" }).serverName,
      "agg",
    );
  });

  it("puts values given before the file (base) under the file, env vars and flags, without sharing them", () => {
    const base = { aggPort: 7, retry: { intervalMs: 3 }, debug: true };
    const config = loadConfig({
      argv: ["--config", configFile(BASE), "--retry-max-attempts", "4"],
      env: {},
      base,
    });
    assert.equal(config.aggPort, 50051);
    assert.equal(config.debug, true);
    assert.deepEqual(config.retry, { intervalMs: 3, maxAttempts: 4 });
    assert.deepEqual(base.retry, { intervalMs: 3 }, "base was modified");
  });

  it("gives the OpenFL plan keys a hint at their counterpart", () => {
    const hints: [string, RegExp][] = [
      ["client_reconnect_interval: 5", /retry\.intervalMs 5000/],
      ["db_store_rounds: 2", /no equivalent here/],
      [
        "transport_protocol: grpc",
        /did you mean 'transportProtocol'\? grpc \(the default\) or rest/,
      ],
      ["cert_folder: cert", /rootCertificate, certificate and privateKey/],
      ["AggAddr: x", /did you mean 'aggAddr'\?/],
      [
        "zzz: 1",
        /^unknown config key 'zzz' in [^ ]*collaborator\.yaml; known keys: aggAddr, aggPort/,
      ],
    ];
    for (const [line, hint] of hints) {
      const key = line.split(":")[0] as string;
      rejectsNaming(
        key,
        () => loadConfig({ argv: ["--config", configFile(`${BASE}${line}\n`)] }),
        hint,
      );
    }
    assert.doesNotMatch(
      (() => {
        try {
          loadConfig({ argv: ["--config", configFile(`${BASE}zzz: 1\n`)] });
        } catch (e) {
          return (e as Error).message;
        }
        return "";
      })(),
      /\(|did you mean/,
    );
  });

  it("maps keys to flags and env vars", () => {
    assert.equal(flagName("aggPort"), "--agg-port");
    assert.equal(envName("aggPort"), "OPENFL_AGG_PORT");
    assert.equal(flagName("retry.intervalMs"), "--retry-interval-ms");
    assert.equal(envName("retry.intervalMs"), "OPENFL_RETRY_INTERVAL_MS");
  });
});

describe("the compression pipeline keys", () => {
  it("take OpenFL's class names and the settings' ranges, and refuse others naming the key and what it expects", () => {
    const load = (lines: string) =>
      loadConfig({ argv: ["--config", configFile(`${BASE}${lines}`)], env: {} });
    const config = load(
      "compressionPipeline: openfl.pipelines.skc_pipeline.SKCPipeline\npSparsity: 1\nnClusters: 1\n",
    );
    assert.deepEqual(
      [config.compressionPipeline, config.pSparsity, config.nClusters],
      ["openfl.pipelines.skc_pipeline.SKCPipeline", 1, 1],
    );
    rejectsNaming(
      "compressionPipeline",
      () => load("compressionPipeline: STCPipeline\n"),
      /expected one of openfl\.pipelines\.NoCompressionPipeline, .*got "STCPipeline"/,
    );
    for (const bad of ["0", "1.01", "-0.5"]) {
      rejectsNaming(
        "pSparsity",
        () => load(`pSparsity: ${bad}\n`),
        /expected a number in \(0, 1\], got /,
      );
    }
    rejectsNaming("nClusters", () => load("nClusters: 0\n"), /expected an integer >= 1, got 0$/);
    rejectsNaming("nClusters", () => load("nClusters: 2.5\n"), /a whole number/);
  });
});

describe("every config key, one definition", () => {
  /** A value of each key's type, as YAML text and as flag/env text, and what it reads as. */
  function sample(key: string): { yaml: string; text: string; value: unknown } {
    // Keys whose values core checks beyond their type (the pipeline's class, a fraction).
    const pipelineSamples: Record<string, { yaml: string; text: string; value: unknown }> = {
      compressionPipeline: {
        yaml: "openfl.pipelines.STCPipeline",
        text: "openfl.pipelines.STCPipeline",
        value: "openfl.pipelines.STCPipeline",
      },
      pSparsity: { yaml: "0.25", text: "0.25", value: 0.25 },
    };
    const special = pipelineSamples[key];
    if (special !== undefined) return special;
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

describe("one config value's check", () => {
  it("names a one-sided range: a field with only a minimum or only a maximum", () => {
    const fails = (field: Parameters<typeof checkValue>[1], value: number) => {
      try {
        checkValue("k", field, value, "test", "/");
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        return error.message;
      }
      return undefined;
    };
    assert.equal(
      fails({ type: "number", min: 2 }, 1),
      "config key 'k' in test: expected a number >= 2, got 1",
    );
    assert.equal(fails({ type: "number", min: 2 }, 2), undefined);
    assert.equal(
      fails({ type: "integer", max: 2 }, 3),
      "config key 'k' in test: expected a number <= 2, got 3",
    );
    assert.equal(fails({ type: "integer", max: 2 }, 2), undefined);
    assert.equal(fails({ type: "number" }, -1e9), undefined);
  });

  it("refuses an unknown key's schema entry", () => {
    assert.throws(
      () => fieldOf("retry.nope"),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.key === "retry.nope" &&
        e.message === "unknown config key 'retry.nope'",
    );
  });
});
