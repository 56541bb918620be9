import { join } from "node:path";
import type { TestPki } from "@openfl-connect/reference-aggregator/pki";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "../federation.js";
import { benchTasks } from "./bench-tasks.js";
import { PYTHON, REPO_ROOT, type Ready, spawnReady } from "./child-process.js";

/**
 * OpenFL's real AggregatorGRPCServer (or AggregatorRESTServer for "rest") serving bench<N>
 * tensors of N MiB for `mibs` (python/bench_openfl_server.py), for collaborator "bench" of `pki`.
 */
export function startOpenFLBenchServer(
  pki: TestPki,
  recordDir: string,
  mibs: readonly number[],
  transportProtocol: "grpc" | "rest" = "grpc",
): Promise<Ready> {
  return spawnReady(PYTHON, [
    join(REPO_ROOT, "packages/evidence/python/bench_openfl_server.py"),
    ...["--root-ca", pki.caCert, "--cert", pki.server.cert, "--key", pki.server.key, "--port", "0"],
    ...["--aggregator-uuid", AGGREGATOR_UUID, "--federation-uuid", FEDERATION_UUID],
    ...["--collaborators", "bench", "--record-dir", recordDir],
    ...["--tasks", benchTasks().join(","), "--bench-sizes", mibs.join(",")],
    ...["--transport-protocol", transportProtocol, "--log-level", "WARNING"],
  ]);
}
