// Test-only: the one way the repo's tests and demo start Envoy. It writes the config that
// envoy-test-config.ts derives from deploy/envoy/envoy.yaml (jwt_authn with a fresh local key,
// mTLS upstream with one collaborator's test certificate), starts .venv/bin/envoy on free ports
// of 127.0.0.1 and resolves once Envoy's admin interface reports it ready.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestPki } from "@openfl-connect/reference-aggregator";
import { freePort } from "../free-port.js";
import { envoyBinary } from "./envoy-binary.js";
import { deployedEnvoyTestConfig } from "./envoy-test-config.js";
import { createTestJwtKey, type TestJwtKey, testAccessToken } from "./test-jwt.js";

export interface EnvoyOptions {
  /** Where the config and the log go. */
  readonly workDir: string;
  readonly pki: TestPki;
  /** The collaborator whose certificate Envoy presents to the aggregator. */
  readonly collaborator: string;
  /** The aggregator's port on 127.0.0.1 (its certificate names localhost). */
  readonly aggregatorPort: number;
  /** The page's origin, the only one CORS allows. */
  readonly dashboardOrigin: string;
  /**
   * "tls" (default): the listener serves the test PKI's server certificate, as deployed.
   * "plaintext": plain HTTP on loopback, for a person's browser that does not trust the test CA.
   */
  readonly listener?: "tls" | "plaintext";
}

export interface RunningEnvoy {
  /** "https://127.0.0.1:<port>" (or http:// for a plaintext listener). */
  readonly proxyUrl: string;
  /** A JWT Envoy accepts (1 h), for the page's access token setting. */
  readonly accessToken: string;
  /** The signing key, issuer and audience behind it, for tests that need other tokens. */
  readonly jwtKey: TestJwtKey;
  readonly issuer: string;
  readonly audience: string;
  readonly pid: number;
  readonly command: string;
  /** Envoy's stdout and stderr (access log included). */
  readonly log: string;
  /** SIGTERM; resolves once Envoy has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startEnvoy(options: EnvoyOptions): Promise<RunningEnvoy> {
  const identity = options.pki.collaborators[options.collaborator];
  if (!identity) throw new Error(`the test PKI has no ${options.collaborator} certificate`);
  const binary = envoyBinary();
  const jwtKey = createTestJwtKey();
  const adminPort = await freePort();
  const config = await deployedEnvoyTestConfig({
    adminPort,
    listenerPort: await freePort(),
    listenerTls:
      options.listener === "plaintext"
        ? "plaintext"
        : { cert: options.pki.server.cert, key: options.pki.server.key },
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
    jwks: jwtKey.jwks,
  });
  const file = join(options.workDir, "envoy-test.yaml");
  await writeFile(file, config.yaml);
  const log = join(options.workDir, "envoy.log");
  const args = ["-c", file, "--disable-hot-restart", "--log-level", "warn"];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  const out = createWriteStream(log);
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
  try {
    await untilReady(child, adminPort, log);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    proxyUrl: config.proxyUrl,
    accessToken: testAccessToken(jwtKey, config.issuer, config.audience),
    jwtKey,
    issuer: config.issuer,
    audience: config.audience,
    pid: child.pid ?? -1,
    command: [binary, ...args].join(" "),
    log,
    stop,
  };
}

/** Polls GET /ready on the admin interface (200 once listeners and clusters are up). */
async function untilReady(child: ChildProcess, adminPort: number, log: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`envoy exited (${child.exitCode ?? child.signalCode}); see ${log}`);
    }
    const ready = await fetch(`http://127.0.0.1:${adminPort}/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`envoy: not ready after 30 s; see ${log}`);
}
