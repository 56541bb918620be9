// Test-only: the federation the browser tests talk to, in one process.
//   an aggregator (mTLS, test PKI; collaborator "dashboard" authorised)
//   <- Envoy holding the "dashboard" certificate: the generator's config for a test input
//      (test-support's startEnvoy: TLS, jwt_authn with a test key; the ready line carries an
//      access token with the upload claim and a read-only one)
//   <- the built dashboard (dist/), served statically on 127.0.0.1
// plus a control endpoint (GET /results) listing what the aggregator received.
// Prints one JSON line {"ready":true,...} on stdout, then runs until SIGTERM/SIGINT.
//
// Run: node --import tsx e2e/federation-harness.ts [--aggregator reference|openfl]

//      (from packages/dashboard; build dist/ first). "openfl" runs OpenFL 1.9's real
//      AggregatorGRPCServer (packages/interop/python/openfl_server_fixture.py; needs the venv
//      from scripts/setup-python.sh) instead of the TypeScript reference aggregator.
// Env: E2E_WORK_DIR (default: a new temp dir) for the PKI and the proxy log.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import {
  createTestPki,
  jsonLineLogger,
  ReferenceAggregator,
  type ResultsRecord,
  type TestPki,
} from "@openfl-connect/reference-aggregator";
import { startEnvoy } from "@openfl-connect/test-support/envoy";
import { serveStaticSite } from "../serve/static-site.js";

const here = import.meta.dirname;
const repo = resolve(here, "../../..");
const dist = resolve(here, "../dist");

export const COLLABORATOR = "dashboard";
/** The test user (token sub) and the collaborator claim value that maps to COLLABORATOR. */
const USER = "e2e-user";
const FEDERATION_UUID = "plan.yaml_e2e0b0b0";
const AGGREGATOR_UUID = `aggregator_${FEDERATION_UUID}`;

async function main(): Promise<void> {
  await stat(join(dist, "index.html")).catch(() => {
    throw new Error(
      `${dist}/index.html is missing: run "pnpm --filter @openfl-connect/dashboard build" first`,
    );
  });
  const workDir = process.env.E2E_WORK_DIR ?? mkdtempSync(join(tmpdir(), "openfl-e2e-"));
  const pki = await createTestPki(join(workDir, "pki"), { collaborators: [COLLABORATOR] });

  const { values } = parseArgs({
    options: { aggregator: { type: "string", default: "reference" } },
  });
  const aggregator =
    values.aggregator === "openfl"
      ? await startOpenflFixture(pki, workDir)
      : values.aggregator === "reference"
        ? await startReferenceAggregator(pki)
        : undefined;
  if (aggregator === undefined) throw new Error(`--aggregator must be reference or openfl`);
  const aggregatorPort = aggregator.port;

  const web = await serveStaticSite(dist);
  const dashboardUrl = web.origin;
  // The same page on other origins: one that Envoy's CORS does not allow (configured with the
  // real proxy), and one whose configured proxy does not exist.
  const foreignSite = await serveStaticSite(dist);
  const unreachableSite = await serveStaticSite(dist);
  unreachableSite.configure("http://127.0.0.1:9");
  const control = await listen(
    createServer((req, res) => {
      if (req.url === "/results") {
        res.writeHead(200, { "content-type": "application/json" });
        aggregator.results().then(
          (results) => res.end(JSON.stringify(results)),
          (error: unknown) => res.end(JSON.stringify({ error: String(error) })),
        );
        return;
      }
      res.writeHead(404).end();
    }),
  );

  const proxy = await startEnvoy({
    workDir,
    pki,
    collaborators: [{ name: COLLABORATOR, claim: USER }],
    aggregatorPort,
    dashboardOrigin: dashboardUrl,
  });
  web.configure(proxy.proxyUrl);
  foreignSite.configure(proxy.proxyUrl);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await proxy.stop();
    await Promise.all([web.close(), foreignSite.close(), unreachableSite.close()]);
    control.close();
    await aggregator.stop();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());

  process.stdout.write(
    `${JSON.stringify({
      ready: true,
      dashboardUrl,
      foreignOriginDashboardUrl: foreignSite.origin,
      unreachableProxyDashboardUrl: unreachableSite.origin,
      proxyUrl: proxy.proxyUrl,
      // The page's token: this user acts as COLLABORATOR and may upload; and a read-only one.
      accessToken: proxy.token({ sub: USER, collaborator: USER, upload: true }),
      readOnlyAccessToken: proxy.token({ sub: USER, collaborator: USER }),
      resultsUrl: `http://127.0.0.1:${port(control)}/results`,
      aggregatorUuid: AGGREGATOR_UUID,
      federationUuid: FEDERATION_UUID,
      collaboratorName: COLLABORATOR,
      aggregator: values.aggregator,
      aggregatorPort,
      proxyPid: proxy.pid,
      proxyCommand: proxy.command,
      proxyLog: proxy.log,
    })}\n`,
  );
}

/** One received TaskResults as the tests compare it. */
interface ResultsSummary {
  readonly collaborator: string;
  readonly round: number;
  readonly taskName: string;
  readonly dataSize: number;
  readonly tensors: readonly {
    name: string;
    shape: readonly number[];
    tags: readonly string[];
    bytes: number;
    sha256: string;
  }[];
}

interface RunningAggregator {
  readonly port: number;
  results(): Promise<ResultsSummary[]>;
  stop(): Promise<void>;
}

const INITIAL_MODEL = {
  "dense.weight": {
    shape: [4, 2],
    data: Float32Array.from([0.1, -0.1, 0.2, -0.2, 0.3, -0.3, 0.4, -0.4]),
  },
  "dense.bias": { shape: [2], data: Float32Array.from([0, 0]) },
};

async function startReferenceAggregator(pki: TestPki): Promise<RunningAggregator> {
  const aggregator = new ReferenceAggregator({
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    authorizedCollaborators: [COLLABORATOR],
    rounds: 3,
    initialModel: INITIAL_MODEL,
    tensorWaitMs: 2000,
    authFailureDelayMs: [0, 0],
    host: "127.0.0.1",
    port: 0,
    tls: { rootCertificate: pki.caCert, certificate: pki.server.cert, privateKey: pki.server.key },
    logger: jsonLineLogger(process.stderr),
  });
  const received: ResultsSummary[] = [];
  aggregator.state.onResults((record) => {
    const summary = summarise(record);
    received.push(summary);
    process.stdout.write(`${JSON.stringify({ event: "results", ...summary })}\n`);
  });
  const { port } = await aggregator.start();
  return { port, results: async () => received, stop: () => aggregator.stop() };
}

/** OpenFL's real AggregatorGRPCServer; one round, task "train". Uploads land in record files. */
async function startOpenflFixture(pki: TestPki, workDir: string): Promise<RunningAggregator> {
  const python = join(repo, ".venv/bin/python");
  await stat(python).catch(() => {
    throw new Error(`${python} is missing: run "bash scripts/setup-python.sh" first`);
  });
  const recordDir = join(workDir, "openfl-records");
  const child = spawn(
    python,
    [
      join(repo, "packages/interop/python/openfl_server_fixture.py"),
      "--root-ca",
      pki.caCert,
      "--cert",
      pki.server.cert,
      "--key",
      pki.server.key,
      "--aggregator-uuid",
      AGGREGATOR_UUID,
      "--federation-uuid",
      FEDERATION_UUID,
      "--collaborators",
      COLLABORATOR,
      "--record-dir",
      recordDir,
      "--rounds",
      "1",
      "--tasks",
      "train",
      "--tensor-wait",
      "2",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await fixturePort(child);
  return {
    port,
    results: async () => {
      const files = (await readdir(recordDir)).filter((f) => /^results-.*\.json$/.test(f));
      return Promise.all(
        files.map(async (f) =>
          openflRecordSummary(JSON.parse(await readFile(join(recordDir, f), "utf8"))),
        ),
      );
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

function fixturePort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout ?? process.stdin });
    lines.once("line", (line) => {
      const ready = JSON.parse(line) as { ready?: boolean; port?: number };
      if (ready.ready === true && typeof ready.port === "number") resolve(ready.port);
      else reject(new Error(`OpenFL fixture: unexpected first line ${line}`));
    });
    child.once("exit", (code) => reject(new Error(`OpenFL fixture exited with ${code}`)));
  });
}

interface OpenflRecord {
  collaborator: string;
  round: number;
  task_name: string;
  data_size: number;
  tensors: {
    name: string;
    shape: number[];
    decoded_tags: string[];
    data_bytes_len: number;
    sha256: string;
  }[];
}

function openflRecordSummary(record: OpenflRecord): ResultsSummary {
  return {
    collaborator: record.collaborator,
    round: record.round,
    taskName: record.task_name,
    dataSize: record.data_size,
    tensors: record.tensors.map((t) => ({
      name: t.name,
      shape: t.shape,
      tags: t.decoded_tags,
      bytes: t.data_bytes_len,
      sha256: t.sha256,
    })),
  };
}

function summarise(record: ResultsRecord): ResultsSummary {
  return {
    collaborator: record.collaborator,
    round: record.round,
    taskName: record.taskName,
    dataSize: record.dataSize,
    tensors: record.tensors.map((t) => ({
      name: t.name,
      shape: t.shape,
      tags: t.tags,
      bytes: t.data.byteLength,
      sha256: t.sha256,
    })),
  };
}

function listen(server: Server): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

function port(server: Server): number {
  return (server.address() as AddressInfo).port;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `federation-harness: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
