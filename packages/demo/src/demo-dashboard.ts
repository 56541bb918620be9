// The demo's `--with-dashboard` part: the built dashboard (packages/dashboard/dist, built first
// if missing) served on 127.0.0.1, and Envoy (the generator's config for a test input, started by
// test-support's startEnvoy) holding the `dashboard` collaborator's certificate, so a browser can check the demo
// federation. Envoy listens in plain HTTP on loopback (a person's browser does not trust the
// demo's fresh CA) and, as deployed, accepts only requests with a valid token (jwt_authn).
import { spawn } from "node:child_process";
import { stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { serveStaticSite } from "@openfl-connect/dashboard/serve";
import type { TestPki } from "@openfl-connect/reference-aggregator";
import { startEnvoy } from "@openfl-connect/test-support/envoy";

const repo = resolve(import.meta.dirname, "../../..");
const dist = join(repo, "packages/dashboard/dist");
/** The demo's one user: its token's sub and collaborator claim. */
const DEMO_USER = "demo-user";

export interface DemoDashboardOptions {
  /** The aggregator's port on 127.0.0.1 (its certificate names localhost). */
  readonly aggregatorPort: number;
  /** The demo's PKI: Envoy presents `collaboratorName`'s certificate from it. */
  readonly pki: TestPki;
  /** OpenFL: aggregator_uuid and federation_uuid, passed to the page in its URL. */
  readonly aggregatorUuid: string;
  readonly federationUuid: string;
  /** The collaborator name the page sends: the certificate's CN. */
  readonly collaboratorName: string;
  /** Envoy's config and log, and the access token file, go here. */
  readonly workDir: string;
  /** Progress and warnings, one line each. */
  readonly say: (line: string) => void;
}

export type ProxyState =
  | {
      readonly t: "running";
      readonly url: string;
      /** A file (mode 0600) holding a token Envoy accepts, for the page's access token field. */
      readonly accessTokenFile: string;
      stop(): Promise<void>;
    }
  | { readonly t: "unavailable"; readonly reason: string };

export interface DemoDashboard {
  /** The page's URL, with the settings (not the proxy) as query parameters. */
  readonly url: string;
  /** The browser collaborator page (collaborator.html), with the same settings. */
  readonly collaboratorUrl: string;
  readonly proxy: ProxyState;
  /** Stops the proxy and the static server. Safe to call twice. */
  stop(): Promise<void>;
}

/** Builds the page if needed, serves it, starts Envoy. Without .venv/bin/envoy it is "unavailable". */
export async function startDemoDashboard(options: DemoDashboardOptions): Promise<DemoDashboard> {
  await buildDashboardIfMissing(options.say);
  const web = await serveStaticSite(dist);
  const origin = web.origin;
  const proxy = await startProxy(options, origin).catch(
    (error: unknown): ProxyState => ({
      t: "unavailable",
      reason: error instanceof Error ? error.message : String(error),
    }),
  );
  // The page learns its proxy from its own origin (dashboard-config.js), not from the link.
  if (proxy.t === "running") web.configure(proxy.url);
  const query = new URLSearchParams({
    aggregatorUuid: options.aggregatorUuid,
    federationUuid: options.federationUuid,
    collaboratorName: options.collaboratorName,
  });
  let stopped = false;
  return {
    url: `${origin}/?${query}`,
    collaboratorUrl: `${origin}/collaborator.html?${query}`,
    proxy,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (proxy.t === "running") await proxy.stop();
      await web.close();
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
  const envoy = await startEnvoy({
    workDir: options.workDir,
    pki: options.pki,
    collaborators: [{ name: options.collaboratorName, claim: DEMO_USER }],
    aggregatorPort: options.aggregatorPort,
    dashboardOrigin: origin,
    listener: "plaintext",
  });
  // A file, not the terminal or the link: tokens stay out of logs and browser history.
  const accessTokenFile = join(options.workDir, "access-token.txt");
  const token = envoy.token({ sub: DEMO_USER, collaborator: DEMO_USER, upload: true });
  await writeFile(accessTokenFile, `${token}\n`, { mode: 0o600 });
  return { t: "running", url: envoy.proxyUrl, accessTokenFile, stop: () => envoy.stop() };
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
