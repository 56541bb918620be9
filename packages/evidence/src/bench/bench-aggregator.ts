// Child process: the reference aggregator serving bench<N> tensors of N MiB (argv[2] = "1,16").
// Prints {"ready": true, "port": N}; stops on SIGTERM. Env BENCH_PKI_DIR: the test PKI.
import { randomFillSync } from "node:crypto";
import { ReferenceAggregator, silentLogger } from "@openfl-connect/reference-aggregator";
import { testPkiPaths } from "@openfl-connect/reference-aggregator/pki";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "../federation.js";
import { benchTasks, MiB } from "./bench-tasks.js";
import { peakRssMiB } from "./proc-status.js";

const sizes = (process.argv[2] ?? "").split(",").filter(Boolean).map(Number);
const collaborators = (process.argv[3] ?? "bench").split(",");
const pki = testPkiPaths(process.env.BENCH_PKI_DIR ?? "", []);
const initialModel: Record<string, { shape: number[]; data: Float32Array }> = {};
for (const n of sizes) {
  const data = new Float32Array((n * MiB) / 4);
  randomFillSync(new Uint32Array(data.buffer));
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) data[i] = 0;
  initialModel[`bench${n}`] = { shape: [data.length], data };
}
initialModel.small = { shape: [4], data: Float32Array.of(1, 2, 3, 4) };
const aggregator = new ReferenceAggregator({
  aggregatorUuid: AGGREGATOR_UUID,
  federationUuid: FEDERATION_UUID,
  authorizedCollaborators: collaborators,
  rounds: Number(process.env.BENCH_ROUNDS ?? 1),
  tasks: process.env.BENCH_TASKS ? process.env.BENCH_TASKS.split(",") : benchTasks(),
  initialModel,
  tls: { rootCertificate: pki.caCert, certificate: pki.server.cert, privateKey: pki.server.key },
  authFailureDelayMs: [0, 0],
  tensorWaitMs: 60_000,
  logger: silentLogger,
});
const { port } = await aggregator.start();
process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
process.on("SIGTERM", async () => {
  const summary = {
    aggregatorPeakRssMiB: peakRssMiB(),
    results: aggregator.state.receivedResults.length,
  };
  process.stderr.write(`${JSON.stringify(summary)}\n`);
  await aggregator.stop();
  process.exit(0);
});
