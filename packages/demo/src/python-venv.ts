// The demos that run OpenFL need the project's Python venv: scripts/setup-python.sh installs it
// when missing or incomplete (an older venv without Keras, say) and reuses it otherwise.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "@openfl-connect/interop/openfl-fixture";

export function ensurePythonVenv(): void {
  console.log(
    "checking the Python venv (OpenFL 1.9, Keras on JAX; installed once, about a minute) ...",
  );
  execFileSync("bash", [join(REPO_ROOT, "scripts", "setup-python.sh")], {
    stdio: ["ignore", "inherit", "inherit"],
  });
}
