// Load: one process drives N (default 500) concurrent collaborator clients, each with its own
// identity and certificate, through R (default 3) rounds of ["train"] against one reference
// aggregator (a child process). Reports errors, p50/p99 latency per RPC and peak RSS, and writes
// the "load" section of docs/benchmarks.md.
// Usage: pnpm --filter @openfl-connect/evidence run load [-- --collaborators 500 --rounds 3]
import { access } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeNamedTensor } from "@openfl-connect/core";
import { AggregatorGRPCClient } from "@openfl-connect/node";
import {
  ensureTestPki,
  issueCollaborator,
  testPkiPaths,
} from "@openfl-connect/reference-aggregator/pki";
import { HERE, spawnReady, TSX } from "../bench/child-process.js";
import { peakRssMiB, rssMiB } from "../bench/proc-status.js";
import { machineLines, writeSection } from "../bench/report.js";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "../federation.js";

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const COLLABORATORS = flag("--collaborators", 500);
const ROUNDS = flag("--rounds", 3);
const log = (m: string) => process.stderr.write(`${m}\n`);
const names = Array.from({ length: COLLABORATORS }, (_, i) => `load${String(i).padStart(4, "0")}`);

// A PKI reused between runs (certificates take a few seconds to issue); missing ones are issued.
const pkiDir = join(tmpdir(), "openfl-evidence-load-pki");
const t0 = performance.now();
const pki = await ensureTestPki(pkiDir, { collaborators: [] });
const missing: string[] = [];
for (const name of names) {
  const paths = testPkiPaths(pkiDir, [name]).collaborators[name];
  try {
    await access(paths?.cert ?? "");
    await access(paths?.key ?? "");
    pki.collaborators[name] = paths as { cert: string; key: string };
  } catch {
    missing.push(name);
  }
}
for (let i = 0; i < missing.length; i += 16) {
  await Promise.all(missing.slice(i, i + 16).map((n) => issueCollaborator(pki, n)));
}
log(
  `PKI: ${missing.length} certificates issued, ${names.length - missing.length} reused (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
);

const aggregator = await spawnReady(
  process.execPath,
  [...TSX, join(HERE, "bench-aggregator.ts"), "", names.join(",")],
  {
    BENCH_PKI_DIR: pkiDir,
    BENCH_TASKS: "train",
    BENCH_ROUNDS: String(ROUNDS),
  },
);

const latencies: Record<string, number[]> = {
  GetTasks: [],
  GetAggregatedTensor: [],
  SendLocalTaskResults: [],
};
const errors: string[] = [];
let retries = 0;
/** Retries by what failed, e.g. "GetTasks: deadline exceeded". */
const retryCauses = new Map<string, number>();
async function timed<T>(rpc: string, call: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await call();
  latencies[rpc]?.push(performance.now() - start);
  return result;
}

async function collaborator(name: string): Promise<void> {
  const pair = pki.collaborators[name];
  const client = new AggregatorGRPCClient({
    aggAddr: "localhost",
    aggPort: aggregator.port,
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    collaboratorName: name,
    rootCertificate: pki.caCert,
    certificate: pair?.cert,
    privateKey: pair?.key,
    retry: { backoff: "exponential", intervalMs: 200, maxIntervalMs: 2000 },
    onRetry: (event) => {
      retries++;
      const cause = `${event.rpc}: ${event.failure}`.slice(0, 160);
      retryCauses.set(cause, (retryCauses.get(cause) ?? 0) + 1);
    },
  });
  try {
    for (;;) {
      const assignment = await timed("GetTasks", () => client.getTasks());
      if (assignment.quit) return;
      if (assignment.tasks.length === 0) {
        // The aggregator says sleep_time 10 s; poll faster so a run takes seconds, not minutes.
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
        continue;
      }
      const model = await timed("GetAggregatedTensor", () =>
        client.getAggregatedTensor("small", assignment.roundNumber, {
          tags: ["model"],
          requireLossless: true,
        }),
      );
      const values = new Float32Array(model.dataBytes.slice().buffer).map((v) => v + Math.random());
      await timed("SendLocalTaskResults", () =>
        client.sendLocalTaskResults(assignment.roundNumber, "train", 10, [
          encodeNamedTensor(
            { shape: [values.length], data: values },
            { name: "small", roundNumber: assignment.roundNumber, tags: ["trained"] },
          ),
        ]),
      );
    }
  } catch (error) {
    errors.push(`${name}: ${String(error)}`);
  } finally {
    await client.disconnect();
  }
}

log(`driving ${COLLABORATORS} collaborators for ${ROUNDS} rounds`);
const rssBefore = rssMiB();
const started = performance.now();
await Promise.all(names.map((n) => collaborator(n)));
const seconds = (performance.now() - started) / 1000;
const driverPeak = peakRssMiB();
await aggregator.stop();
const aggregatorPeak = Number(/"aggregatorPeakRssMiB":([\d.]+)/.exec(aggregator.stderr())?.[1]);
const results = Number(/"results":(\d+)/.exec(aggregator.stderr())?.[1]);

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
};
const rows = Object.entries(latencies).map(
  ([rpc, xs]) =>
    `| ${rpc} | ${xs.length} | ${q(xs, 0.5).toFixed(1)} | ${q(xs, 0.9).toFixed(1)} | ${q(xs, 0.99).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`,
);
const lines = [
  `## Load: ${COLLABORATORS} concurrent collaborators, ${ROUNDS} rounds (${new Date().toISOString().slice(0, 10)})`,
  "",
  ...machineLines(
    `pnpm --filter @openfl-connect/evidence run load${argv.length ? ` -- ${argv.join(" ")}` : ""}`,
  ),
  "",
  `One Node process drives ${COLLABORATORS} \`AggregatorGRPCClient\`s, each with its own EC certificate (CN = its name) and its own HTTP/2 mTLS connection, through OpenFL's collaborator loop (get tasks, fetch the model, send results; poll every 200-500 ms when idle instead of the aggregator's sleep_time of 10 s) against one reference aggregator in a child process. Tasks ["train"], a 4-float model.`,
  "",
  `- Errors: **${errors.length}** (retries: ${retries}); results accepted by the aggregator: ${results} (expected ${COLLABORATORS * ROUNDS})`,
  `- Wall time: ${seconds.toFixed(1)} s`,
  `- Peak RSS: driver (all ${COLLABORATORS} clients) ${driverPeak.toFixed(0)} MiB (${rssBefore.toFixed(0)} MiB before the clients started): **${((driverPeak - rssBefore) / COLLABORATORS).toFixed(2)} MiB per collaborator** ((peak - before) / ${COLLABORATORS}); aggregator ${aggregatorPeak.toFixed(0)} MiB`,
  ...(retryCauses.size
    ? [
        "- Retries by cause (each a resend after a failure the retry policy heals; none became an error):",
        ...[...retryCauses]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([cause, n]) => `  - ${n} x ${cause}`),
      ]
    : []),
  "",
  "Latency of each call as the collaborator sees it (all collaborators start at once, so the first calls include the TLS handshakes of all of them):",
  "",
  "| RPC | calls | p50 ms | p90 ms | p99 ms | max ms |",
  "|---|---:|---:|---:|---:|---:|",
  ...rows,
  "",
  ...(errors.length ? ["First errors:", "", ...errors.slice(0, 5).map((e) => `- ${e}`), ""] : []),
];
await writeSection("load", lines);
log(lines.join("\n"));
process.exitCode = errors.length === 0 && results === COLLABORATORS * ROUNDS ? 0 : 1;
