// Test-only: runs Envoy with the config envoy-config.ts derives from deploy/envoy/envoy.yaml, in
// front of the test aggregator: TLS towards the browser (the test PKI's server certificate;
// Chromium is told to accept it, see playwright.config.ts), jwt_authn with a local test key, and
// mTLS upstream with the `dashboard` collaborator certificate. Needs `envoy` on PATH.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import type { TestPki } from "@openfl-connect/reference-aggregator";
import { deployedEnvoyTestConfig } from "./envoy-config.js";
import { createTestJwtKey, testAccessToken } from "./test-jwt.js";

export interface RunningEnvoy {
  readonly proxyUrl: string;
  /** A JWT the proxy accepts (1 h), for the dashboard's access token setting. */
  readonly accessToken: string;
  readonly pid: number;
  readonly command: string;
  readonly log: string;
  stop(): Promise<void>;
}

export interface EnvoyOptions {
  readonly workDir: string;
  readonly pki: TestPki;
  readonly collaborator: string;
  readonly aggregatorPort: number;
  readonly dashboardOrigin: string;
  /** Two free ports on 127.0.0.1: the listener's and the admin interface's. */
  readonly listenerPort: number;
  readonly adminPort: number;
}

export async function startEnvoy(options: EnvoyOptions): Promise<RunningEnvoy> {
  const identity = options.pki.collaborators[options.collaborator];
  if (!identity) throw new Error(`PKI has no ${options.collaborator} certificate`);
  const key = createTestJwtKey();
  const config = await deployedEnvoyTestConfig({
    adminPort: options.adminPort,
    listenerPort: options.listenerPort,
    listenerTls: { cert: options.pki.server.cert, key: options.pki.server.key },
    dashboardOrigin: options.dashboardOrigin,
    aggregator: {
      // An IP, not "localhost": Envoy's DNS lookup prefers IPv6 and the aggregator binds IPv4.
      address: "127.0.0.1",
      port: options.aggregatorPort,
      serverName: "localhost",
      caCert: options.pki.caCert,
      cert: identity.cert,
      key: identity.key,
    },
    jwks: key.jwks,
  });
  const file = join(options.workDir, "envoy-test.yaml");
  await writeFile(file, config.yaml);
  const log = join(options.workDir, "envoy.log");
  const args = ["-c", file, "--disable-hot-restart", "--log-level", "warn"];
  const child = spawn("envoy", args, { stdio: ["ignore", "pipe", "pipe"] });
  const out = createWriteStream(log);
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  await untilListening(child, options.listenerPort, log);
  return {
    proxyUrl: config.proxyUrl,
    accessToken: testAccessToken(key, config.issuer, config.audience),
    pid: child.pid ?? -1,
    command: ["envoy", ...args].join(" "),
    log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function untilListening(child: ChildProcess, port: number, log: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error(`envoy exited (${child.exitCode}); see ${log}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill("SIGKILL");
  throw new Error(`envoy: 127.0.0.1:${port} not listening after 30 s; see ${log}`);
}
