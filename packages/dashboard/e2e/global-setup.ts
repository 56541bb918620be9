// Starts the test federations (federation-harness.ts) in child processes and hands their
// addresses to the tests through process.env: E2E_FEDERATION (TypeScript reference
// aggregator) and E2E_OPENFL_FEDERATION (OpenFL's real server; needs the Python venv of
// scripts/setup-python.sh, which scripts/test-browser.sh installs). Returns the teardown.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

const dashboardDir = resolve(import.meta.dirname, "..");
const repo = resolve(dashboardDir, "../..");

interface Harness {
  readonly child: ChildProcess;
  readonly log: NodeJS.WritableStream & { end(): void };
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const logDir = join(repo, "test-results");
  await mkdir(logDir, { recursive: true });
  const harnesses: Harness[] = [];
  const teardown = async () => {
    await Promise.all(harnesses.map(stop));
  };
  try {
    if (!existsSync(join(repo, ".venv/bin/python"))) {
      throw new Error(".venv/bin/python is missing: run bash scripts/setup-python.sh");
    }
    const kinds: ["reference" | "openfl", string][] = [
      ["reference", "E2E_FEDERATION"],
      ["openfl", "E2E_OPENFL_FEDERATION"],
    ];
    for (const [kind, variable] of kinds) {
      const log = createWriteStream(join(logDir, `federation-harness-${kind}.log`));
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "e2e/federation-harness.ts", "--aggregator", kind],
        { cwd: dashboardDir, stdio: ["ignore", "pipe", "pipe"] },
      );
      harnesses.push({ child, log });
      child.stderr?.pipe(log);
      const ready = await readyLine(child, log, kind);
      process.env[variable] = JSON.stringify(ready);
      process.stdout.write(`federation (${kind}) ready; proxy: ${String(ready.proxyCommand)}\n`);
    }
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

async function stop({ child, log }: Harness): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  }
  log.end();
}

/** The first {"ready":true} JSON line a harness prints on stdout (lines are copied to `log`). */
export function readyLine(child: ChildProcess, log: NodeJS.WritableStream, kind: string) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`federation harness (${kind}) not ready after 240 s`)),
      240_000,
    );
    const lines = createInterface({ input: child.stdout ?? process.stdin });
    lines.on("line", (line) => {
      log.write(`${line}\n`);
      try {
        const value = JSON.parse(line) as Record<string, unknown>;
        if (value.ready === true) {
          clearTimeout(timer);
          resolve(value);
        }
      } catch {
        // not JSON: keep reading
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `federation harness (${kind}) exited with ${code}; see test-results/federation-harness-${kind}.log`,
        ),
      );
    });
  });
}
