// `npm run demo -- --openfl`: the mixed federation on OpenFL 1.9's REAL Aggregator (its
// AggregatorGRPCServer over mTLS): two of our Node collaborator services and one OpenFL
// Collaborator (the real class, numpy task runner), softmax regression on their own shards.
// Installs the project's Python venv when it is missing (scripts/setup-python.sh).
//
// Flags: --delta     the plan's use_delta_updates for everyone (default off)
//        --verbose   also print our collaborators' log lines
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { collaboratorShard } from "@openfl-connect/collaborator/tasks/synthetic-blobs";
import {
  type MetricRecord,
  metricValue,
  shardJson,
  startOpenFLFederation,
} from "@openfl-connect/interop/openfl-federation";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "@openfl-connect/interop/openfl-fixture";
import { createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { ensurePythonVenv } from "./python-venv.js";
import { runDemo } from "./run-demo.js";
import { runSoftmaxCollaborators } from "./softmax-collaborators.js";

const ROUNDS = 5;
const NODE_COLLABORATORS = ["node-col1", "node-col2"] as const;
const PYTHON_COLLABORATOR = "openfl-col3";
const TIME_LIMIT_MS = 120_000;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      openfl: { type: "boolean", default: true },
      delta: { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
    },
    strict: true,
  });
  ensurePythonVenv();
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), "openfl-mixed-demo-"));
  const all = [...NODE_COLLABORATORS, PYTHON_COLLABORATOR];
  try {
    const pki = await createTestPki(join(dir, "pki"), { collaborators: all });
    const federation = await startOpenFLFederation({
      pki,
      outDir: dir,
      collaborators: all,
      pythonCollaborators: {
        [PYTHON_COLLABORATOR]: shardJson(collaboratorShard(PYTHON_COLLABORATOR)),
      },
      rounds: ROUNDS,
      useDeltaUpdates: values.delta,
    });
    console.log(
      `OpenFL's Aggregator on 127.0.0.1:${federation.port} (mTLS, fresh CA in ${dir}); ${ROUNDS} rounds; use_delta_updates ${values.delta}`,
    );
    console.log(
      `collaborators: ${NODE_COLLABORATORS.join(", ")} (openfl-connect, Node), ${PYTHON_COLLABORATOR} (OpenFL's Collaborator, Python)`,
    );
    const timeout = AbortSignal.timeout(TIME_LIMIT_MS);
    const failures = await runSoftmaxCollaborators({
      names: NODE_COLLABORATORS,
      pki,
      endpoint: {
        port: federation.port,
        aggregatorUuid: AGGREGATOR_UUID,
        federationUuid: FEDERATION_UUID,
      },
      dir,
      signal: timeout,
      verbose: values.verbose,
      extra: { useDeltaUpdates: values.delta },
    });
    if (failures.length === 0) await federation.done;
    else await federation.stop();

    const accuracies = printRounds(await federation.metrics());
    const first = accuracies[0] ?? Number.NaN;
    const last = accuracies.at(-1) ?? Number.NaN;
    if (accuracies.length !== ROUNDS)
      failures.push(`${accuracies.length} of ${ROUNDS} rounds ended`);
    if (!(last > first)) failures.push(`accuracy did not rise: ${first} -> ${last}`);
    const best = await federation.model("best");
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (failures.length > 0) {
      console.error(`demo FAILED after ${seconds} s:\n  ${failures.join("\n  ")}`);
      return 1;
    }
    console.log(
      `done in ${seconds} s: aggregated model accuracy rose from ${pct(first)} to ${pct(last)}; OpenFL saved its best model (round ${best?.round}) to best.pbuf.`,
    );
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** Prints the aggregator's per-round metrics and each collaborator's; returns the accuracies. */
function printRounds(metrics: readonly MetricRecord[]): number[] {
  const value = (round: number, origin: string, task: string, name: string) =>
    metricValue(metrics, round, origin, task, name);
  const origins = [...NODE_COLLABORATORS, PYTHON_COLLABORATOR];
  console.log(
    `round  aggregated model accuracy  (train loss)  local accuracy: ${origins.join(" / ")}`,
  );
  const accuracies: number[] = [];
  for (let round = 0; ; round++) {
    const accuracy = value(round, "aggregator", "aggregated_model_validation", "accuracy");
    if (accuracy === undefined) break;
    accuracies.push(accuracy);
    const loss = value(round, "aggregator", "train", "loss");
    const locals = origins.map((o) => {
      const v = value(round, o, "locally_tuned_model_validation", "accuracy");
      return v === undefined ? "?" : pct(v);
    });
    console.log(
      `${String(round).padStart(5)}  ${pct(accuracy).padStart(25)}  ${loss === undefined ? "" : `(${loss.toFixed(3)})`.padStart(12)}  ${locals.join(" / ")}`,
    );
  }
  return accuracies;
}

runDemo(main);
