// Benchmark (e): the client alone. The Node client against client-sink.ts (an HTTP/2 mTLS
// server that costs next to nothing) and a raw TLS socket against raw-tls-sink.ts, moving the
// same bytes, in turn in one client process; wall time and that process's CPU. Then the peak RSS
// of a plain-JS client process sending N MiB to the sink.
import { join } from "node:path";
import type { BenchClientJob } from "./bench-client.js";
import { HERE, runJsonLines, spawnReady, TSX } from "./child-process.js";
import { topFrames } from "./cpu-profile.js";
import { verdict } from "./verdict.js";

type Row = Record<string, number | string | boolean>;

export interface ClientAloneSettings {
  readonly pkiDir: string;
  readonly sizes: readonly number[];
  readonly reps: number;
  /** bench-client.ts bundled to plain JS (for the RSS figure). */
  readonly plainClient: string;
  readonly log: (message: string) => void;
}

/** The issue's targets, from 16 MiB up: throughput and CPU next to raw TLS; RSS over baseline. */
export const ALONE_TARGETS = {
  fromMiB: 16,
  minThroughputRatio: 0.7,
  maxCpuRatio: 2,
  rssOverPayloadMiB: 16,
} as const;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0
    ? Number.NaN
    : s.length % 2
      ? (s[m] as number)
      : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Issue 26's anchors, from 16 MiB up: the platform's own HTTP/2 client, and @grpc/grpc-js. */
export const ANCHOR_TARGETS = {
  fromMiB: 16,
  minHttp2DownloadRatio: 0.9,
  maxHttp2CpuRatio: 1.3,
  minGrpcJsSpeedUp: 2,
} as const;

/**
 * Per rep, anchor / client seconds (throughput share) and client / anchor CPU; the median over
 * reps. The anchor is the raw TLS socket unless named ("http2", "grpc-js").
 */
export function pairedRatios(rows: readonly Row[], op: string, mib: number, against = "raw") {
  const of = (kind: string) =>
    rows
      .filter((r) => r.op === op && r.mib === mib && r.kind === kind)
      .sort((a, b) => Number(a.rep) - Number(b.rep));
  const client = of("client");
  const raw = of(against);
  const pairs = client.flatMap((c) => {
    const r = raw.find((x) => x.rep === c.rep);
    return r ? [{ c, r }] : [];
  });
  return {
    reps: pairs.length,
    clientSeconds: median(client.map((r) => Number(r.seconds))),
    rawSeconds: median(raw.map((r) => Number(r.seconds))),
    clientCpuMs: median(client.map((r) => Number(r.cpuMs))),
    rawCpuMs: median(raw.map((r) => Number(r.cpuMs))),
    throughput: median(pairs.map(({ c, r }) => Number(r.seconds) / Number(c.seconds))),
    cpu: median(pairs.map(({ c, r }) => Number(c.cpuMs) / Number(r.cpuMs))),
  };
}

export async function benchClientAlone(
  s: ClientAloneSettings,
): Promise<{ section: string[]; targets: string[] }> {
  const env = { BENCH_PKI_DIR: s.pkiDir };
  const sink = await spawnReady(
    process.execPath,
    [...TSX, join(HERE, "client-sink.ts"), s.sizes.join(",")],
    env,
  );
  const raw = await spawnReady(process.execPath, [...TSX, join(HERE, "raw-tls-sink.ts")], env);
  const rows: string[] = [];
  const anchorRows: string[] = [];
  const rssRows: string[] = [];
  const targets: string[] = [];
  const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
  try {
    for (const mib of s.sizes) {
      const measured: Row[] = [];
      for (const op of ["alone-upload", "alone-download"] as const) {
        s.log(`  (e) ${op} ${mib} MiB x ${s.reps}`);
        const job: BenchClientJob = {
          op,
          port: sink.port,
          rawPort: raw.port,
          sizes: [mib],
          reps: s.reps,
          pkiDir: s.pkiDir,
          collaborator: "bench",
        };
        measured.push(
          ...(await runJsonLines(process.execPath, [s.plainClient, JSON.stringify(job)])),
        );
      }
      const cells: string[] = [];
      const verdicts: string[] = [];
      for (const op of ["alone-upload", "alone-download"] as const) {
        const p = pairedRatios(measured, op, mib);
        const mbps = (sec: number) => fmt(mib / sec, 0);
        cells.push(
          `${fmt(p.clientSeconds)} (${mbps(p.clientSeconds)} MiB/s) | ${fmt(p.rawSeconds)} (${mbps(p.rawSeconds)} MiB/s) | **${fmt(p.throughput)}x** | ${fmt(p.clientCpuMs, 0)} / ${fmt(p.rawCpuMs, 0)} | **${fmt(p.cpu)}x**`,
        );
        const direction = op === "alone-upload" ? "upload" : "download";
        if (mib >= ALONE_TARGETS.fromMiB) {
          const t = ALONE_TARGETS;
          verdicts.push(
            `${direction} throughput ${fmt(p.throughput)}x raw (>= ${t.minThroughputRatio}x): ${verdict(p.throughput >= t.minThroughputRatio, p.throughput)}, CPU ${fmt(p.cpu)}x raw (<= ${t.maxCpuRatio}x): ${verdict(p.cpu <= t.maxCpuRatio, p.cpu)}`,
          );
        } else {
          verdicts.push(
            `${direction} ${fmt(p.throughput)}x raw throughput at ${fmt(p.cpu)}x its CPU (report only)`,
          );
        }
      }
      rows.push(`| ${mib} | ${cells.join(" | ")} |`);
      const h2 = pairedRatios(measured, "alone-download", mib, "http2");
      const jsDown = pairedRatios(measured, "alone-download", mib, "grpc-js");
      const jsUp = pairedRatios(measured, "alone-upload", mib, "grpc-js");
      anchorRows.push(
        `| ${mib} | ${fmt(h2.clientSeconds)} | ${fmt(h2.rawSeconds)} | **${fmt(h2.throughput)}x** | ${fmt(h2.clientCpuMs, 0)} / ${fmt(h2.rawCpuMs, 0)} | **${fmt(h2.cpu)}x** | ${fmt(jsDown.rawSeconds)} | **${fmt(jsDown.throughput)}x** | ${fmt(jsUp.clientSeconds)} | ${fmt(jsUp.rawSeconds)} | **${fmt(jsUp.throughput)}x** |`,
      );
      const a = ANCHOR_TARGETS;
      const judged = mib >= a.fromMiB;
      const say = (ok: boolean, x: number) => (judged ? verdict(ok, x) : "report only");
      targets.push(
        `(e) ${mib} MiB anchors: download ${fmt(h2.throughput)}x the plain node:http2 client's throughput (>= ${a.minHttp2DownloadRatio}x): ${say(h2.throughput >= a.minHttp2DownloadRatio, h2.throughput)}, at ${fmt(h2.cpu)}x its CPU (<= ${a.maxHttp2CpuRatio}x): ${say(h2.cpu <= a.maxHttp2CpuRatio, h2.cpu)}; vs @grpc/grpc-js download ${fmt(jsDown.throughput)}x, upload ${fmt(jsUp.throughput)}x (>= ${a.minGrpcJsSpeedUp}x both): ${say(jsDown.throughput >= a.minGrpcJsSpeedUp && jsUp.throughput >= a.minGrpcJsSpeedUp, Math.min(jsDown.throughput, jsUp.throughput))}`,
      );
      s.log(`  (e) ${mib} MiB peak RSS`);
      const rssJob: BenchClientJob = {
        op: "upload-rss",
        port: sink.port,
        sizes: [mib],
        reps: 1,
        pkiDir: s.pkiDir,
        collaborator: "bench",
      };
      const [rss] = await runJsonLines(process.execPath, [s.plainClient, JSON.stringify(rssJob)]);
      const before = Number(rss?.baselineMiB);
      const peak = Number(rss?.peakMiB);
      const growth = peak - before;
      const limit = mib + ALONE_TARGETS.rssOverPayloadMiB;
      const rssOk = growth <= limit;
      rssRows.push(
        `| ${mib} | ${fmt(before, 0)} | ${fmt(peak, 0)} | ${fmt(growth, 0)} | ${fmt(growth - mib, 0)} | ${limit} | ${mib >= ALONE_TARGETS.fromMiB ? verdict(rssOk, growth) : `(report only: ${verdict(rssOk, growth)})`} |`,
      );
      targets.push(
        `(e) ${mib} MiB: ${verdicts.join("; ")}; peak RSS growth while sending ${fmt(growth, 0)} MiB (<= N + ${ALONE_TARGETS.rssOverPayloadMiB} = ${limit}): ${mib >= ALONE_TARGETS.fromMiB ? verdict(rssOk, growth) : "report only"}`,
      );
    }
  } finally {
    await sink.stop();
    await raw.stop();
  }
  const section = [
    "### (e) The client alone: Node client vs a raw TLS socket, against sinks that cost next to nothing",
    "",
    "One client process per size and direction (plain JS: bench-client.ts bundled by esbuild) runs, in turn, our client against `client-sink.ts` (HTTP/2 + mTLS; discards uploads and answers a canned SendLocalTaskResultsResponse; answers GetAggregatedTensor with a response serialized once at start-up; 64 MiB HTTP/2 windows) and a raw Node `tls` socket against `raw-tls-sink.ts` moving the same bytes (uploads write 1 MiB views of the same tensor bytes), both on a kept connection, after one unrecorded warm-up of each; which goes first alternates per rep. Seconds and CPU ms (user + system of the client process, all its threads, from `process.cpuUsage()`) are medians over the reps; the ratios are the medians of the per-rep ratios (throughput = raw seconds / client seconds; CPU = client CPU / raw CPU). Target from 16 MiB up: throughput >= 0.7x and CPU <= 2x; 1 MiB is reported only.",
    "",
    "| MiB | client upload s | raw upload s | throughput | CPU ms client / raw | CPU | client download s | raw download s | throughput | CPU ms client / raw | CPU |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
    "",
    "The anchors, in the same client processes and against the same sink, in turn with our client: a plain `node:http2` client downloading the same response (read and counted: no gRPC parsing, no copy; the same 8 MiB receive windows as ours), the platform's own ceiling; and `@grpc/grpc-js` 1.x (a download parsed with protobuf-es as a user would; an upload serialized whole, then streamed as OpenFL's 2 MiB DataStream messages). Throughput = anchor seconds / our seconds (> 1x: ours is faster); CPU = our CPU / the anchor's. Targets from 16 MiB up: downloads >= 0.9x the plain client's throughput at <= 1.3x its CPU; both ways >= 2x grpc-js.",
    "",
    "| MiB | our download s | plain http2 s | throughput vs http2 | CPU ms ours / http2 | CPU vs http2 | grpc-js download s | download vs grpc-js | our upload s | grpc-js upload s | upload vs grpc-js |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...anchorRows,
    "",
    "Peak RSS (VmHWM) of a client process sending one N MiB tensor to the sink (one process per N). Before = after start-up and a first call, before the tensor exists; the tensor itself (N MiB) is part of the growth, so the client's own share is growth - N. Target: growth <= N + 16 MiB.",
    "",
    "| MiB | RSS before | peak RSS | growth | client's own (growth - N) | limit N + 16 | target |",
    "|---:|---:|---:|---:|---:|---:|---|",
    ...rssRows,
    "",
  ];
  return { section, targets };
}

/**
 * `node --cpu-prof` of the client process for one upload or download of N MiB against the sink
 * (a fresh sink and client process): the top frames by self time, as a doc section.
 */
export async function profileAgainstSink(
  pkiDir: string,
  plainClient: string,
  op: "upload" | "download",
  mib: number,
  profDir: string,
): Promise<string[]> {
  const sink = await spawnReady(
    process.execPath,
    [...TSX, join(HERE, "client-sink.ts"), String(mib)],
    { BENCH_PKI_DIR: pkiDir },
  );
  try {
    const job: BenchClientJob = {
      op,
      port: sink.port,
      sizes: [mib],
      reps: 3,
      pkiDir,
      collaborator: "bench",
    };
    const runs = await runJsonLines(process.execPath, [
      "--cpu-prof",
      `--cpu-prof-dir=${profDir}`,
      plainClient,
      JSON.stringify(job),
    ]);
    const { rows, totalMs } = topFrames(profDir, 15);
    return [
      `#### Profile of (e): ${op} of ${mib} MiB, 3 times, against the sink`,
      "",
      `\`node --cpu-prof\` of the plain-JS client process (runs: ${runs.map((r) => Number(r.seconds).toFixed(3)).join(", ")} s; profile total ${(totalMs / 1000).toFixed(1)} s including start-up). Top frames by self time (bench-client.mjs is the esbuild bundle of the client):`,
      "",
      "| self ms | share | frame |",
      "|---:|---:|---|",
      ...rows,
      "",
    ];
  } finally {
    await sink.stop();
  }
}
