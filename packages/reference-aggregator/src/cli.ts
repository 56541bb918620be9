// Runs the reference aggregator from the command line; see `--help`.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Float32Tensor } from "@openfl-connect/core";
import { ReferenceAggregator } from "./aggregator-server.js";
import { defaultLogger, jsonLineLogger } from "./logger.js";
import { ensureTestPki } from "./pki.js";

const USAGE = `Usage: node --import tsx src/cli.ts [options]
  --collaborators a,b,c      authorised collaborator names (required; certificate CNs)
  --port N                   port to listen on (default 50051; 0 = any free port)
  --host ADDR                address to bind (default 127.0.0.1)
  --rounds N                 rounds to train (default 3)
  --tasks t1,t2              task names of every round
                             (default aggregated_model_validation,train,locally_tuned_model_validation)
  --pki-dir DIR              PKI directory; created (CA, server, collaborator certs) when empty
                             (default: a new temporary directory)
  --federation-uuid ID       default plan.yaml_<8 random hex>
  --aggregator-uuid ID       default aggregator_<federation uuid>
  --single-col-cert-common-name CN   single-certificate mode (default off)
  --model FILE               initial model JSON: {"name": {"shape": [..], "data": [..]}}
  --tensor-wait-ms N         how long a missing tensor is waited for (default 60000)
  --auth-failure-delay-ms MIN,MAX    delay before UNAUTHENTICATED (default 0,5000)
  --insecure                 plaintext HTTP/2 without TLS (not for real use)
  --exit-when-done           exit once every collaborator was told to quit
  --verbose                  also log info entries (stderr)
Prints {"ready":true,...} on stdout when listening, then one JSON line per round end.`;

const DEFAULT_MODEL: Record<string, Float32Tensor> = {
  "dense.weight": {
    shape: [4, 2],
    data: Float32Array.from([0.1, -0.1, 0.2, -0.2, 0.3, -0.3, 0.4, -0.4]),
  },
  "dense.bias": { shape: [2], data: Float32Array.from([0, 0]) },
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      collaborators: { type: "string" },
      port: { type: "string", default: "50051" },
      host: { type: "string", default: "127.0.0.1" },
      rounds: { type: "string", default: "3" },
      tasks: { type: "string" },
      "pki-dir": { type: "string" },
      "federation-uuid": { type: "string" },
      "aggregator-uuid": { type: "string" },
      "single-col-cert-common-name": { type: "string" },
      model: { type: "string" },
      "tensor-wait-ms": { type: "string" },
      "auth-failure-delay-ms": { type: "string" },
      insecure: { type: "boolean", default: false },
      "exit-when-done": { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const collaborators = list(values.collaborators);
  if (collaborators.length === 0) throw new UsageError("--collaborators is required");
  const federationUuid = values["federation-uuid"] ?? `plan.yaml_${randomBytes(4).toString("hex")}`;
  const aggregatorUuid = values["aggregator-uuid"] ?? `aggregator_${federationUuid}`;
  const logger = values.verbose ? jsonLineLogger(process.stderr) : defaultLogger;

  let pkiDir: string | undefined;
  let tls: ConstructorParameters<typeof ReferenceAggregator>[0]["tls"] = "insecure";
  if (!values.insecure) {
    pkiDir = resolve(values["pki-dir"] ?? (await mkdtemp(join(tmpdir(), "openfl-pki-"))));
    const singleCn = values["single-col-cert-common-name"];
    const pki = await ensureTestPki(pkiDir, {
      collaborators: singleCn ? [...new Set([...collaborators, singleCn])] : collaborators,
    });
    tls = { rootCertificate: pki.caCert, certificate: pki.server.cert, privateKey: pki.server.key };
  }

  const delay = values["auth-failure-delay-ms"];
  const aggregator = new ReferenceAggregator({
    aggregatorUuid,
    federationUuid,
    singleColCertCommonName: values["single-col-cert-common-name"] ?? "",
    authorizedCollaborators: collaborators,
    rounds: integer("--rounds", values.rounds),
    ...(values.tasks === undefined ? {} : { tasks: list(values.tasks) }),
    initialModel: values.model === undefined ? DEFAULT_MODEL : await loadModel(values.model),
    ...(values["tensor-wait-ms"] === undefined
      ? {}
      : { tensorWaitMs: integer("--tensor-wait-ms", values["tensor-wait-ms"]) }),
    ...(delay === undefined ? {} : { authFailureDelayMs: delayRange(delay) }),
    host: values.host,
    port: portNumber(values.port),
    tls,
    logger,
  });

  aggregator.state.onRoundEnd((summary) => {
    writeLine({ event: "round_end", ...summary });
  });
  const { port } = await aggregator.start();
  writeLine({
    ready: true,
    host: values.host,
    port,
    aggregatorUuid,
    federationUuid,
    pkiDir: pkiDir ?? null,
  });

  let stopping = false;
  const shutdown = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(poll);
    await aggregator.stop();
    writeLine({ event: "stopped", reason });
    process.exitCode = 0;
    // Anything still pending (e.g. a tensor wait) must not hold the process open.
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  // Like OpenFL's serve(): poll whether every collaborator has been told to quit.
  const poll = setInterval(() => {
    if (values["exit-when-done"] && aggregator.state.allQuitJobsSent()) void shutdown("done");
  }, 500);
  poll.unref();
}

class UsageError extends Error {
  override name = "UsageError";
}

function writeLine(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function integer(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a whole number >= 0`);
  return n;
}

function portNumber(value: string): number {
  const n = integer("--port", value);
  if (n > 65535) throw new UsageError("--port must be from 0 to 65535");
  return n;
}

function delayRange(value: string): [number, number] {
  const [min, max] = value.split(",").map((v) => integer("--auth-failure-delay-ms", v));
  if (min === undefined || max === undefined || max < min) {
    throw new UsageError("--auth-failure-delay-ms must be MIN,MAX with MIN <= MAX");
  }
  return [min, max];
}

async function loadModel(path: string): Promise<Record<string, Float32Tensor>> {
  const parsed = JSON.parse(await readFile(path, "utf8")) as Record<
    string,
    { shape: number[]; data: number[] }
  >;
  return Object.fromEntries(
    Object.entries(parsed).map(([name, t]) => [
      name,
      { shape: t.shape, data: Float32Array.from(t.data) },
    ]),
  );
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${message}\n${error instanceof UsageError ? `${USAGE}\n` : ""}`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
