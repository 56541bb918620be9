// Test-only: a mixed federation for the browser collaborator spec, in one process.
//   the reference aggregator (mTLS, test PKI), softmax regression, ROUNDS rounds, three round
//   participants: two Node collaborators (the collaborator package's service, run here at once)
//   and "browser", the page (collaborator.html) in Chromium
//   <- Envoy holding the "browser" certificate (test-support's startEnvoy: TLS, jwt_authn)
//   <- the built dashboard (dist/), served statically on 127.0.0.1
// plus a control endpoint (GET /state): what the aggregator received and its round summaries.
// Writes the browser's own data (a CSV of synthetic blobs) to the work directory.
// Prints one JSON line {"ready":true,...} on stdout, then runs until SIGTERM/SIGINT.
//
// Run: node --import tsx e2e/mixed-federation-harness.ts   (from packages/dashboard; build first)
import { mkdtempSync } from "node:fs";
import { stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createCollaborator, createLogger, type RunOutcome } from "@openfl-connect/collaborator";
import { formatCsvDataset } from "@openfl-connect/collaborator/browser";
import * as softmax from "@openfl-connect/collaborator/tasks/softmax-regression";
import { collaboratorShard } from "@openfl-connect/collaborator/tasks/synthetic-blobs";
import { jsonLineLogger, ReferenceAggregator } from "@openfl-connect/reference-aggregator";
import { collaboratorConnection, createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { startEnvoy } from "@openfl-connect/test-support/envoy";
import { serveStaticSite } from "../serve/static-site.js";

const dist = resolve(import.meta.dirname, "../dist");

export const ROUNDS = 4;
const NODE_COLLABORATORS = ["node-alpha", "node-bravo"];
const BROWSER = "browser";
const USER = "browser-user";
const FEDERATION_UUID = "plan.yaml_mixed0b0";
const AGGREGATOR_UUID = `aggregator_${FEDERATION_UUID}`;

async function main(): Promise<void> {
  await stat(join(dist, "collaborator.html")).catch(() => {
    throw new Error(`${dist}/collaborator.html is missing: build the dashboard first`);
  });
  const workDir = process.env.E2E_WORK_DIR ?? mkdtempSync(join(tmpdir(), "openfl-mixed-e2e-"));
  const all = [...NODE_COLLABORATORS, BROWSER];
  const pki = await createTestPki(join(workDir, "pki"), { collaborators: all });
  const aggregator = new ReferenceAggregator({
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    authorizedCollaborators: all,
    rounds: ROUNDS,
    initialModel: softmax.initialModel(),
    authFailureDelayMs: [0, 0],
    host: "127.0.0.1",
    port: 0,
    tls: { rootCertificate: pki.caCert, certificate: pki.server.cert, privateKey: pki.server.key },
    logger: jsonLineLogger(process.stderr),
  });
  const { port } = await aggregator.start();

  // The browser's data: its own shard of the blobs the Node collaborators train on.
  const { train, validation } = collaboratorShard(BROWSER);
  const csvPath = join(workDir, "browser-data.csv");
  await writeFile(csvPath, formatCsvDataset(train, validation));

  const web = await serveStaticSite(dist);
  const proxy = await startEnvoy({
    workDir,
    pki,
    collaborators: [{ name: BROWSER, claim: USER }],
    aggregatorPort: port,
    dashboardOrigin: web.origin,
  });
  web.configure(proxy.proxyUrl);

  // The Node collaborators start now and poll until the browser joins each round.
  const stopNodes = new AbortController();
  const nodeOutcomes: Record<string, string> = {};
  const tasks = fileURLToPath(
    import.meta.resolve("@openfl-connect/collaborator/tasks/softmax-regression"),
  );
  const nodeRuns = NODE_COLLABORATORS.map(async (name) => {
    const parts = await createCollaborator(
      {
        ...collaboratorConnection(pki, name, {
          port,
          aggregatorUuid: AGGREGATOR_UUID,
          federationUuid: FEDERATION_UUID,
        }),
        tasks,
        pendingDir: join(workDir, `pending-${name}`),
        maxSleepSeconds: 0.5,
      },
      { logger: createLogger("json", process.stderr, { collaborator: name }), taskSet: softmax },
    );
    try {
      const outcome: RunOutcome = await parts.service.run({ signal: stopNodes.signal });
      nodeOutcomes[name] = outcome.t;
    } catch (error) {
      nodeOutcomes[name] = `failed: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      await parts.close();
    }
  });

  const state = aggregator.state;
  const control = createServer((req, res) => {
    if (req.url !== "/state") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        uploadsReceived: state.uploadsReceived,
        receivedResults: state.receivedResults.map((r) => ({
          collaborator: r.collaborator,
          round: r.round,
          taskName: r.taskName,
        })),
        roundSummaries: state.roundSummaries,
        nodeOutcomes,
      }),
    );
  });
  await new Promise<void>((r) => control.listen(0, "127.0.0.1", () => r()));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    stopNodes.abort(new Error("harness stopping"));
    await Promise.allSettled(nodeRuns);
    await proxy.stop();
    await web.close();
    control.close();
    await aggregator.stop();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());

  const query = new URLSearchParams({
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    collaboratorName: BROWSER,
  });
  process.stdout.write(
    `${JSON.stringify({
      ready: true,
      collaboratorUrl: `${web.origin}/collaborator.html?${query}`,
      proxyUrl: proxy.proxyUrl,
      accessToken: proxy.token({ sub: USER, collaborator: USER, upload: true }),
      stateUrl: `http://127.0.0.1:${(control.address() as AddressInfo).port}/state`,
      csvPath,
      rounds: ROUNDS,
      collaboratorName: BROWSER,
      nodeCollaborators: NODE_COLLABORATORS,
    })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `mixed-federation-harness: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
