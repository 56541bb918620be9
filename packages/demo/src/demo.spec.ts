import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import {
  CollaboratorService,
  createSoftmaxTasks,
  modelTensorNames,
  parseCsvDataset,
  splitShard,
} from "@openfl-connect/collaborator/browser";
import { bearerTokenInterceptor } from "@openfl-connect/dashboard/access-token";
import { AggregatorWebClient } from "@openfl-connect/web";

const demo = new URL("./main.ts", import.meta.url).pathname;

/** Resolves with the first stdout line matching `pattern` (rejects if the demo exits first). */
function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  seen: string[],
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    for (const line of seen) {
      const m = line.match(pattern);
      if (m) return resolve(m);
    }
    const lines = createInterface({ input: child.stdout ?? process.stdin });
    const onLine = (line: string) => {
      const m = line.match(pattern);
      if (m) {
        lines.off("line", onLine);
        resolve(m);
      }
    };
    lines.on("line", onLine);
    child.once("exit", (code) =>
      reject(new Error(`demo exited (${code}) before printing ${pattern}:\n${seen.join("\n")}`)),
    );
  });
}

/** PIDs of live processes whose command line mentions `text` (e.g. the demo's temp dir). */
function processesMentioning(text: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe("demo --with-dashboard", () => {
  it("serves the page, answers a gRPC-web Ping through the printed proxy, runs until SIGINT and leaves nothing behind", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", demo, "--with-dashboard"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const seen: string[] = [];
    createInterface({ input: child.stdout }).on("line", (l) => seen.push(l));
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += String(d);
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      child.once("exit", (code, signal) => r({ code, signal })),
    );
    try {
      const [, dir] = await waitForLine(child, /fresh CA in (\S+)\)/, seen);
      assert.ok(dir);
      const [, url] = await waitForLine(child, /^dashboard: (http\S+)$/, seen);
      assert.ok(url);
      const page = new URL(url);
      assert.equal(page.hostname, "127.0.0.1");
      const html = await (await fetch(page)).text();
      assert.match(html, /OpenFL federation check/);

      // The page's proxy comes from its own origin (dashboard-config.js), not from the link.
      assert.equal(page.searchParams.get("proxyUrl"), null);
      // Envoy is part of this path: without .venv/bin/envoy the test fails (never skips).
      const config = await fetch(new URL("/dashboard-config.js", page));
      assert.equal(
        config.status,
        200,
        `no proxy configured (is Envoy installed? scripts/setup-python.sh puts it in .venv):\n${seen.join("\n")}`,
      );
      const proxyUrl = /"proxyUrl":"([^"]+)"/.exec(await config.text())?.[1];
      assert.ok(proxyUrl);
      const [, tokenFile] = await waitForLine(child, /access token .*: in (\S+)$/, seen);
      assert.ok(tokenFile);
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600, "only the user may read the token");
      const accessToken = readFileSync(tokenFile, "utf8").trim();
      assert.ok(
        seen.every((l) => !l.includes(accessToken)),
        "the token is not printed",
      );
      // Without the token Envoy turns the call away (jwt_authn), so the proxy is really Envoy.
      const anonymous = new AggregatorWebClient({
        proxyUrl,
        aggregatorUuid: "a",
        federationUuid: "f",
        collaboratorName: "dashboard",
        retry: { intervalMs: 10, maxAttempts: 1 },
      });
      await assert.rejects(anonymous.ping(), /unauthenticated|401|Jwt/i);
      const client = new AggregatorWebClient({
        proxyUrl,
        aggregatorUuid: page.searchParams.get("aggregatorUuid") ?? "",
        federationUuid: page.searchParams.get("federationUuid") ?? "",
        collaboratorName: page.searchParams.get("collaboratorName") ?? "",
        retry: { intervalMs: 200, maxAttempts: 5 },
        interceptors: [bearerTokenInterceptor(accessToken)],
      });
      assert.equal(page.searchParams.get("collaboratorName"), "dashboard");
      await client.ping();
      await client.disconnect();

      // The browser collaborator page, on the same origin with the same settings.
      const [, collaboratorUrl] = await waitForLine(
        child,
        /^browser collaborator: (http\S+)$/,
        seen,
      );
      assert.equal(new URL(collaboratorUrl ?? "").origin, page.origin);
      assert.equal(new URL(collaboratorUrl ?? "").search, page.search);
      const collaboratorPage = await (await fetch(collaboratorUrl ?? "")).text();
      assert.match(collaboratorPage, /Your data never leaves this browser/);

      // The rounds end without waiting for "dashboard"; the demo then keeps running.
      await waitForLine(child, /press Ctrl-C to stop/, seen);
      assert.ok(
        seen.some((l) => l.startsWith("done in ")),
        seen.join("\n"),
      );
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(child.exitCode, null, "the demo ended by itself");

      child.kill("SIGINT");
      const { code, signal } = await exited;
      assert.ok(code === 0 || code === 130, `exit ${code} ${signal}; stderr:\n${stderr}`);
      assert.equal(existsSync(dir), false, "the temp dir is removed");
      assert.deepEqual(processesMentioning(dir), [], "no process (proxy) left running");
    } finally {
      // On a failure above: let the demo stop its proxy, then make sure it is gone.
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
    }
  });

  it("--browser-collaborator: the rounds wait for the page's identity; it joins through Envoy with the printed file and token", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", demo, "--browser-collaborator"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const seen: string[] = [];
    createInterface({ input: child.stdout }).on("line", (l) => seen.push(l));
    const exited = new Promise((r) => child.once("exit", r));
    try {
      const [, dir] = await waitForLine(child, /fresh CA in (\S+)\)/, seen);
      assert.match(seen.join("\n"), /collaborators col1, col2, col3, dashboard/);
      const [, url] = await waitForLine(child, /^browser collaborator: (http\S+)$/, seen);
      const [, csv] = await waitForLine(child, /every round waits for it: pick (\S+) /, seen);
      const page = new URL(url ?? "");
      const proxyUrl = /"proxyUrl":"([^"]+)"/.exec(
        await (await fetch(new URL("/dashboard-config.js", page))).text(),
      )?.[1];
      const [, tokenFile] = await waitForLine(child, /access token .*: in (\S+)$/, seen);
      assert.ok(proxyUrl && tokenFile && csv && dir);
      // What the page does, in Node: the same loop, client and tasks on the printed file.
      const shard = splitShard(
        parseCsvDataset(readFileSync(csv, "utf8"), { features: 4, classes: 3 }),
      );
      const service = new CollaboratorService({
        client: new AggregatorWebClient({
          proxyUrl,
          aggregatorUuid: page.searchParams.get("aggregatorUuid") ?? "",
          federationUuid: page.searchParams.get("federationUuid") ?? "",
          collaboratorName: page.searchParams.get("collaboratorName") ?? "",
          interceptors: [bearerTokenInterceptor(readFileSync(tokenFile, "utf8").trim())],
        }),
        collaboratorName: "dashboard",
        taskSet: { tasks: createSoftmaxTasks(() => shard), modelTensorNames },
        maxSleepSeconds: 0.2,
      });
      const outcome = await service.run();
      assert.equal(outcome.t, "quit");
      assert.equal(outcome.t === "quit" && outcome.roundsWorked, 5);
      await waitForLine(child, /^done in .*accuracy rose/, seen);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
    }
  });
});
