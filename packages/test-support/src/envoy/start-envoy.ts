// Test-only: the one way the repo's tests and demo start Envoy. It writes the generator's config
// (packages/envoy-config) for a test input (test-envoy-input.ts: jwt_authn with a fresh local
// key, one upstream identity per test collaborator), starts .venv/bin/envoy on free ports of
// 127.0.0.1 and resolves once its readiness listener answers GET /ready, as a probe would.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { type EdgeLimits, generateEnvoyConfig } from "@openfl-connect/envoy-config";
import type { TestPki } from "@openfl-connect/reference-aggregator";
import { freePort } from "../free-port.js";
import { envoyBinary } from "./envoy-binary.js";
import { deployedEnvoyInput, testEnvoyInput } from "./test-envoy-input.js";
import { createTestJwtKey, signJwt } from "./test-jwt.js";

export interface EnvoyOptions {
  /** Where the config and the log go. */
  readonly workDir: string;
  readonly pki: TestPki;
  /**
   * The identities Envoy may present (each a collaborator of `pki`), with the claim value that
   * selects each. Default: every collaborator of `pki`, claim = its name.
   */
  readonly collaborators?: readonly { readonly name: string; readonly claim: string }[];
  /** The aggregator's port on 127.0.0.1 (its certificate names localhost). */
  readonly aggregatorPort: number;
  /** The page's origin, the only one CORS allows. */
  readonly dashboardOrigin: string;
  /**
   * "tls" (default): the listener serves the test PKI's server certificate, as deployed.
   * "plaintext": plain HTTP on loopback, for a person's browser that does not trust the test CA.
   */
  readonly listener?: "tls" | "plaintext";
  /** The shipped limits, these replaced (attack tests use short timeouts). */
  readonly limits?: Partial<EdgeLimits>;
  /** Enables InteropRelay for tokens whose claim of this name is true. Default: not routed. */
  readonly interopClaim?: string;
}

/** Who a test token is for. */
export interface TestUser {
  readonly sub: string;
  /** The collaborator claim's value (omitted: no claim). */
  readonly collaborator?: string;
  /** Sets the upload claim to true. */
  readonly upload?: boolean;
  /** Sets the interop claim (EnvoyOptions.interopClaim) to true. */
  readonly interop?: boolean;
  /** Seconds from now to expiry (default 3600; negative: already expired). */
  readonly expiresIn?: number;
  /** Replaces iss / aud (wrong-issuer and wrong-audience tests). */
  readonly issuer?: string;
  readonly audience?: string;
}

export interface RunningEnvoy {
  /** "https://127.0.0.1:<port>" (or http:// for a plaintext listener). */
  readonly proxyUrl: string;
  /** A signed JWT for `user`, with the shipped issuer, audience and claim names. */
  token(user: TestUser): string;
  /** The claim names of the shipped input (deploy/envoy/envoy-input.yaml). */
  readonly claims: { readonly collaborator: string; readonly upload: string };
  readonly pid: number;
  readonly command: string;
  /** Envoy's stdout and stderr (the JSON access log included). */
  readonly log: string;
  /** The admin interface's Unix socket (owner-only). */
  readonly adminSocket: string;
  /** The readiness listener's GET /ready URL. */
  readonly readyUrl: string;
  /** GET `path` on the admin interface (over its Unix socket): status and body. */
  admin(path: string): Promise<{ status: number; body: string }>;
  /** SIGTERM; resolves once Envoy has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startEnvoy(options: EnvoyOptions): Promise<RunningEnvoy> {
  const collaborators = (
    options.collaborators ??
    Object.keys(options.pki.collaborators).map((name) => ({ name, claim: name }))
  ).map(({ name, claim }) => {
    const pair = options.pki.collaborators[name];
    if (!pair) throw new Error(`the test PKI has no ${name} certificate`);
    return { name, claim, cert: pair.cert, key: pair.key };
  });
  const binary = envoyBinary();
  const jwtKey = createTestJwtKey();
  const shipped = await deployedEnvoyInput();
  const adminSocket = join(options.workDir, "envoy-admin.sock");
  const listenerPort = await freePort();
  const healthPort = await freePort();
  const readyUrl = `http://127.0.0.1:${healthPort}/ready`;
  const plaintext = options.listener === "plaintext";
  const input = testEnvoyInput(shipped, {
    adminSocket,
    listenerPort,
    healthPort,
    interopClaim: options.interopClaim,
    listenerTls: plaintext
      ? "plaintext"
      : { cert: options.pki.server.cert, key: options.pki.server.key },
    dashboardOrigin: options.dashboardOrigin,
    aggregator: { port: options.aggregatorPort, caCert: options.pki.caCert },
    collaborators,
    jwks: jwtKey.jwks,
    limits: options.limits,
  });
  const file = join(options.workDir, "envoy-test.yaml");
  await writeFile(file, generateEnvoyConfig(input, "a test input (packages/test-support)"));
  const log = join(options.workDir, "envoy.log");
  // Access log lines reach the log file within 0.1 s (default 10 s), for tests that read it.
  const args = [
    "-c",
    file,
    "--disable-hot-restart",
    "--log-level",
    "warn",
    "--file-flush-interval-msec",
    "100",
  ];
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
    await untilReady(child, readyUrl, log);
  } catch (error) {
    await stop();
    throw error;
  }
  const { tokens } = input;
  return {
    proxyUrl: `${plaintext ? "http" : "https"}://127.0.0.1:${listenerPort}`,
    token: (user) => {
      const now = Math.floor(Date.now() / 1000);
      return signJwt(jwtKey, {
        iss: user.issuer ?? tokens.issuer,
        aud: user.audience ?? tokens.audience,
        sub: user.sub,
        iat: now,
        exp: now + (user.expiresIn ?? 3600),
        ...(user.collaborator === undefined
          ? {}
          : { [tokens.collaborator_claim]: user.collaborator }),
        ...(user.upload === true ? { [tokens.upload_claim]: true } : {}),
        ...(user.interop === true && tokens.interop_claim !== undefined
          ? { [tokens.interop_claim]: true }
          : {}),
      });
    },
    claims: { collaborator: tokens.collaborator_claim, upload: tokens.upload_claim },
    pid: child.pid ?? -1,
    command: [binary, ...args].join(" "),
    log,
    adminSocket,
    readyUrl,
    admin: (path) => adminGet(adminSocket, path),
    stop,
  };
}

function adminGet(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: "GET" }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Polls the readiness listener's GET /ready (200 once listeners and clusters are up). */
async function untilReady(child: ChildProcess, readyUrl: string, log: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`envoy exited (${child.exitCode ?? child.signalCode}); see ${log}`);
    }
    const ready = await fetch(readyUrl).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`envoy: not ready after 30 s (${readyUrl}); see ${log}`);
}
