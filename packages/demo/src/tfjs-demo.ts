// `npm run demo -- --tfjs`: real models. Node collaborators train a small CNN with TensorFlow.js
// (@openfl-connect/tfjs, CPU backend) on their shards of scikit-learn's digits, exported from the
// project's Python venv (installed when missing), with the TypeScript reference aggregator; with
// --openfl, on OpenFL 1.9's real Aggregator beside two OpenFL Collaborators running OpenFL's own
// KerasTaskRunner (Keras 3 on JAX). Prints accuracy per round.
//
// Flags: --openfl    OpenFL's Aggregator and Keras collaborators (default: the reference aggregator)
//        --delta     the plan's use_delta_updates for everyone (default off)
//        --verbose   also print our collaborators' log lines
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { CollaboratorShard } from "@openfl-connect/collaborator/tasks/synthetic-blobs";
import { exportDigitsShards, readDigitsShard } from "@openfl-connect/interop/digits-shards";
import { metricValue, startOpenFLFederation } from "@openfl-connect/interop/openfl-federation";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "@openfl-connect/interop/openfl-fixture";
import { ReferenceAggregator, silentLogger } from "@openfl-connect/reference-aggregator";
import { createTestPki } from "@openfl-connect/reference-aggregator/pki";
import {
  createKerasTasks,
  getModelWeights,
  modelFileOf,
  selectBackend,
} from "@openfl-connect/tfjs";
import { digitsCnn } from "@openfl-connect/tfjs/examples/digits-cnn";
import "@tensorflow/tfjs-backend-cpu";
import { ensurePythonVenv } from "./python-venv.js";
import { runDemo } from "./run-demo.js";
import { runSoftmaxCollaborators } from "./softmax-collaborators.js";

const ROUNDS = 8;
const TIME_LIMIT_MS = 300_000;
const DIGITS_TASKS = fileURLToPath(
  import.meta.resolve("@openfl-connect/tfjs/examples/digits-task-module"),
);

const pct = (v: number | undefined) => (v === undefined ? "?" : `${(v * 100).toFixed(1)}%`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      tfjs: { type: "boolean", default: true },
      openfl: { type: "boolean", default: false },
      delta: { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
    },
    strict: true,
  });
  ensurePythonVenv();
  const backend = await selectBackend(["cpu"]);
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), "openfl-tfjs-demo-"));
  const keras = values.openfl ? ["keras-col1", "keras-col2"] : [];
  const ours = values.openfl ? ["tfjs-col3", "tfjs-col4"] : ["tfjs-col1", "tfjs-col2", "tfjs-col3"];
  const all = [...keras, ...ours];
  try {
    const pki = await createTestPki(join(dir, "pki"), { collaborators: all });
    const files = await exportDigitsShards(join(dir, "data"), all);
    const shards = new Map<string, CollaboratorShard>();
    for (const name of ours) shards.set(name, await readDigitsShard(files[name] as string));
    const start = digitsCnn({ seed: 11 });

    let port: number;
    let aggregatedAccuracy: () => Promise<(number | undefined)[]>;
    let stop: () => Promise<void>;
    let finished: () => Promise<unknown> = async () => {};
    const uuids = values.openfl
      ? { aggregatorUuid: AGGREGATOR_UUID, federationUuid: FEDERATION_UUID }
      : { aggregatorUuid: "aggregator_plan.yaml_tfjsdemo", federationUuid: "plan.yaml_tfjsdemo" };
    if (values.openfl) {
      const initModel = join(dir, "initial-model.pbuf");
      await writeFile(initModel, await modelFileOf(start));
      const federation = await startOpenFLFederation({
        pki,
        outDir: join(dir, "openfl"),
        collaborators: all,
        pythonCollaborators: Object.fromEntries(
          keras.map((c) => [c, { csvPath: files[c] as string }]),
        ),
        rounds: ROUNDS,
        useDeltaUpdates: values.delta,
        taskRunner: "keras-digits",
        initModel,
      });
      port = federation.port;
      finished = () => federation.done;
      stop = () => federation.stop();
      aggregatedAccuracy = async () => {
        const metrics = await federation.metrics();
        return Array.from({ length: ROUNDS }, (_, r) =>
          metricValue(metrics, r, "aggregator", "aggregated_model_validation", "accuracy"),
        );
      };
    } else {
      const aggregator = new ReferenceAggregator({
        ...uuids,
        authorizedCollaborators: all,
        rounds: ROUNDS,
        initialModel: await getModelWeights(start),
        tls: {
          rootCertificate: pki.caCert,
          certificate: pki.server.cert,
          privateKey: pki.server.key,
        },
        logger: silentLogger,
      });
      port = (await aggregator.start()).port;
      stop = () => aggregator.stop();
      aggregatedAccuracy = async () =>
        aggregator.state.roundSummaries.map(
          (s) => s.metrics["aggregated_model_validation/accuracy"],
        );
    }
    console.log(
      `${values.openfl ? "OpenFL's Aggregator" : "reference aggregator"} on 127.0.0.1:${port} (mTLS, fresh CA in ${dir}); ${ROUNDS} rounds; use_delta_updates ${values.delta}`,
    );
    console.log(
      `collaborators: ${ours.join(", ")} (openfl-connect, Node, TF.js ${backend} backend)${keras.length > 0 ? `, ${keras.join(", ")} (OpenFL's Collaborator + KerasTaskRunner, Python)` : ""}; a CNN on scikit-learn's digits`,
    );
    const failures = await runSoftmaxCollaborators({
      names: ours,
      pki,
      endpoint: { port, ...uuids },
      dir,
      signal: AbortSignal.timeout(TIME_LIMIT_MS),
      verbose: values.verbose,
      extra: { tasks: DIGITS_TASKS, useDeltaUpdates: values.delta, maxSleepSeconds: 0.5 },
      taskSetFor: (name) =>
        createKerasTasks({
          model: digitsCnn(),
          data: shards.get(name) as CollaboratorShard,
          optTreatment: "RESET",
        }),
    });
    if (failures.length === 0) await finished();
    const accuracies = await aggregatedAccuracy();
    await stop();
    console.log("round  aggregated model accuracy");
    for (const [r, a] of accuracies.entries()) {
      console.log(`${String(r).padStart(5)}  ${pct(a).padStart(25)}`);
    }
    const first = accuracies[0];
    const last = accuracies.at(-1);
    if (accuracies.length !== ROUNDS || last === undefined || first === undefined) {
      failures.push(
        `${accuracies.filter((a) => a !== undefined).length} of ${ROUNDS} rounds ended`,
      );
    } else if (!(last > first)) {
      failures.push(`accuracy did not rise: ${pct(first)} -> ${pct(last)}`);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (failures.length > 0) {
      console.error(`demo FAILED after ${seconds} s:\n  ${failures.join("\n  ")}`);
      return 1;
    }
    console.log(
      `done in ${seconds} s: aggregated model accuracy rose from ${pct(first)} to ${pct(last)}.`,
    );
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

runDemo(main);
