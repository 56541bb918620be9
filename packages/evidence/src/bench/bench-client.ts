// Child process: one benchmark with the Node client (or a raw TLS socket), JSON lines on stdout.
// argv[2]: a JSON BenchClientJob.
import { randomFillSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect } from "node:tls";
import { AggregatorGRPCClient } from "@openfl-connect/node";
import { testPkiPaths } from "@openfl-connect/reference-aggregator/pki";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "../federation.js";
import { trainedTensor } from "../payloads.js";
import { MiB } from "./bench-tasks.js";
import { peakRssMiB, rssMiB } from "./proc-status.js";

export interface BenchClientJob {
  readonly op: "upload" | "download" | "get-tasks" | "raw-upload" | "raw-download" | "upload-rss";
  readonly port: number;
  readonly pkiDir: string;
  readonly collaborator: string;
  readonly sizes: readonly number[];
  readonly reps: number;
  readonly taskPrefix?: string;
  readonly chunkMiB?: number;
  readonly atomic?: boolean;
  readonly calls?: number;
}

const job = JSON.parse(process.argv[2] ?? "{}") as BenchClientJob;
const pki = testPkiPaths(job.pkiDir, [job.collaborator]);
const pair = pki.collaborators[job.collaborator];
const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

function client(): AggregatorGRPCClient {
  return new AggregatorGRPCClient({
    aggAddr: "localhost",
    aggPort: job.port,
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    collaboratorName: job.collaborator,
    rootCertificate: pki.caCert,
    certificate: pair?.cert,
    privateKey: pair?.key,
    enableAtomicConnections: job.atomic ?? false,
    ...(job.chunkMiB ? { uploadChunkBytes: job.chunkMiB * MiB } : {}),
    retry: { maxAttempts: 1 },
  });
}

function payload(mib: number): Uint8Array {
  const bytes = new Uint8Array(mib * MiB);
  for (let o = 0; o < bytes.byteLength; o += 65536)
    randomFillSync(bytes, o, Math.min(65536, bytes.byteLength - o));
  return bytes;
}

async function rawTls(op: "u" | "d", length: number): Promise<number> {
  const socket = connect({
    host: "127.0.0.1",
    port: job.port,
    servername: "localhost",
    ca: readFileSync(pki.caCert),
    cert: readFileSync(pair?.cert ?? ""),
    key: readFileSync(pair?.key ?? ""),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  const header = Buffer.alloc(9);
  header[0] = op.charCodeAt(0);
  header.writeBigUInt64BE(BigInt(length), 1);
  const t0 = performance.now();
  const done = new Promise<void>((resolve) => {
    let received = 0;
    socket.on("data", (chunk: Buffer) => {
      received += chunk.byteLength;
      if (op === "u" || received >= length) resolve();
    });
  });
  socket.write(header);
  if (op === "u") {
    const block = Buffer.alloc(MiB, 3);
    for (let sent = 0; sent < length; sent += MiB) {
      if (!socket.write(block.subarray(0, Math.min(MiB, length - sent)))) {
        await new Promise((r) => socket.once("drain", r));
      }
    }
  }
  await done;
  const seconds = (performance.now() - t0) / 1000;
  socket.destroy();
  return seconds;
}

let task = 0;
const c = job.op.startsWith("raw-") ? undefined : client();
await c?.ping();
if (job.op === "get-tasks") {
  const calls = job.calls ?? 200;
  const ms: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await c?.getTasks();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? Number.NaN;
  emit({
    op: job.op,
    atomic: job.atomic ?? false,
    calls,
    p50: q(0.5),
    p99: q(0.99),
    mean: ms.reduce((a, b) => a + b, 0) / calls,
  });
}
for (const mib of job.op === "get-tasks" ? [] : job.sizes) {
  if (job.op === "upload-rss") {
    const baseline = rssMiB();
    const bytes = payload(mib);
    // A tensor name per task: the reference aggregator, like OpenFL's, refuses a repeated key.
    const taskName = `${job.taskPrefix ?? "rss"}${task++}`;
    await c?.sendLocalTaskResults(0, taskName, 10, [trainedTensor(`w-${taskName}`, 0, bytes)]);
    emit({ op: job.op, mib, baselineMiB: baseline, peakMiB: peakRssMiB() });
    continue;
  }
  const bytes = job.op === "upload" ? payload(mib) : undefined;
  for (let r = 0; r < job.reps; r++) {
    const t0 = performance.now();
    if (job.op === "upload" && bytes) {
      const taskName = `${job.taskPrefix ?? "node2m"}${task++}`;
      await c?.sendLocalTaskResults(0, taskName, 10, [trainedTensor(`w-${taskName}`, 0, bytes)]);
    } else if (job.op === "download") {
      const t = await c?.getAggregatedTensor(`bench${mib}`, 0, {
        tags: ["model"],
        requireLossless: true,
      });
      if (t?.dataBytes.byteLength !== mib * MiB)
        throw new Error(`got ${t?.dataBytes.byteLength} bytes`);
    } else {
      emit({
        op: job.op,
        mib,
        seconds: await rawTls(job.op === "raw-upload" ? "u" : "d", mib * MiB),
      });
      continue;
    }
    emit({ op: job.op, mib, seconds: (performance.now() - t0) / 1000 });
  }
}
await c?.disconnect();
