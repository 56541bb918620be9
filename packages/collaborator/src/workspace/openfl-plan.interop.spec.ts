// Our reading of a plan against OpenFL 1.9's own Plan.parse (test-python/plan_oracle.py, run
// with the venv's Python): for every plan.yaml OpenFL ships among its workspace templates, the
// same federation and aggregator uuids, address and port and the same merged plan (every
// section's settings, defaults merged, auto resolved), or both refuse it. And the defaults
// files this package ships are OpenFL 1.9's, byte for byte.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { BUNDLED_OPENFL_DEFAULTS, parsePlan } from "./openfl-plan.js";
import { toJson } from "./plan-json.js";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const PYTHON = join(REPO, ".venv", "bin", "python");
const ORACLE = fileURLToPath(new URL("../../test-python/plan_oracle.py", import.meta.url));
const FQDN = "aggregator.test";

function openflWorkspaceDir(): string {
  if (!existsSync(PYTHON))
    throw new Error(`${PYTHON} is missing: run bash scripts/setup-python.sh`);
  const site = execFileSync(
    PYTHON,
    ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
    {
      encoding: "utf8",
    },
  ).trim();
  return join(site, "openfl-workspace");
}

function files(dir: string, name: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...files(path, name));
    else if (entry === name) out.push(path);
  }
  return out.sort();
}

describe("plans against OpenFL 1.9's Plan.parse", () => {
  const root = openflWorkspaceDir();

  it("ships OpenFL 1.9's defaults files unchanged", () => {
    const theirs = join(root, "workspace", "plan", "defaults");
    const ours = join(BUNDLED_OPENFL_DEFAULTS, "plan", "defaults");
    assert.deepEqual(readdirSync(ours).sort(), readdirSync(theirs).sort());
    for (const file of readdirSync(theirs)) {
      assert.equal(
        readFileSync(join(ours, file), "utf8"),
        readFileSync(join(theirs, file), "utf8"),
        file,
      );
    }
  });

  it("derives the uuids, address, port and merged settings OpenFL derives for every template's plan", () => {
    const plans = files(root, "plan.yaml");
    assert.ok(plans.length >= 10, `${plans.length} plans under ${root}`);
    const lines = execFileSync(PYTHON, [ORACLE, ...plans], {
      encoding: "utf8",
      env: { ...process.env, FQDN, KERAS_BACKEND: "jax" },
      stdio: ["ignore", "pipe", "ignore"],
    })
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, plans.length);
    let compared = 0;
    for (const expected of lines) {
      const file = expected.plan as string;
      let ours: Record<string, unknown>;
      try {
        const plan = parsePlan(file, { fqdn: () => FQDN });
        ours = {
          federation_uuid: plan.federationUuid,
          aggregator_uuid: plan.aggregatorUuid,
          agg_addr: plan.aggAddr,
          agg_port: plan.aggPort,
          config: toJson(plan.config),
        };
      } catch (error) {
        ours = { error: (error as Error).message };
      }
      if ("error" in expected) {
        assert.ok(
          "error" in ours,
          `${file}: OpenFL refuses it (${expected.error}); we read ${JSON.stringify(ours)}`,
        );
        continue;
      }
      const { plan: _, ...derived } = expected;
      assert.deepEqual(ours, derived, file);
      compared++;
    }
    assert.ok(compared >= 10, `only ${compared} plans parsed by OpenFL`);
  });
});
