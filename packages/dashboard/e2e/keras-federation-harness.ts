// Test-only: a real-model federation for the browser spec (keras-federation.e2e.ts), in one process.
//   OpenFL 1.9's real Aggregator behind its AggregatorGRPCServer, started from the TF.js digits
//   CNN's model file; two OpenFL Collaborators running KerasTaskRunner (Keras 3 on JAX), one Node
//   collaborator CLI running @openfl-connect/tfjs (packages/interop's fixtures), and "browser",
//   the page (collaborator.html?model=digits-cnn) in Chromium, each on its own shard of
//   scikit-learn's digits
//   <- Envoy holding the "browser" certificate (test-support's startEnvoy: TLS, jwt_authn)
//   <- the built dashboard (dist/), served statically on 127.0.0.1
// plus GET /state: what the aggregator received, the metrics it recorded, how the Node
// collaborator ended. Prints one JSON line {"ready":true,...}, then runs until SIGTERM/SIGINT.
//
// Run: node --import tsx e2e/keras-federation-harness.ts [--delta] (from packages/dashboard; build
//      first; needs the venv of scripts/setup-python.sh). --delta: the plan's use_delta_updates
//      for everyone, the tab included (its link's useDeltaUpdates=true).
import { mkdtempSync } from "node:fs";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { exportDigitsShards } from "@openfl-connect/interop/digits-shards";
import { startOpenFLFederation } from "@openfl-connect/interop/openfl-federation";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "@openfl-connect/interop/openfl-fixture";
import { startTfjsCollaboratorCli } from "@openfl-connect/interop/tfjs-collaborator-cli";
import { createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { startEnvoy } from "@openfl-connect/test-support/envoy";
import { modelFileOf } from "@openfl-connect/tfjs";
import { digitsCnn } from "@openfl-connect/tfjs/examples/digits-cnn";
import "@tensorflow/tfjs-backend-cpu";
import { serveStaticSite } from "../serve/static-site.js";
import { serveState } from "./harness-process.js";

const dist = resolve(import.meta.dirname, "../dist");

export const ROUNDS = 10;
const KERAS = ["keras-alpha", "keras-bravo"];
const TFJS_NODE = "tfjs-node";
const BROWSER = "browser";
const USER = "browser-user";

async function main(): Promise<void> {
  await stat(join(dist, "collaborator.html")).catch(() => {
    throw new Error(`${dist}/collaborator.html is missing: build the dashboard first`);
  });
  const { values } = parseArgs({ options: { delta: { type: "boolean", default: false } } });
  const useDeltaUpdates = values.delta;
  const workDir = process.env.E2E_WORK_DIR ?? mkdtempSync(join(tmpdir(), "openfl-keras-e2e-"));
  const all = [...KERAS, TFJS_NODE, BROWSER];
  const pki = await createTestPki(join(workDir, "pki"), { collaborators: all });
  const shards = await exportDigitsShards(join(workDir, "data"), all);
  const initModel = join(workDir, "initial-model.pbuf");
  await writeFile(initModel, await modelFileOf(digitsCnn({ seed: 11 })));
  const outDir = join(workDir, "openfl");
  await mkdir(outDir, { recursive: true });
  const federation = await startOpenFLFederation({
    pki,
    outDir,
    collaborators: all,
    pythonCollaborators: Object.fromEntries(
      KERAS.map((c) => [c, { csvPath: shards[c] as string }]),
    ),
    rounds: ROUNDS,
    useDeltaUpdates,
    taskRunner: "keras-digits",
    initModel,
  });

  const web = await serveStaticSite(dist);
  const proxy = await startEnvoy({
    workDir,
    pki,
    collaborators: [{ name: BROWSER, claim: USER }],
    aggregatorPort: federation.port,
    dashboardOrigin: web.origin,
  });
  web.configure(proxy.proxyUrl);

  // The Node TF.js collaborator starts now and waits for the tab in every round.
  const node = await startTfjsCollaboratorCli({
    pki,
    name: TFJS_NODE,
    port: federation.port,
    dataCsv: shards[TFJS_NODE] as string,
    dir: workDir,
    extra: { maxSleepSeconds: 0.5, useDeltaUpdates },
  });
  node.child.stderr?.pipe(process.stderr);
  let nodeOutcome = "running";
  void node.exited.then(({ code }) => {
    const finished = node.lines.some((l) => l.event === "finished");
    nodeOutcome = code === 0 && finished ? "quit" : `exited ${code}: ${node.stderr().slice(-400)}`;
  });

  const control = await serveState(async () => {
    const [arrivals, metrics, errors] = await Promise.all([
      federation.arrivals(),
      federation.metrics(),
      federation.errors(),
    ]);
    return { arrivals, metrics, errors, nodeOutcome };
  });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    if (node.child.exitCode === null) node.child.kill("SIGTERM");
    await proxy.stop();
    await web.close();
    control.close();
    await federation.stop();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());

  const query = new URLSearchParams({
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    collaboratorName: BROWSER,
    model: "digits-cnn",
    useDeltaUpdates: String(useDeltaUpdates),
  });
  process.stdout.write(
    `${JSON.stringify({
      ready: true,
      collaboratorUrl: `${web.origin}/collaborator.html?${query}`,
      accessToken: proxy.token({ sub: USER, collaborator: USER, upload: true }),
      stateUrl: control.url,
      csvPath: shards[BROWSER],
      rounds: ROUNDS,
      collaboratorName: BROWSER,
      participants: all,
      useDeltaUpdates,
    })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `keras-federation-harness: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
