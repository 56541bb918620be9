// The two sides of a federation harness process (mixed-federation-harness.ts,
// keras-federation-harness.ts): the harness serves what it sees on GET /state; a spec starts the
// harness, waits for its ready line and stops it.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { readyLine } from "./global-setup.js";

const dashboardDir = resolve(import.meta.dirname, "..");

/** GET /state answers `state()` as JSON (500 with the error's text if it fails). */
export async function serveState(
  state: () => Promise<unknown>,
): Promise<{ readonly url: string; close(): void }> {
  const control = createServer((req, res) => {
    if (req.url !== "/state") {
      res.writeHead(404).end();
      return;
    }
    state().then(
      (value) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      },
      (error: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(error));
      },
    );
  });
  await new Promise<void>((r) => control.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(control.address() as AddressInfo).port}/state`,
    close: () => control.close(),
  };
}

/** A harness child: its ready line, and a stop that waits (up to 5 s) for it to exit. */
export interface Harness<T> {
  readonly ready: T;
  stop(): Promise<void>;
}

/**
 * Starts `script` (in e2e/, with tsx) and resolves with its {"ready":true,...} line; stderr goes
 * to test-results/<logName>.log.
 */
export async function startHarness<T>(
  script: string,
  args: readonly string[],
  logName: string,
): Promise<Harness<T>> {
  const log = createWriteStream(resolve(dashboardDir, `../../test-results/${logName}.log`));
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", `e2e/${script}`, ...args],
    {
      cwd: dashboardDir,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stderr?.pipe(log);
  const ready = (await readyLine(child, log, logName)) as T;
  return {
    ready,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    },
  };
}
