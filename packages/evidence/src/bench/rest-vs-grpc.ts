// REST vs gRPC (issue 25): OpenFL 1.9's real servers (AggregatorGRPCServer and
// AggregatorRESTServer, the same stand-in aggregator behind both), and two clients on each:
// ours (transportProtocol grpc / rest) and OpenFL's Python AggregatorGRPCClient /
// AggregatorRESTClient; uploads and downloads of one float32 tensor of N MiB, side by side in one
// run over mTLS on loopback. Writes the "rest-vs-grpc" section of docs/benchmarks.md (--print:
// print it instead). Run: pnpm --filter @openfl-connect/evidence run bench:rest [--sizes 1,16,64]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "../federation.js";
import type { BenchClientJob } from "./bench-client.js";
import { HERE, PYTHON, REPO_ROOT, runJsonLines, TSX } from "./child-process.js";
import { startOpenFLBenchServer } from "./openfl-bench-server.js";
import { machineLines, writeSection } from "./report.js";

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? (argv[i + 1] ?? fallback) : fallback;
};
const sizes = flag("--sizes", "1,16,64").split(",").map(Number);
const reps = Number(flag("--reps", "2"));
const printOnly = argv.includes("--print");
const command = `pnpm --filter @openfl-connect/evidence run bench:rest ${argv.join(" ")}`.trim();
const log = (m: string) => process.stderr.write(`${m}\n`);

type Protocol = "grpc" | "rest";
type Row = Record<string, number | string | boolean>;
const PROTOCOLS: readonly Protocol[] = ["grpc", "rest"];

const dir = await mkdtemp(join(tmpdir(), "openfl-bench-rest-"));
const pkiDir = join(dir, "pki");
const pki = await createTestPki(pkiDir, { collaborators: ["bench"] });
const pair = pki.collaborators.bench;

function ours(protocol: Protocol, port: number, op: "upload" | "download", mib: number) {
  const job: BenchClientJob = {
    op,
    port,
    sizes: [mib],
    reps,
    pkiDir,
    collaborator: "bench",
    taskPrefix: "node2m",
    transportProtocol: protocol,
  };
  return runJsonLines(process.execPath, [
    ...TSX,
    join(HERE, "bench-client.ts"),
    JSON.stringify(job),
  ]);
}

function openfl(protocol: Protocol, port: number, mib: number) {
  return runJsonLines(PYTHON, [
    join(REPO_ROOT, "packages/evidence/python/bench_openfl_client.py"),
    ...["--port", String(port), "--root-ca", pki.caCert],
    ...["--cert", pair?.cert ?? "", "--key", pair?.key ?? ""],
    ...["--aggregator-uuid", AGGREGATOR_UUID, "--federation-uuid", FEDERATION_UUID],
    ...["--collaborator", "bench", "--sizes", String(mib), "--reps", String(reps)],
    ...["--task-prefix", "py", "--transport-protocol", protocol],
  ]).catch((error: unknown) => {
    log(`  OpenFL's ${protocol} client failed: ${String(error).slice(0, 400)}`);
    return [] as Row[];
  });
}

const best = (rows: Row[], op: string) =>
  Math.min(...rows.filter((r) => r.op === op).map((r) => Number(r.seconds)));
const fmt = (s: number) => (Number.isFinite(s) ? s.toFixed(2) : "–");
const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : "–";

const servers = {
  grpc: await startOpenFLBenchServer(pki, join(dir, "records-grpc"), sizes, "grpc"),
  rest: await startOpenFLBenchServer(pki, join(dir, "records-rest"), sizes, "rest"),
};
const table: string[] = [];
try {
  for (const mib of sizes) {
    const t: Record<string, number> = {};
    for (const protocol of PROTOCOLS) {
      log(`${mib} MiB over ${protocol}`);
      const port = servers[protocol].port;
      const py = await openfl(protocol, port, mib);
      t[`py-up-${protocol}`] = best(py, "upload");
      t[`py-down-${protocol}`] = best(py, "download");
      t[`node-up-${protocol}`] = best(await ours(protocol, port, "upload", mib), "upload");
      t[`node-down-${protocol}`] = best(await ours(protocol, port, "download", mib), "download");
    }
    const v = (k: string) => t[k] ?? Number.NaN;
    table.push(
      `| ${mib} | upload | ${fmt(v("node-up-grpc"))} | ${fmt(v("node-up-rest"))} | ${ratio(v("node-up-rest"), v("node-up-grpc"))} | ${fmt(v("py-up-grpc"))} | ${fmt(v("py-up-rest"))} | ${ratio(v("py-up-rest"), v("py-up-grpc"))} | ${ratio(v("py-up-rest"), v("node-up-rest"))} |`,
      `| ${mib} | download | ${fmt(v("node-down-grpc"))} | ${fmt(v("node-down-rest"))} | ${ratio(v("node-down-rest"), v("node-down-grpc"))} | ${fmt(v("py-down-grpc"))} | ${fmt(v("py-down-rest"))} | ${ratio(v("py-down-rest"), v("py-down-grpc"))} | ${ratio(v("py-down-rest"), v("node-down-rest"))} |`,
    );
  }
} finally {
  await Promise.all([servers.grpc.stop(), servers.rest.stop()]);
  await rm(dir, { recursive: true, force: true });
}

const lines = [
  "## REST vs gRPC against OpenFL 1.9's real servers (issue 25)",
  "",
  ...machineLines(command),
  "",
  "One float32 tensor of N MiB, seconds (best of the reps), each client in its own process against",
  "OpenFL's real `AggregatorGRPCServer` and `AggregatorRESTServer` (Flask/werkzeug, TLS 1.3), the same",
  "stand-in aggregator behind both (`packages/evidence/python/bench_openfl_server.py`). REST/gRPC > 1x:",
  "REST is slower. Python/ours (REST) > 1x: our REST client is faster than OpenFL's.",
  "",
  "| MiB | op | ours gRPC | ours REST | REST/gRPC | OpenFL gRPC | OpenFL REST | REST/gRPC | Python/ours (REST) |",
  "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
  ...table,
  "",
  "Where REST's time goes (from the servers' code, not measured apart here): a download is the",
  "tensor base64-encoded in a JSON body by `json_format.MessageToDict` and Flask's `jsonify` (4/3 the",
  "bytes on the wire, and Python-side encoding); an upload is read whole by Flask (`request.data`)",
  "and parsed once; werkzeug closes the connection after every answer (`Connection: close`), so",
  "each call pays a TLS handshake.",
];
if (printOnly) process.stdout.write(`${lines.join("\n")}\n`);
else {
  await writeSection("rest-vs-grpc", lines);
  log("wrote the rest-vs-grpc section of docs/benchmarks.md");
}
