// Benchmarks over mTLS on loopback, side by side in one run (see bench/README.md):
// (a) Node client vs OpenFL's Python client against OpenFL's real server; (b) Node client vs a
// raw TLS socket against the reference aggregator; (c) getTasks latency, kept vs atomic
// connections; (d) peak RSS while sending N MiB; (e) the client alone vs a raw TLS socket, against
// sinks that cost next to nothing (client-alone.ts). Writes a section of docs/benchmarks.md.
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "../federation.js";
import type { BenchClientJob } from "./bench-client.js";
import { HERE, PYTHON, REPO_ROOT, runJsonLines, spawnReady, TSX } from "./child-process.js";
import { benchClientAlone, profileAgainstSink } from "./client-alone.js";
import { topFrames } from "./cpu-profile.js";
import { startOpenFLBenchServer } from "./openfl-bench-server.js";
import { machineLines, writeSection } from "./report.js";
import { verdict } from "./verdict.js";

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? (argv[i + 1] ?? fallback) : fallback;
};
const sizes = flag("--sizes", "1,16,64,256").split(",").map(Number);
const reps = Number(flag("--reps", "2"));
const skipPython = argv.includes("--skip-python");
/** Which sections to run, e.g. "e" (default all: "abcde"; b-d run together). */
const only = flag("--sections", "abcde");
/** Reps of (e), each a client run next to a raw run (default 5: its ratios are medians). */
const aloneReps = Number(flag("--e-reps", "5"));
/** Print the report instead of writing docs/benchmarks.md (smoke runs). */
const printOnly = argv.includes("--print");
/** CPU profiles of (e)'s client (upload and download of up to 64 MiB); off with --no-profile. */
const profile = !argv.includes("--no-profile");
const command = `bash bench/run.sh ${argv.join(" ")}`.trim();

const dir = await mkdtemp(join(tmpdir(), "openfl-bench-"));
const pkiDir = join(dir, "pki");
const pki = await createTestPki(pkiDir, { collaborators: ["bench"] });
const pair = pki.collaborators.bench;
const log = (m: string) => process.stderr.write(`${m}\n`);

type Row = Record<string, number | string | boolean>;
const best = (rows: Row[], op: string, mib: number) =>
  Math.min(...rows.filter((r) => r.op === op && r.mib === mib).map((r) => Number(r.seconds)));

/**
 * One job of the Node client, run from the bundle (`plainClient`) under plain `node` as a user
 * runs compiled JavaScript: under tsx the loader's own heap made every download's garbage
 * collections dearer than they are for a user.
 */
async function nodeClient(
  job: Omit<BenchClientJob, "pkiDir" | "collaborator">,
  nodeFlags: string[] = [],
) {
  const full: BenchClientJob = { ...job, pkiDir, collaborator: "bench" };
  return runJsonLines(process.execPath, [...nodeFlags, plainClient, JSON.stringify(full)]);
}

/**
 * bench-client.ts bundled by esbuild (tsx's own dependency) into one plain JS file, so every
 * section measures the client under plain `node`, without the TypeScript loader's ~50 MiB.
 */
async function bundleClient(): Promise<string> {
  const require = createRequire(createRequire(import.meta.url).resolve("tsx"));
  const esbuild = require("esbuild") as { build(options: object): Promise<unknown> };
  const outfile = join(dir, "bench-client.mjs");
  await esbuild.build({
    entryPoints: [join(HERE, "bench-client.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // @grpc/grpc-js (an anchor of (e)) is CommonJS and requires Node's built-ins: an ES module
    // bundle has no require of its own.
    banner: {
      js: 'import { createRequire as bundleRequire } from "node:module"; const require = bundleRequire(import.meta.url);',
    },
    logLevel: "error",
  });
  return outfile;
}

async function pythonClient(port: number, mibs: number[], prefix: string) {
  return runJsonLines(PYTHON, [
    join(REPO_ROOT, "packages/evidence/python/bench_openfl_client.py"),
    ...[
      "--port",
      String(port),
      "--root-ca",
      pki.caCert,
      "--cert",
      pair?.cert ?? "",
      "--key",
      pair?.key ?? "",
    ],
    ...[
      "--aggregator-uuid",
      AGGREGATOR_UUID,
      "--federation-uuid",
      FEDERATION_UUID,
      "--collaborator",
      "bench",
    ],
    ...["--sizes", mibs.join(","), "--reps", String(reps), "--task-prefix", prefix],
  ]);
}

/** The team's upload target against OpenFL's real server: at least 2.5x its Python client (perf notes). */
const UPLOAD_SPEEDUP = 2.5;
const sections: string[] = [];
const targets: string[] = [];
const fmt = (s: number) => (Number.isFinite(s) ? s.toFixed(2) : "–");
const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : "–";
const taskCounter = { py: 0 };
const slowest: {
  seconds: number;
  job: Omit<BenchClientJob, "pkiDir" | "collaborator">;
  server: string;
} = {
  seconds: 0,
  job: { op: "upload", port: 0, sizes: [], reps: 1 },
  server: "",
};
const noteSlowest = (
  seconds: number,
  job: Omit<BenchClientJob, "pkiDir" | "collaborator">,
  server: string,
) => {
  if (seconds > slowest.seconds) Object.assign(slowest, { seconds, job, server });
};

const plainClient = await bundleClient();

// (a) OpenFL's real server
if (!skipPython && only.includes("a")) {
  log("(a) OpenFL server: Python client vs Node client");
  const openfl = await startOpenFLBenchServer(pki, join(dir, "records"), sizes);
  const rows: string[] = [];
  try {
    let nodeTask = 0;
    for (const mib of sizes) {
      log(`  ${mib} MiB`);
      const py = await pythonClient(openfl.port, [mib], `py`).catch((e) => {
        log(String(e));
        return [] as Row[];
      });
      void taskCounter;
      const base = { port: openfl.port, sizes: [mib], reps };
      const up2 = await nodeClient({
        ...base,
        op: "upload",
        taskPrefix: "node2m",
        chunkMiB: 2,
      }).then((r) => r.map((x) => ({ ...x, t: nodeTask })));
      const up32 = await nodeClient({ ...base, op: "upload", taskPrefix: "node32m", chunkMiB: 32 });
      const down = await nodeClient({ ...base, op: "download" });
      nodeTask++;
      const pu = best(py, "upload", mib);
      const pd = best(py, "download", mib);
      const nu = best(up2, "upload", mib);
      const nu32 = best(up32, "upload", mib);
      const nd = best(down, "download", mib);
      noteSlowest(nu, { ...base, op: "upload", chunkMiB: 2, reps: 1 }, "OpenFL server");
      noteSlowest(nd, { ...base, op: "download", reps: 1 }, "OpenFL server");
      rows.push(
        `| ${mib} | ${fmt(pu)} | ${fmt(nu)} | ${ratio(pu, nu)} | ${fmt(nu32)} | ${ratio(pu, nu32)} | ${fmt(pd)} | ${fmt(nd)} | ${ratio(pd, nd)} |`,
      );
      targets.push(
        `(a) ${mib} MiB upload (target >= ${UPLOAD_SPEEDUP}x the Python client) 2 MiB chunks: ${verdict(pu / nu >= UPLOAD_SPEEDUP, pu, nu)} (${ratio(pu, nu)}); 32 MiB chunks: ${verdict(pu / nu32 >= UPLOAD_SPEEDUP, pu, nu32)} (${ratio(pu, nu32)}); download (target >= 1x): ${verdict(nd <= pd, nd, pd)} (${ratio(pd, nd)})`,
      );
    }
  } finally {
    await openfl.stop();
  }
  // The bench tasks are distinct per upload; task numbering restarts per client process, so
  // each process uses its own prefix range via reps (uploads beyond the first are "duplicates").
  sections.push(
    "### (a) OpenFL 1.9's real server (`AggregatorGRPCServer`): Node client vs OpenFL's Python client",
    "",
    "Seconds (best of the reps); speed-up = Python time / Node time (> 1x: Node is faster).",
    "",
    "| MiB | Python upload | Node upload (2 MiB chunks) | speed-up | Node upload (32 MiB chunks) | speed-up | Python download | Node download | speed-up |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
    "",
  );
}

// (b)-(d) the reference aggregator
if (/[bcd]/.test(only)) {
  log("(b) reference aggregator: Node client vs raw TLS");
  const reference = await spawnReady(
    process.execPath,
    [...TSX, join(HERE, "bench-aggregator.ts"), sizes.join(",")],
    { BENCH_PKI_DIR: pkiDir },
  );
  const raw = await spawnReady(process.execPath, [...TSX, join(HERE, "raw-tls-sink.ts")], {
    BENCH_PKI_DIR: pkiDir,
  });
  const rowsB: string[] = [];
  const rowsD: string[] = [];
  let latency: Row[] = [];
  try {
    for (const mib of sizes) {
      log(`  ${mib} MiB`);
      const base = { port: reference.port, sizes: [mib], reps };
      const up = await nodeClient({ ...base, op: "upload", taskPrefix: "node2m" });
      const down = await nodeClient({ ...base, op: "download" });
      const py = skipPython
        ? []
        : await pythonClient(reference.port, [mib], "py").catch(() => [] as Row[]);
      const rawRows = [
        ...(await nodeClient({ port: raw.port, sizes: [mib], reps, op: "raw-upload" })),
        ...(await nodeClient({ port: raw.port, sizes: [mib], reps, op: "raw-download" })),
      ];
      const nu = best(up, "upload", mib);
      const nd = best(down, "download", mib);
      const ru = best(rawRows, "raw-upload", mib);
      const rd = best(rawRows, "raw-download", mib);
      noteSlowest(nu, { ...base, op: "upload", reps: 1 }, "reference aggregator");
      noteSlowest(nd, { ...base, op: "download", reps: 1 }, "reference aggregator");
      const mbps = (s: number) => (Number.isFinite(s) ? `${(mib / s).toFixed(0)}` : "–");
      rowsB.push(
        `| ${mib} | ${fmt(nu)} (${mbps(nu)} MiB/s) | ${fmt(ru)} (${mbps(ru)} MiB/s) | ${ratio(ru, nu)} | ${fmt(nd)} (${mbps(nd)} MiB/s) | ${fmt(rd)} (${mbps(rd)} MiB/s) | ${ratio(rd, nd)} | ${fmt(best(py, "upload", mib))} | ${fmt(best(py, "download", mib))} |`,
      );
      targets.push(
        `(b) ${mib} MiB: upload ${verdict(ru / nu >= 0.5, ru, nu)} (${ratio(ru, nu)} of raw TLS throughput), download ${verdict(rd / nd >= 0.5, rd, nd)} (${ratio(rd, nd)})`,
      );
      log(`  ${mib} MiB RSS`);
      const rssJob: BenchClientJob = {
        port: reference.port,
        sizes: [mib],
        reps: 1,
        op: "upload-rss",
        taskPrefix: "rss",
        pkiDir,
        collaborator: "bench",
      };
      const [rss] = await runJsonLines(process.execPath, [plainClient, JSON.stringify(rssJob)]);
      const peak = Number(rss?.peakMiB);
      const limit = 1.5 * mib + 60;
      const before = Number(rss?.baselineMiB);
      const growth = peak - before;
      const growthOk = growth <= 1.5 * mib;
      const own = growth - mib;
      rowsD.push(
        `| ${mib} | ${before.toFixed(0)} | ${peak.toFixed(0)} | ${growth.toFixed(0)} (${(growth / mib).toFixed(2)} x N) | ${own.toFixed(0)} (${(own / mib).toFixed(2)} x N) | ${limit.toFixed(0)} | ${verdict(peak <= limit, peak)} | ${verdict(growthOk, growth)} |`,
      );
      targets.push(
        `(d) ${mib} MiB: peak RSS ${peak.toFixed(0)} MiB vs limit ${limit.toFixed(0)}: ${verdict(peak <= limit, peak)}; growth while sending ${growth.toFixed(0)} MiB vs 1.5 x N = ${(1.5 * mib).toFixed(0)}: ${verdict(growthOk, growth)}`,
      );
    }
    log("(c) getTasks latency");
    latency = [
      ...(await nodeClient({
        port: reference.port,
        sizes: [],
        reps: 1,
        op: "get-tasks",
        calls: 300,
      })),
      ...(await nodeClient({
        port: reference.port,
        sizes: [],
        reps: 1,
        op: "get-tasks",
        calls: 300,
        atomic: true,
      })),
    ];
  } finally {
    await reference.stop();
    await raw.stop();
  }
  sections.push(
    "### (b) Reference aggregator (TypeScript, connect-node) vs a raw TLS socket moving the same bytes",
    "",
    "Seconds (best of the reps). Ratio = raw time / Node time = the share of the raw TLS throughput the client reaches (target >= 0.5x). The Python columns are OpenFL's client against the same reference aggregator, for reference.",
    "",
    "| MiB | Node upload | raw TLS upload | ratio | Node download | raw TLS download | ratio | Python upload | Python download |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rowsB,
    "",
    "### (c) getTasks latency against the reference aggregator (ms, 300 sequential calls)",
    "",
    "| connection | p50 | p99 | mean |",
    "|---|---:|---:|---:|",
    ...latency.map(
      (r) =>
        `| ${r.atomic ? "`enableAtomicConnections: true` (new mTLS connection per call)" : "kept (default)"} | ${Number(r.p50).toFixed(2)} | ${Number(r.p99).toFixed(2)} | ${Number(r.mean).toFixed(2)} |`,
    ),
    "",
    "### (d) Peak RSS of the Node client process while sending N MiB (one child process per N; VmHWM)",
    "",
    "The client runs as plain JS under `node` (bench-client.ts bundled by esbuild; no TypeScript loader), so the absolute target is judged against plain Node's baseline. RSS before = after start-up and the first call, before the payload exists. The payload tensor itself is N MiB, allocated by the benchmark before the call and counted in the peak: a client that copied nothing would show peak - before = N, and 1.5 x N leaves the client 0.5 x N of its own (column \"client's own\" = peak - before - N). The target is checked as written (absolute) and as growth: peak - before <= 1.5 x N.",
    "",
    "| MiB | RSS before (MiB) | peak RSS (MiB) | peak - before | client's own (peak - before - N) | limit 1.5 N + 60 | target (absolute) | target (growth <= 1.5 N) |",
    "|---:|---:|---:|---:|---:|---:|---|---|",
    ...rowsD,
    "",
  );
}

// Profile of the slowest Node case
if (slowest.seconds > 0) {
  log(`profiling: ${slowest.job.op} ${slowest.job.sizes.join()} MiB against the ${slowest.server}`);
  const profDir = join(dir, "profile");
  // Re-run against a fresh server of the same kind (uploads need a fresh task name).
  const server =
    slowest.server === "OpenFL server"
      ? await startOpenFLBenchServer(pki, join(dir, "records2"), slowest.job.sizes)
      : await spawnReady(
          process.execPath,
          [...TSX, join(HERE, "bench-aggregator.ts"), slowest.job.sizes.join(",")],
          { BENCH_PKI_DIR: pkiDir },
        );
  let rows: string[] = [];
  let totalMs = 0;
  try {
    const [r] = await nodeClient({ ...slowest.job, port: server.port }, [
      "--cpu-prof",
      `--cpu-prof-dir=${profDir}`,
    ]);
    ({ rows, totalMs } = topFrames(profDir));
    sections.push(
      `### Profile of the slowest Node case: ${slowest.job.op} of ${slowest.job.sizes.join()} MiB against the ${slowest.server}`,
      "",
      `\`node --cpu-prof\` of the client process (this run: ${fmt(Number(r?.seconds))} s; profile total ${(totalMs / 1000).toFixed(1)} s including start-up). Top frames by self time:`,
      "",
      "| self ms | share | frame |",
      "|---:|---:|---|",
      ...rows,
      "",
    );
  } finally {
    await server.stop();
  }
}

// (e) the client alone: a doc section of its own, so that it can be run alone.
const aloneSections: string[] = [];
const aloneTargets: string[] = [];
if (only.includes("e")) {
  log("(e) the client alone vs raw TLS");
  const alone = await benchClientAlone({ pkiDir, sizes, reps: aloneReps, plainClient, log });
  aloneSections.push(...alone.section);
  aloneTargets.push(...alone.targets);
  if (profile) {
    const mib = Math.max(...sizes.filter((n) => n <= 64));
    for (const op of ["upload", "download"] as const) {
      log(`  (e) profiling ${op} ${mib} MiB`);
      aloneSections.push(
        ...(await profileAgainstSink(pkiDir, plainClient, op, mib, join(dir, `prof-${op}`))),
      );
    }
  }
}
await rm(dir, { recursive: true, force: true });

const reports: [string, string, string[], string[]][] = [
  ["benchmarks", "Benchmarks", sections, targets],
  ["client-alone", "Benchmark (e): the client alone", aloneSections, aloneTargets],
];
for (const [name, title, body, goals] of reports) {
  if (body.length === 0) continue;
  const report = [
    `## ${title} (${new Date().toISOString().slice(0, 10)})`,
    "",
    ...machineLines(command),
    "",
    ...body,
    "### Targets",
    "",
    ...goals.map((t) => `- ${t}`),
    "",
  ];
  if (printOnly) {
    process.stdout.write(`${report.join("\n")}\n`);
  } else {
    await writeSection(name, report);
    log(`section ${name} written to docs/benchmarks.md`);
  }
}
