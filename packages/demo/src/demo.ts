// The one-command demo (`npm run demo`): a fresh PKI, the TS reference aggregator with the
// softmax-regression model, and three collaborators over mutual TLS, for 5 rounds.
//
// Flags: --verbose          also print the collaborators' log lines
//        --with-dashboard   also serve the browser dashboard (packages/dashboard) on 127.0.0.1
//                           with Envoy holding a `dashboard` collaborator certificate, print
//                           its URL (settings filled in) and where the access token is, and
//                           keep running after the rounds until Ctrl-C. `dashboard` is authorised but not a round
//                           participant, so the rounds never wait for it. Also prints the browser
//                           collaborator page's URL (collaborator.html).
//        --browser-collaborator   --with-dashboard, and `dashboard` is a round participant: every
//                           round waits for a browser tab on the collaborator page (no time
//                           limit; Ctrl-C stops). Writes a CSV of its own synthetic data to pick.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { formatCsvDataset } from "@openfl-connect/collaborator/browser";
import { initialModel } from "@openfl-connect/collaborator/tasks/softmax-regression";
import { collaboratorShard } from "@openfl-connect/collaborator/tasks/synthetic-blobs";
import { ReferenceAggregator, silentLogger } from "@openfl-connect/reference-aggregator";
import { createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { type DemoDashboard, startDemoDashboard } from "./demo-dashboard.js";
import { runDemo } from "./run-demo.js";
import { runSoftmaxCollaborators } from "./softmax-collaborators.js";

const ROUNDS = 5;
const COLLABORATORS = ["col1", "col2", "col3"] as const;
/** The dashboard's collaborator name (= the CN of Envoy's client certificate). */
const DASHBOARD = "dashboard";
const FEDERATION_UUID = "plan.yaml_demo0001";
const AGGREGATOR_UUID = `aggregator_${FEDERATION_UUID}`;
const ACCURACY = "aggregated_model_validation/accuracy";
const TIME_LIMIT_MS = 50_000;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      verbose: { type: "boolean", default: false },
      "with-dashboard": { type: "boolean", default: false },
      "browser-collaborator": { type: "boolean", default: false },
    },
    strict: true,
  });
  const browserCollaborator = values["browser-collaborator"];
  const withDashboard = values["with-dashboard"] || browserCollaborator;
  const participants = browserCollaborator ? [...COLLABORATORS, DASHBOARD] : [...COLLABORATORS];
  // With the dashboard the demo runs until Ctrl-C (or SIGTERM); without it, as before.
  const interrupted = new AbortController();
  if (withDashboard) {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => interrupted.abort(new Error(signal)));
    }
  }
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), "openfl-demo-"));
  let dashboard: DemoDashboard | undefined;
  let aggregator: ReferenceAggregator | undefined;
  try {
    const pki = await createTestPki(join(dir, "pki"), {
      collaborators: withDashboard ? [...COLLABORATORS, DASHBOARD] : [...COLLABORATORS],
    });
    aggregator = new ReferenceAggregator({
      aggregatorUuid: AGGREGATOR_UUID,
      federationUuid: FEDERATION_UUID,
      authorizedCollaborators: withDashboard ? [...COLLABORATORS, DASHBOARD] : COLLABORATORS,
      roundParticipants: participants,
      rounds: ROUNDS,
      initialModel: initialModel(),
      tls: {
        rootCertificate: pki.caCert,
        certificate: pki.server.cert,
        privateKey: pki.server.key,
      },
      logger: silentLogger,
    });
    const { port } = await aggregator.start();
    console.log(
      `aggregator on 127.0.0.1:${port} (mTLS, fresh CA in ${dir}); ${ROUNDS} rounds; collaborators ${participants.join(", ")}`,
    );
    if (withDashboard) {
      dashboard = await startDashboard(pki, port, dir, browserCollaborator);
      if (interrupted.signal.aborted) return 130;
    }
    console.log("round  collaborators     aggregated model accuracy  (train loss)");
    aggregator.state.onRoundEnd((s) => {
      const accuracy = s.metrics[ACCURACY];
      const loss = s.metrics["train/loss"];
      console.log(
        `${String(s.round).padStart(5)}  ${s.collaborators.join(",").padEnd(16)}  ${accuracy === undefined ? "?" : `${(accuracy * 100).toFixed(1)}%`.padStart(25)}  ${loss === undefined ? "" : `(${loss.toFixed(3)})`}`,
      );
    });

    // A browser tab in the rounds takes as long as the person takes: no time limit then.
    const timeout = browserCollaborator
      ? interrupted.signal
      : AbortSignal.any([AbortSignal.timeout(TIME_LIMIT_MS), interrupted.signal]);
    const failures = await runSoftmaxCollaborators({
      names: COLLABORATORS,
      pki,
      endpoint: { port, aggregatorUuid: AGGREGATOR_UUID, federationUuid: FEDERATION_UUID },
      dir,
      signal: timeout,
      verbose: values.verbose,
      extra: { maxSleepSeconds: 0.2 },
    });
    if (interrupted.signal.aborted) {
      console.log("interrupted; stopping.");
      return 130;
    }
    // With the dashboard the aggregator stays up (the experiment is over: it answers "quit").
    if (!withDashboard) await aggregator.stop();
    const state = aggregator.state;

    const accuracies = state.roundSummaries.map((s) => s.metrics[ACCURACY] ?? Number.NaN);
    const first = accuracies[0] ?? Number.NaN;
    const last = accuracies[accuracies.length - 1] ?? Number.NaN;
    if (accuracies.length !== ROUNDS)
      failures.push(`only ${accuracies.length} of ${ROUNDS} rounds ended`);
    if (!(last > first)) {
      failures.push(
        `accuracy did not rise: round 0 ${first}, round ${accuracies.length - 1} ${last}`,
      );
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (failures.length > 0) {
      console.error(`demo FAILED after ${seconds} s:\n  ${failures.join("\n  ")}`);
    } else {
      console.log(
        `done in ${seconds} s: aggregated model accuracy rose from ${(first * 100).toFixed(1)}% to ${(last * 100).toFixed(1)}% over ${ROUNDS} rounds.`,
      );
    }
    if (dashboard !== undefined) {
      console.log(
        `the aggregator and the dashboard keep running (${dashboard.url}); press Ctrl-C to stop.`,
      );
      await new Promise((resolve) =>
        interrupted.signal.aborted
          ? resolve(undefined)
          : interrupted.signal.addEventListener("abort", resolve, { once: true }),
      );
      console.log("stopping.");
    }
    return failures.length > 0 ? 1 : 0;
  } finally {
    await dashboard?.stop();
    await aggregator?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Starts the page and the proxy and prints how to open it. */
async function startDashboard(
  pki: Awaited<ReturnType<typeof createTestPki>>,
  aggregatorPort: number,
  dir: string,
  browserCollaborator: boolean,
): Promise<DemoDashboard> {
  const dashboard = await startDemoDashboard({
    aggregatorPort,
    pki,
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    collaboratorName: DASHBOARD,
    workDir: dir,
    say: (line) => console.log(line),
  });
  const { proxy } = dashboard;
  if (proxy.t === "unavailable") {
    console.log(
      `Envoy is unavailable, so the page cannot reach the aggregator: ${proxy.reason}\n` +
        "  (scripts/setup-python.sh installs it into .venv; run it and the demo again)",
    );
  }
  console.log(`dashboard: ${dashboard.url}`);
  console.log(
    `  settings (already in the link): aggregator uuid ${AGGREGATOR_UUID}, federation uuid ${FEDERATION_UUID}, collaborator name ${DASHBOARD}; proxy (the page's own configuration): ${proxy.t === "running" ? proxy.url : "(none)"}`,
  );
  if (proxy.t === "running") {
    console.log(`  access token (paste it into the page; valid 1 h): in ${proxy.accessTokenFile}`);
  }
  console.log(`browser collaborator: ${dashboard.collaboratorUrl}`);
  if (browserCollaborator) {
    const csv = join(dir, "browser-data.csv");
    const { train, validation } = collaboratorShard(DASHBOARD);
    await writeFile(csv, formatCsvDataset(train, validation));
    console.log(`  every round waits for it: pick ${csv} (synthetic data) on the page, then Start`);
  } else {
    console.log("  (the rounds do not wait for it; --browser-collaborator makes it a participant)");
  }
  return dashboard;
}

runDemo(main);
