// Test-only: a mixed federation for the browser collaborator spec, in one process.
//   an aggregator over mTLS (test PKI), softmax regression, ROUNDS rounds, three round
//   participants: two Node collaborators (the collaborator package's service, run here at once)
//   and "browser", the page (collaborator.html) in Chromium. The aggregator is the TypeScript
//   reference (--aggregator reference) or OpenFL 1.9's real Aggregator behind its
//   AggregatorGRPCServer (--aggregator openfl; packages/interop's startOpenFLFederation)
//   <- Envoy holding the "browser" certificate (test-support's startEnvoy: TLS, jwt_authn)
//   <- the built dashboard (dist/), served statically on 127.0.0.1
// plus a control endpoint (GET /state): what the aggregator received, the aggregated accuracy
// per round, how the Node collaborators ended.
// Writes the browser's own data (a CSV of synthetic blobs) to the work directory.
// Prints one JSON line {"ready":true,...} on stdout, then runs until SIGTERM/SIGINT.
//
// With --aggregator openfl, --pipeline TEMPLATE [--p-sparsity P] [--n-clusters K] and --delta
// set the plan's compression_pipeline and use_delta_updates for everyone, the tab included (its
// link's compressionPipeline, pSparsity, nClusters, useDeltaUpdates).
//
// Run: node --import tsx e2e/mixed-federation-harness.ts [--aggregator reference|openfl]
//      [--pipeline openfl.pipelines.STCPipeline --p-sparsity 0.25 --delta]
//      (from packages/dashboard; build first; openfl needs the venv of scripts/setup-python.sh)
import { mkdtempSync } from "node:fs";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createCollaborator, createLogger, type RunOutcome } from "@openfl-connect/collaborator";
import { formatCsvDataset } from "@openfl-connect/collaborator/browser";
import * as softmax from "@openfl-connect/collaborator/tasks/softmax-regression";
import { collaboratorShard } from "@openfl-connect/collaborator/tasks/synthetic-blobs";
import {
  ourCompressionKeys,
  type PlanCompressionPipeline,
  startOpenFLFederation,
} from "@openfl-connect/interop/openfl-federation";
import {
  AGGREGATOR_UUID as OPENFL_AGGREGATOR_UUID,
  FEDERATION_UUID as OPENFL_FEDERATION_UUID,
} from "@openfl-connect/interop/openfl-fixture";
import { jsonLineLogger, ReferenceAggregator } from "@openfl-connect/reference-aggregator";
import {
  collaboratorConnection,
  createTestPki,
  type TestPki,
} from "@openfl-connect/reference-aggregator/pki";
import { startEnvoy } from "@openfl-connect/test-support/envoy";
import { serveStaticSite } from "../serve/static-site.js";
import { serveState } from "./harness-process.js";
import type { AggregatorView, Upload } from "./mixed-federation-state.js";

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
  const { values } = parseArgs({
    options: {
      aggregator: { type: "string", default: "reference" },
      pipeline: { type: "string" },
      "p-sparsity": { type: "string" },
      "n-clusters": { type: "string" },
      delta: { type: "boolean", default: false },
    },
  });
  const plan: PlanSettings = {
    useDeltaUpdates: values.delta,
    ...(values.pipeline === undefined
      ? {}
      : {
          compressionPipeline: {
            template: values.pipeline,
            settings: {
              ...(values["p-sparsity"] === undefined
                ? {}
                : { p_sparsity: Number(values["p-sparsity"]) }),
              ...(values["n-clusters"] === undefined
                ? {}
                : { n_clusters: Number(values["n-clusters"]) }),
            },
          },
        }),
  };
  if (values.aggregator !== "openfl" && (values.pipeline !== undefined || values.delta)) {
    throw new Error("--pipeline and --delta need --aggregator openfl");
  }
  const aggregator =
    values.aggregator === "openfl"
      ? await startOpenfl(pki, workDir, all, plan)
      : values.aggregator === "reference"
        ? await startReference(pki, all)
        : undefined;
  if (aggregator === undefined) throw new Error("--aggregator must be reference or openfl");
  const { port, aggregatorUuid, federationUuid } = aggregator;

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
          aggregatorUuid,
          federationUuid,
        }),
        tasks,
        pendingDir: join(workDir, `pending-${name}`),
        maxSleepSeconds: 0.5,
        useDeltaUpdates: plan.useDeltaUpdates,
        ...ourCompressionKeys(plan.compressionPipeline),
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

  const control = await serveState(async () => ({ ...(await aggregator.state()), nodeOutcomes }));

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
    aggregatorUuid,
    federationUuid,
    collaboratorName: BROWSER,
    ...(plan.useDeltaUpdates ? { useDeltaUpdates: "true" } : {}),
    ...Object.fromEntries(
      Object.entries(ourCompressionKeys(plan.compressionPipeline)).map(([k, v]) => [k, String(v)]),
    ),
  });
  process.stdout.write(
    `${JSON.stringify({
      ready: true,
      collaboratorUrl: `${web.origin}/collaborator.html?${query}`,
      proxyUrl: proxy.proxyUrl,
      accessToken: proxy.token({ sub: USER, collaborator: USER, upload: true }),
      stateUrl: control.url,
      csvPath,
      rounds: ROUNDS,
      aggregator: values.aggregator,
      collaboratorName: BROWSER,
      nodeCollaborators: NODE_COLLABORATORS,
    })}\n`,
  );
}

interface PlanSettings {
  readonly useDeltaUpdates: boolean;
  readonly compressionPipeline?: PlanCompressionPipeline;
}

interface RunningAggregator {
  readonly port: number;
  readonly aggregatorUuid: string;
  readonly federationUuid: string;
  state(): Promise<AggregatorView>;
  stop(): Promise<void>;
}

async function startReference(pki: TestPki, all: readonly string[]): Promise<RunningAggregator> {
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
  const s = aggregator.state;
  const upload = (u: Upload): Upload => ({
    collaborator: u.collaborator,
    round: u.round,
    taskName: u.taskName,
  });
  return {
    port,
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    state: async () => ({
      uploadsReceived: s.uploadsReceived.map(upload),
      resultsHeld: s.receivedResults.map(upload),
      aggregatedAccuracy: s.roundSummaries.map(
        (r) => r.metrics["aggregated_model_validation/accuracy"] ?? Number.NaN,
      ),
    }),
    stop: () => aggregator.stop(),
  };
}

async function startOpenfl(
  pki: TestPki,
  workDir: string,
  all: readonly string[],
  plan: PlanSettings,
): Promise<RunningAggregator> {
  const outDir = join(workDir, "openfl");
  await mkdir(outDir, { recursive: true });
  const federation = await startOpenFLFederation({
    pki,
    outDir,
    collaborators: all,
    rounds: ROUNDS,
    useDeltaUpdates: plan.useDeltaUpdates,
    ...(plan.compressionPipeline === undefined
      ? {}
      : { compressionPipeline: plan.compressionPipeline }),
  });
  return {
    port: federation.port,
    aggregatorUuid: OPENFL_AGGREGATOR_UUID,
    federationUuid: OPENFL_FEDERATION_UUID,
    state: async () => {
      const metrics = await federation.metrics();
      const accuracy = new Map<number, number>();
      for (const m of metrics) {
        if (
          m.metric_origin === "aggregator" &&
          m.task_name === "aggregated_model_validation" &&
          m.metric_name === "accuracy"
        ) {
          accuracy.set(m.round, m.metric_value);
        }
      }
      return {
        uploadsReceived: (await federation.arrivals()).map((a) => ({
          collaborator: a.collaborator,
          round: a.round,
          taskName: a.task,
          trained: a.tensors
            .filter((t) => t.tags.includes("trained"))
            .map((t) => `${t.name} ${[...t.tags].sort().join(",")} lossless=${t.lossless}`)
            .sort(),
        })),
        resultsHeld: null,
        aggregatedAccuracy: [...accuracy.entries()].sort(([a], [b]) => a - b).map(([, v]) => v),
      };
    },
    stop: () => federation.stop(),
  };
}

main().catch((error: unknown) => {
  process.stderr.write(
    `mixed-federation-harness: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
