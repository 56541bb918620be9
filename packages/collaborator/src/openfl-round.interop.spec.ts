// The collaborator service for one whole round against OpenFL 1.9's REAL AggregatorGRPCServer
// (packages/interop/python/openfl_server_fixture.py; needs `bash scripts/setup-python.sh`).
// Run with `pnpm --filter @openfl-connect/collaborator run test:interop`.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { access, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { AggregatorGRPCClient, FileResendBuffer } from "@openfl-connect/node";
import { createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { CollaboratorService } from "./collaborator-service.js";
import type { TaskSet } from "./task-set.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PYTHON = join(REPO_ROOT, ".venv", "bin", "python");
const FIXTURE = join(REPO_ROOT, "packages", "interop", "python", "openfl_server_fixture.py");

import {
  AGGREGATOR_UUID,
  FEDERATION_UUID,
} from "@openfl-connect/test-support/federation-constants";

const TASKS = ["aggregated_model_validation", "train", "locally_tuned_model_validation"];

/** The fixture's model: conv.weight = arange(60).reshape(3,4,5)/7 + round, scale = 0.25 + round. */
const taskSet: TaskSet = {
  modelTensorNames: ["conv.weight", "scale"],
  tasks: {
    aggregated_model_validation: async (ctx) => ({
      dataSize: 10,
      metrics: { accuracy: ctx.model.scale?.data[0] ?? -1 },
    }),
    train: async (ctx) => {
      const weight = ctx.model["conv.weight"];
      assert.ok(weight);
      return {
        dataSize: 42,
        tensors: {
          "conv.weight": { shape: weight.shape, data: weight.data.map((v) => v + 1) },
        },
        metrics: { loss: 0.5 },
      };
    },
    locally_tuned_model_validation: {
      modelTensors: [],
      run: async (ctx) => ({
        dataSize: 10,
        metrics: { accuracy: ctx.localTensors["conv.weight"]?.data[1] ?? -1 },
      }),
    },
  },
};

async function startFixture(args: string[]) {
  const child = spawn(PYTHON, [FIXTURE, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`fixture not ready: ${stderr}`)), 60_000);
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      out += c;
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
    });
    child.once("exit", (code) => reject(new Error(`fixture exited ${code}: ${stderr}`)));
  });
  return {
    port,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

describe("collaborator service against OpenFL's real AggregatorGRPCServer", () => {
  it("runs a whole round of the three default tasks and stops on quit", async () => {
    // No venv fails this test (it never skips): scripts/test-interop.sh installs it.
    await access(PYTHON).catch(() => {
      throw new Error(`${PYTHON} missing: run 'bash scripts/setup-python.sh'`);
    });
    const dir = await mkdtemp(join(tmpdir(), "collaborator-openfl-"));
    const pki = await createTestPki(join(dir, "pki"), { collaborators: ["collaborator1"] });
    const recordDir = join(dir, "records");
    const fixture = await startFixture([
      ...["--root-ca", pki.caCert, "--cert", pki.server.cert, "--key", pki.server.key],
      ...[
        "--port",
        "0",
        "--aggregator-uuid",
        AGGREGATOR_UUID,
        "--federation-uuid",
        FEDERATION_UUID,
      ],
      ...["--collaborators", "collaborator1", "--record-dir", recordDir, "--rounds", "1"],
      ...["--tasks", TASKS.join(",")],
    ]);
    const pending = new FileResendBuffer(join(dir, "pending"));
    const client = new AggregatorGRPCClient({
      aggAddr: "localhost",
      aggPort: fixture.port,
      aggregatorUuid: AGGREGATOR_UUID,
      federationUuid: FEDERATION_UUID,
      collaboratorName: "collaborator1",
      rootCertificate: pki.caCert,
      certificate: pki.collaborators.collaborator1?.cert,
      privateKey: pki.collaborators.collaborator1?.key,
      resendBuffer: pending,
      retry: { intervalMs: 200 },
      warn: () => {},
    });
    try {
      const service = new CollaboratorService({
        client,
        collaboratorName: "collaborator1",
        taskSet,
      });
      const outcome = await service.run({ signal: AbortSignal.timeout(60_000) });
      assert.deepEqual(outcome, { t: "quit", roundsWorked: 1, tasksRun: 3 }, fixture.stderr());
      const files = (await readdir(recordDir)).sort();
      assert.deepEqual(files, TASKS.map((task) => `results-r0-collaborator1-${task}.json`).sort());
      const record = async (task: string) =>
        JSON.parse(
          await readFile(join(recordDir, `results-r0-collaborator1-${task}.json`), "utf8"),
        ) as {
          data_size: number;
          tensors: {
            name: string;
            tags: string[];
            shape: number[];
            first: number[];
            report: boolean;
          }[];
        };
      const train = await record("train");
      assert.equal(train.data_size, 42);
      const weight = train.tensors.find((x) => x.name === "conv.weight");
      assert.deepEqual(weight?.tags, ["compressed", "trained"]);
      assert.deepEqual(weight?.shape, [3, 4, 5]);
      assert.ok(Math.abs((weight?.first[1] ?? 0) - (1 / 7 + 1)) < 1e-5);
      const loss = train.tensors.find((x) => x.name === "loss");
      assert.deepEqual(
        [loss?.tags, loss?.shape, loss?.report],
        [["compressed", "metric"], [], true],
      );
      const validation = await record("aggregated_model_validation");
      assert.equal(validation.data_size, 10);
      assert.deepEqual(validation.tensors[0]?.first, [0.25]);
      const local = await record("locally_tuned_model_validation");
      assert.ok(Math.abs((local.tensors[0]?.first[0] ?? 0) - (1 / 7 + 1)) < 1e-5);
      await pending.close();
      assert.deepEqual(await readdir(join(dir, "pending")), []);
    } finally {
      await pending.close();
      await client.disconnect();
      await fixture.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
