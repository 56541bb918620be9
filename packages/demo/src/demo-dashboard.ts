// The demo's `--with-dashboard` part: the built dashboard (packages/dashboard/dist, built first
// if missing) served on 127.0.0.1, and grpcwebproxy (scripts/start-grpcwebproxy.sh) holding the
// `dashboard` collaborator's certificate, so a browser can check the demo federation.
// grpcwebproxy is a loopback test proxy (no user authentication): see deploy/envoy/README.md.
import { execFile, spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { serveStaticSite } from "@openfl-connect/dashboard/serve";

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "../../..");
const dist = join(repo, "packages/dashboard/dist");

export interface DemoDashboardOptions {
  /** The aggregator's port on localhost (its certificate names localhost). */
  readonly aggregatorPort: number;
  /** PEM files: the federation CA, and the dashboard collaborator's certificate and key. */
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
  /** OpenFL: aggregator_uuid and federation_uuid, passed to the page in its URL. */
  readonly aggregatorUuid: string;
  readonly federationUuid: string;
  /** The collaborator name the page sends: the certificate's CN. */
  readonly collaboratorName: string;
  /** Where the proxy's log goes. */
  readonly proxyLog: string;
  /** Progress and warnings, one line each. */
  readonly say: (line: string) => void;
}

export type ProxyState =
  | { readonly t: "running"; readonly url: string; readonly pid: number }
  | { readonly t: "unavailable"; readonly reason: string };

export interface DemoDashboard {
  /** The page's URL, with the settings as query parameters. */
  readonly url: string;
  readonly proxy: ProxyState;
  /** Stops the proxy and the static server. Safe to call twice. */
  stop(): Promise<void>;
}

/** Builds the page if needed, serves it, starts the proxy. Without Go the proxy is "unavailable". */
export async function startDemoDashboard(options: DemoDashboardOptions): Promise<DemoDashboard> {
  await buildDashboardIfMissing(options.say);
  const web = await serveStaticSite(dist);
  const origin = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  const proxy = await startProxy(options, origin).catch(
    (error: unknown): ProxyState => ({
      t: "unavailable",
      reason: error instanceof Error ? error.message : String(error),
    }),
  );
  const query = new URLSearchParams({
    ...(proxy.t === "running" ? { proxyUrl: proxy.url } : {}),
    aggregatorUuid: options.aggregatorUuid,
    federationUuid: options.federationUuid,
    collaboratorName: options.collaboratorName,
  });
  let stopped = false;
  return {
    url: `${origin}/?${query}`,
    proxy,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (proxy.t === "running") await terminate(proxy.pid);
      await new Promise<void>((done) => {
        web.close(() => done());
        web.closeAllConnections();
      });
    },
  };
}

async function buildDashboardIfMissing(say: (line: string) => void): Promise<void> {
  if (await exists(join(dist, "index.html"))) return;
  say("building the dashboard (packages/dashboard/dist is missing) ...");
  const child = spawn(
    "npx",
    ["-y", "pnpm@12.4.2", "--filter", "@openfl-connect/dashboard", "run", "build"],
    { cwd: repo, stdio: ["ignore", "ignore", "inherit"] },
  );
  const code = await new Promise<number | null>((done, fail) => {
    child.once("error", fail);
    child.once("exit", done);
  });
  if (code !== 0 || !(await exists(join(dist, "index.html")))) {
    throw new Error(
      `building the dashboard failed (exit ${code}); try "pnpm --filter @openfl-connect/dashboard build"`,
    );
  }
}

async function startProxy(options: DemoDashboardOptions, origin: string): Promise<ProxyState> {
  try {
    await run("bash", [join(repo, "scripts/setup-proxy.sh")], { cwd: repo });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    return { t: "unavailable", reason: stderr || "scripts/setup-proxy.sh failed" };
  }
  const port = await freePort();
  const { stdout } = await run(
    "bash",
    [
      join(repo, "scripts/start-grpcwebproxy.sh"),
      "--backend",
      `localhost:${options.aggregatorPort}`,
      "--ca",
      options.caCert,
      "--cert",
      options.cert,
      "--key",
      options.key,
      "--origin",
      origin,
      "--port",
      String(port),
      "--background",
      options.proxyLog,
    ],
    { cwd: repo },
  );
  const pid = Number(stdout.trim().split("\n").at(-1));
  if (!Number.isInteger(pid) || pid <= 0) {
    return { t: "unavailable", reason: `start-grpcwebproxy.sh printed no PID: ${stdout}` };
  }
  return { t: "running", url: `http://127.0.0.1:${port}`, pid };
}

/** SIGTERM, then SIGKILL after 3 s; resolves once the process is gone. */
async function terminate(pid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, "SIGTERM");
  for (let waited = 0; alive(); waited += 50) {
    if (waited === 3000) process.kill(pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function listen(server: Server): Promise<Server> {
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => done(server));
  });
}

async function freePort(): Promise<number> {
  const server = await listen(createServer());
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}
