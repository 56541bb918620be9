import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, envName, flagName, loadConfig } from "./config.js";

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
        /to 2147483647, got/,
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
