// Child process: one benchmark with the Node client (or a raw TLS socket), JSON lines on stdout.
// argv[2]: a JSON BenchClientJob.
import { randomFillSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect, type TLSSocket } from "node:tls";
import { AggregatorGRPCClient } from "@openfl-connect/node";
import { testPkiPaths } from "@openfl-connect/reference-aggregator/pki";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "../federation.js";
import { trainedTensor } from "../payloads.js";
import { grpcJsClient, plainHttp2Downloader } from "./anchor-clients.js";
import { MiB } from "./bench-tasks.js";
import { peakRssMiB, rssMiB } from "./proc-status.js";

export interface BenchClientJob {
  readonly op:
    | "upload"
    | "download"
    | "get-tasks"
    | "raw-upload"
    | "raw-download"
    | "upload-rss"
    | "alone-upload"
    | "alone-download";
  readonly port: number;
  /** For alone-*: the raw TLS sink, measured in turn with the client in this process. */
  readonly rawPort?: number;
  readonly pkiDir: string;
  readonly collaborator: string;
  readonly sizes: readonly number[];
  readonly reps: number;
  readonly taskPrefix?: string;
  readonly chunkMiB?: number;
  readonly atomic?: boolean;
  readonly calls?: number;
  /** The Node client's transportProtocol (default grpc). */
  readonly transportProtocol?: "grpc" | "rest";
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
    ...(job.transportProtocol ? { transportProtocol: job.transportProtocol } : {}),
  });
}

function payload(mib: number): Uint8Array {
  const bytes = new Uint8Array(mib * MiB);
  for (let o = 0; o < bytes.byteLength; o += 65536)
    randomFillSync(bytes, o, Math.min(65536, bytes.byteLength - o));
  return bytes;
}

async function rawConnect(port = job.port): Promise<TLSSocket> {
  const socket = connect({
    host: "127.0.0.1",
    port,
    servername: "localhost",
    ca: readFileSync(pki.caCert),
    cert: readFileSync(pair?.cert ?? ""),
    key: readFileSync(pair?.key ?? ""),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  return socket;
}

/**
 * Moves `length` bytes over a raw TLS socket to or from raw-tls-sink.ts. Uploads write 1 MiB
 * views of `source` (the same bytes the client sends) or of one repeated block.
 */
async function rawTransfer(
  socket: TLSSocket,
  op: "u" | "d",
  length: number,
  source?: Uint8Array,
): Promise<void> {
  const header = Buffer.alloc(9);
  header[0] = op.charCodeAt(0);
  header.writeBigUInt64BE(BigInt(length), 1);
  let onData = (_chunk: Buffer) => {};
  const done = new Promise<void>((resolve) => {
    let received = 0;
    onData = (chunk: Buffer) => {
      received += chunk.byteLength;
      if (op === "u" || received >= length) resolve();
    };
    socket.on("data", onData);
  });
  socket.write(header);
  if (op === "u") {
    const block = source ?? Buffer.alloc(MiB, 3);
    for (let sent = 0; sent < length; sent += MiB) {
      const n = Math.min(MiB, length - sent);
      const piece = source ? block.subarray(sent, sent + n) : block.subarray(0, n);
      if (!socket.write(piece)) await new Promise((r) => socket.once("drain", r));
    }
  }
  await done;
  socket.off("data", onData);
}

async function rawTls(op: "u" | "d", length: number): Promise<number> {
  const socket = await rawConnect();
  const t0 = performance.now();
  await rawTransfer(socket, op, length);
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
/** Wall seconds and this process's CPU (user + system, all threads) in ms while `run` runs. */
async function measured(run: () => Promise<unknown>): Promise<{ seconds: number; cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { seconds, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function download(mib: number): Promise<void> {
  const t = await c?.getAggregatedTensor(`bench${mib}`, 0, {
    tags: ["model"],
    requireLossless: true,
  });
  if (t?.dataBytes.byteLength !== mib * MiB)
    throw new Error(`got ${t?.dataBytes.byteLength} bytes`);
}

// (e): the client against the sink, next to a raw TLS socket (to the raw sink) and the anchors
// (a plain node:http2 client for downloads, @grpc/grpc-js both ways; anchor-clients.ts) against
// the same sink, in turn in this process (the order rotates per rep), after one unrecorded
// warm-up of each.
if (job.op === "alone-upload" || job.op === "alone-download") {
  const up = job.op === "alone-upload";
  const tls = { caCert: pki.caCert, cert: pair?.cert ?? "", key: pair?.key ?? "" };
  const h2 = up ? undefined : await plainHttp2Downloader(job.port, tls);
  const grpcJs = grpcJsClient(job.port, tls);
  for (const mib of job.sizes) {
    const bytes = up ? payload(mib) : undefined;
    const socket = await rawConnect(job.rawPort);
    const kinds: [string, () => Promise<unknown>][] = [
      [
        "client",
        () =>
          up
            ? (c?.sendLocalTaskResults(0, "alone", 10, [
                trainedTensor("w", 0, bytes ?? new Uint8Array(0)),
              ]) ?? Promise.resolve())
            : download(mib),
      ],
      ["raw", () => rawTransfer(socket, up ? "u" : "d", mib * MiB, bytes)],
      ["grpc-js", () => (up ? grpcJs.upload(bytes ?? new Uint8Array(0)) : grpcJs.download(mib))],
      ...(h2 ? [["http2", () => h2.download(mib)] as [string, () => Promise<unknown>]] : []),
    ];
    for (const [, run] of kinds) await run();
    for (let r = 0; r < job.reps; r++) {
      for (let k = 0; k < kinds.length; k++) {
        const [kind, run] = kinds[(k + r) % kinds.length] as [string, () => Promise<unknown>];
        const m = await measured(run);
        emit({ op: job.op, kind, mib, rep: r, ...m });
      }
    }
    socket.destroy();
  }
  h2?.close();
  grpcJs.close();
}
for (const mib of job.op === "get-tasks" || job.op.startsWith("alone-") ? [] : job.sizes) {
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
      await download(mib);
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
