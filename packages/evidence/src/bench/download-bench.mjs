// Plain JavaScript on purpose: the same file runs from the workspace (TypeScript sources via tsx)
// and from an empty project where the packed libraries were installed with npm, so the two
// download timings compare what a user installs with what the workspace runs.
// argv[2]: JSON { port, caCert, cert, key, collaborator, aggregatorUuid, federationUuid, mib, reps }.
// Prints one JSON line per download: { "mib": N, "seconds": S }.
import { AggregatorGRPCClient } from "@openfl-connect/node";

const job = JSON.parse(process.argv[2] ?? "{}");
const client = new AggregatorGRPCClient({
  aggAddr: "localhost",
  aggPort: job.port,
  aggregatorUuid: job.aggregatorUuid,
  federationUuid: job.federationUuid,
  collaboratorName: job.collaborator,
  rootCertificate: job.caCert,
  certificate: job.cert,
  privateKey: job.key,
  retry: { maxAttempts: 1 },
});
await client.ping();
for (let r = 0; r < job.reps; r++) {
  const t0 = performance.now();
  const tensor = await client.getAggregatedTensor(`bench${job.mib}`, 0, {
    tags: ["model"],
    requireLossless: true,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (tensor.dataBytes.byteLength !== job.mib * 1024 * 1024) {
    throw new Error(`bench${job.mib}: got ${tensor.dataBytes.byteLength} bytes`);
  }
  process.stdout.write(`${JSON.stringify({ mib: job.mib, seconds })}\n`);
}
await client.disconnect();
