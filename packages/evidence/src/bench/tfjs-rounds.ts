// Benchmark (g): seconds per round of the digits CNN (@openfl-connect/tfjs's example, the model of
// the real-model federations) on the same shard of scikit-learn's digits: OpenFL's own
// KerasTaskRunner on Keras 3/JAX (python/bench_keras_round.py), @openfl-connect/tfjs in Node (each
// backend that installs from npm) and in Chromium (WebGL, CPU, WASM); and, for Node, how much of a
// whole round against the reference aggregator over mTLS is training and how much the wire.
// Writes the "tfjs-rounds" section of docs/benchmarks.md (--print: stdout only).
// Run: pnpm --filter @openfl-connect/evidence run bench:tfjs [-- --rounds 6]
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { createCollaborator, type Logger } from "@openfl-connect/collaborator";
import type {
  TaskDefinition,
  TaskDescription,
  TaskSet,
} from "@openfl-connect/collaborator/browser";
import { exportDigitsShards, readDigitsShard } from "@openfl-connect/interop/digits-shards";
import { ReferenceAggregator, silentLogger } from "@openfl-connect/reference-aggregator";
import { collaboratorConnection, createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from "@openfl-connect/test-support/chromium";
import { createKerasTasks, getModelWeights, selectBackend } from "@openfl-connect/tfjs";
import { digitsCnn } from "@openfl-connect/tfjs/examples/digits-cnn";
import { chromium } from "@playwright/test";
import { bundleForBrowser } from "./browser-bundle.js";
import { PYTHON, REPO_ROOT } from "./child-process.js";
import { machineLines, writeSection } from "./report.js";
import { type TfjsRoundsResult, tfjsRounds } from "./tfjs-round-entry.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { rounds: { type: "string", default: "6" }, print: { type: "boolean", default: false } },
});
const ROUNDS = Number(values.rounds);
const dir = await mkdtemp(join(tmpdir(), "openfl-tfjs-bench-"));
const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];

interface Row {
  readonly runtime: string;
  readonly result: TfjsRoundsResult;
}

/** Median of the rounds after the first (the first pays for compilation and warm-up). */
const steady = (xs: readonly number[]) => {
  const sorted = xs.slice(1).sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : (sorted[Math.floor(sorted.length / 2)] as number);
};

try {
  const files = await exportDigitsShards(join(dir, "data"), ["bench", "other-1", "other-2"]);
  const shardFile = files.bench as string;
  const csv = await readFile(shardFile, "utf8");
  const shard = await readDigitsShard(shardFile);
  const rows: Row[] = [];

  // OpenFL's KerasTaskRunner, Keras 3 on JAX.
  const python = await promisify(execFile)(
    PYTHON,
    [
      join(REPO_ROOT, "packages/evidence/python/bench_keras_round.py"),
      "--shard",
      shardFile,
      "--rounds",
      String(ROUNDS),
    ],
    { env: { ...process.env, KERAS_BACKEND: "jax" }, maxBuffer: 64 * 1024 * 1024 },
  );
  const keras = JSON.parse(python.stdout.trim().split("\n").at(-1) as string) as Pick<
    TfjsRoundsResult,
    "rounds"
  >;
  rows.push({
    runtime: "Python, OpenFL's KerasTaskRunner (Keras 3.10 on JAX 0.5, CPU)",
    result: { backend: "jax", ...keras },
  });

  // @openfl-connect/tfjs in Node.
  for (const backend of ["cpu", "wasm"]) {
    rows.push({
      runtime: `Node ${process.version}, @openfl-connect/tfjs`,
      result: await tfjsRounds({ csv, rounds: ROUNDS, backend }),
    });
  }

  // The same code in Chromium (main thread; the collaborator page trains in a worker).
  const bundle = await bundleForBrowser({
    entry: "tfjs-round-entry.ts",
    name: "tfjsRounds",
    dir,
    external: ["fs", "path", "worker_threads", "perf_hooks", "os"],
  });
  const wasmDir = dirname(
    createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json"),
  );
  const page = createServer(async (request, response) => {
    if (request.url === "/tfjs-rounds.js") {
      response.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    } else if (request.url?.startsWith("/wasm/") && request.url.endsWith(".wasm")) {
      const file = join(
        wasmDir,
        "dist",
        request.url.slice("/wasm/".length).replace(/[^\w.-]/g, ""),
      );
      response
        .writeHead(200, { "content-type": "application/wasm" })
        .end(await readFile(file).catch(() => ""));
    } else {
      response
        .writeHead(200, { "content-type": "text/html" })
        .end('<!doctype html><title>tfjs rounds</title><script src="/tfjs-rounds.js"></script>');
    }
  });
  await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
  cleanups.unshift(() => new Promise((resolve) => page.close(resolve)));
  const origin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_FLAGS],
  });
  cleanups.unshift(() => browser.close());
  const version = browser.version();
  for (const backend of ["webgl", "cpu", "wasm"]) {
    const tab = await browser.newPage();
    await tab.goto(origin);
    const result = await tab.evaluate(
      (o) => (globalThis as unknown as { tfjsRounds: typeof tfjsRounds }).tfjsRounds(o),
      { csv, rounds: ROUNDS, backend, wasmPaths: `${origin}/wasm/` },
    );
    rows.push({ runtime: `Chromium ${version} (headless), @openfl-connect/tfjs`, result });
    await tab.close();
  }

  const wire = await wholeRounds(shard);
  const lines = report(rows, wire);
  if (!values.print) await writeSection("tfjs-rounds", lines);
  console.log(lines.join("\n"));
} finally {
  for (const cleanup of cleanups) await cleanup().catch(() => {});
}

/**
 * Whole rounds of one Node collaborator (CPU backend) against the reference aggregator over
 * mTLS, the only participant, so nothing waits on another: per round its wall time (tasks
 * received to the next round's tasks), the time inside the tasks, and the rest (fetching the
 * model, sending results, the loop).
 */
async function wholeRounds(shard: Awaited<ReturnType<typeof readDigitsShard>>) {
  await selectBackend(["cpu"]);
  const pki = await createTestPki(join(dir, "pki"), { collaborators: ["bench"] });
  const uuids = {
    aggregatorUuid: "aggregator_plan.yaml_tfjsbench",
    federationUuid: "plan.yaml_tfjsbench",
  };
  const start = digitsCnn({ seed: 11 });
  const aggregator = new ReferenceAggregator({
    ...uuids,
    authorizedCollaborators: ["bench"],
    rounds: ROUNDS,
    initialModel: await getModelWeights(start),
    tls: { rootCertificate: pki.caCert, certificate: pki.server.cert, privateKey: pki.server.key },
    logger: silentLogger,
  });
  const { port } = await aggregator.start();
  const inner = createKerasTasks({ model: digitsCnn(), data: shard, optTreatment: "RESET" });
  const taskMs = new Map<number, number>();
  const timed: Record<string, TaskDefinition> = {};
  for (const [name, definition] of Object.entries(inner.tasks)) {
    const d = definition as TaskDescription;
    timed[name] = {
      ...d,
      run: async (ctx) => {
        const t = performance.now();
        try {
          return await d.run(ctx);
        } finally {
          taskMs.set(ctx.round, (taskMs.get(ctx.round) ?? 0) + performance.now() - t);
        }
      },
    };
  }
  const received: number[] = [];
  const logger: Logger = (_level, event) => {
    if (event === "tasks received" || event === "aggregator says quit")
      received.push(performance.now());
  };
  const taskSet: TaskSet = { tasks: timed, modelTensorNames: inner.modelTensorNames };
  const parts = await createCollaborator(
    {
      ...collaboratorConnection(pki, "bench", { port, ...uuids }),
      tasks: "unused",
      maxSleepSeconds: 0,
    },
    { logger, taskSet },
  );
  try {
    await parts.service.run();
  } finally {
    await parts.close();
    await aggregator.stop();
  }
  const bytes = Object.values(await getModelWeights(start)).reduce(
    (n, t) => n + t.data.byteLength,
    0,
  );
  return Array.from({ length: ROUNDS }, (_, r) => {
    const wall = ((received[r + 1] ?? Number.NaN) - (received[r] ?? Number.NaN)) / 1000;
    const tasks = (taskMs.get(r) ?? Number.NaN) / 1000;
    return { wall, tasks, rest: wall - tasks, bytes };
  });
}

function report(rows: readonly Row[], wire: Awaited<ReturnType<typeof wholeRounds>>): string[] {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "-");
  const lines = [
    `## Benchmark (g): a round of the digits CNN, by runtime (${new Date().toISOString().slice(0, 10)})`,
    "",
    ...machineLines(`pnpm --filter @openfl-connect/evidence run bench:tfjs -- --rounds ${ROUNDS}`),
    "",
    `The digits CNN (\`@openfl-connect/tfjs/examples/digits-cnn\`; the Keras twin in \`packages/interop/python/digits_keras.py\`), one shard of scikit-learn's digits (the same file for every runtime), OpenFL's Keras tasks (tasks_keras.yaml: batch 32, one epoch) for ${ROUNDS} rounds: aggregated_model_validation + train + locally_tuned_model_validation, no wire. Seconds; "steady" is the median of rounds 2..${ROUNDS} (round 1 pays for compilation and warm-up).`,
    "",
    "| runtime | backend | round 1 train | steady train | steady validate (both) | steady round |",
    "|---|---|---|---|---|---|",
  ];
  for (const { runtime, result } of rows) {
    if (result.error !== undefined && result.rounds.length === 0) {
      lines.push(
        `| ${runtime} | ${result.backend} | cannot train this model: ${result.error.replace(/\|/g, "/")} | | | |`,
      );
      continue;
    }
    const train = result.rounds.map((r) => r.train_s);
    const validate = result.rounds.map((r) => r.validate_s);
    const total = result.rounds.map((r) => r.train_s + r.validate_s);
    lines.push(
      `| ${runtime} | ${result.backend} | ${f(train[0] ?? Number.NaN)} | ${f(steady(train))} | ${f(steady(validate))} | ${f(steady(total))} |`,
    );
  }
  const wall = wire.map((w) => w.wall);
  const tasks = wire.map((w) => w.tasks);
  const rest = wire.map((w) => w.rest);
  lines.push(
    "",
    `Whole rounds of one Node collaborator (TF.js CPU backend) against the reference aggregator over mTLS on loopback, the only participant (model ${((wire[0]?.bytes ?? 0) / 1024) | 0} KiB down and up each round): steady round ${f(steady(wall))} s, of which ${f(steady(tasks))} s in the tasks (training and validation) and ${f(steady(rest))} s the rest (model download, results upload, the loop): the wire is ${f((100 * steady(rest)) / steady(wall))}% of a round.`,
  );
  return lines;
}
