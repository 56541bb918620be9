import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AggregatorCallError, CertificateLoadError, encodeNamedTensor } from "@openfl-connect/core";
import { FileResendBuffer } from "@openfl-connect/node";
import {
  AGGREGATOR_UUID,
  FEDERATION_UUID,
} from "@openfl-connect/test-support/federation-constants";
import { startTestFederation } from "@openfl-connect/test-support/reference-federation";
import { createCollaborator } from "./collaborator-from-config.js";
import { loadConfig } from "./config.js";
import { ConfigError } from "./config-error.js";
import { silentLogger } from "./logger.js";
import type { TaskSet } from "./task-set.js";
import * as softmax from "./tasks/softmax-regression.js";

const config = (pendingDir: string, certificate: string) => ({
  aggAddr: "localhost",
  aggPort: 1,
  aggregatorUuid: AGGREGATOR_UUID,
  federationUuid: FEDERATION_UUID,
  collaboratorName: "col1",
  tasks: "unused (taskSet given)",
  pendingDir,
  rootCertificate: certificate,
  certificate,
  privateKey: certificate,
});

describe("createCollaborator and pendingDir", () => {
  it("a client that cannot be built releases pendingDir at once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "collaborator-"));
    const pendingDir = join(dir, "pending");
    await assert.rejects(
      createCollaborator(config(pendingDir, join(dir, "missing.pem")), {
        logger: silentLogger,
        taskSet: softmax,
      }),
      CertificateLoadError,
    );
    assert.equal(existsSync(join(pendingDir, ".lock")), false);
    // Free for the next user in this process too.
    await new FileResendBuffer(pendingDir).close();
  });
});

describe("createCollaborator: the config's identity on the wire", () => {
  /** Trains "dense.weight" (the test federation's model, [2, 3]) by adding 1. */
  const plusOne: TaskSet = {
    tasks: {
      train: {
        modelTensors: ["dense.weight"],
        run: async ({ model }) => ({
          dataSize: 1,
          tensors: {
            "dense.weight": {
              shape: [2, 3],
              data: (model["dense.weight"]?.data ?? new Float32Array(6)).map((v) => v + 1),
            },
          },
        }),
      },
    },
  };

  it("sends the configured collaborator name, federation uuid and single certificate CN in every header; an aggregator expecting others refuses them", async () => {
    // Single-certificate mode: collaborator "one" presents the shared certificate "stranger".
    const fed = await startTestFederation({
      collaborators: ["one"],
      aggregator: { singleColCertCommonName: "stranger" },
    });
    try {
      const shared = fed.pki.collaborators.stranger;
      assert.ok(shared);
      const flags = [
        ["--agg-addr", "localhost"],
        ["--agg-port", String(fed.port)],
        ["--aggregator-uuid", AGGREGATOR_UUID],
        ["--root-certificate", fed.pki.caCert],
        ["--certificate", shared.cert],
        ["--private-key", shared.key],
        ["--tasks", "/unused.ts"],
        ["--retry-max-attempts", "1"],
      ].flat();
      const identity = {
        OPENFL_COLLABORATOR_NAME: "one",
        OPENFL_FEDERATION_UUID: FEDERATION_UUID,
        OPENFL_SINGLE_COL_CERT_COMMON_NAME: "stranger",
      };
      const build = async (env: Record<string, string | undefined>) =>
        createCollaborator(loadConfig({ argv: flags, env }), {
          logger: silentLogger,
          taskSet: plusOne,
        });
      const parts = await build(identity);
      try {
        const outcome = await parts.service.run({ signal: AbortSignal.timeout(20_000) });
        assert.deepEqual(outcome, { t: "quit", roundsWorked: 2, tasksRun: 2 });
      } finally {
        await parts.close();
      }
      assert.deepEqual(
        fed.aggregator.state.receivedResults.map((r) => [r.collaborator, r.round, r.taskName]),
        [
          ["one", 0, "train"],
          ["one", 1, "train"],
        ],
      );
      // Each field is checked by the aggregator: a config with another value does not get in.
      for (const [field, env, refusal] of [
        [
          "single certificate CN",
          { ...identity, OPENFL_SINGLE_COL_CERT_COMMON_NAME: undefined },
          /Single collaborator certificate common name in request header does not match/,
        ],
        [
          "federation uuid",
          { ...identity, OPENFL_FEDERATION_UUID: "plan.yaml_00000000" },
          /Federation UUID in request header does not match/,
        ],
        [
          "collaborator name",
          { ...identity, OPENFL_COLLABORATOR_NAME: "two" },
          /collaborator_common_name: \|two\|/,
        ],
      ] as const) {
        const refused = await build(env);
        try {
          await assert.rejects(
            refused.client.ping({ signal: AbortSignal.timeout(10_000) }),
            (e: unknown) => e instanceof AggregatorCallError && refusal.test(e.message),
            field,
          );
        } finally {
          await refused.close();
        }
      }
    } finally {
      await fed.close();
    }
  });
});

describe("createCollaborator: useDeltaUpdates on the wire", () => {
  const plusOne: TaskSet = {
    tasks: {
      train: {
        modelTensors: ["dense.weight"],
        run: async ({ model }) => ({
          dataSize: 1,
          tensors: {
            "dense.weight": {
              shape: [2, 3],
              data: (model["dense.weight"]?.data ?? new Float32Array(6)).map((v) => v + 1),
            },
          },
        }),
      },
    },
  };

  for (const [flag, expected] of [
    [
      "--no-use-delta-updates",
      [
        [0, "model", true],
        [1, "model", true],
      ],
    ],
    [
      "--use-delta-updates",
      [
        [0, "model", true],
        [1, "aggregated,delta,compressed", false],
      ],
    ],
  ] as const) {
    it(`${flag}: the GetAggregatedTensor requests the aggregator receives ask for ${flag === "--use-delta-updates" ? "the aggregated delta from round 1" : "the whole model every round"}`, async () => {
      const fed = await startTestFederation({ collaborators: ["one"] });
      try {
        const identity = fed.pki.collaborators.one;
        assert.ok(identity);
        const config = loadConfig({
          argv: [
            ["--agg-addr", "localhost", "--agg-port", String(fed.port)],
            ["--aggregator-uuid", AGGREGATOR_UUID, "--federation-uuid", FEDERATION_UUID],
            ["--collaborator-name", "one", "--root-certificate", fed.pki.caCert],
            ["--certificate", identity.cert, "--private-key", identity.key],
            ["--tasks", "/unused.ts", "--retry-max-attempts", "1", flag],
          ].flat(),
          env: {},
        });
        const parts = await createCollaborator(config, { logger: silentLogger, taskSet: plusOne });
        try {
          const outcome = await parts.service.run({ signal: AbortSignal.timeout(20_000) });
          assert.deepEqual(outcome, { t: "quit", roundsWorked: 2, tasksRun: 2 });
        } finally {
          await parts.close();
        }
        assert.deepEqual(
          fed.aggregator.state.tensorRequestsReceived.map((r) => [
            r.roundNumber,
            r.tags.join(","),
            r.requireLossless,
          ]),
          expected,
        );
        // Either way the federation's model is the same: [1..6] + 1 per round.
        assert.deepEqual(
          [...(fed.aggregator.state.model["dense.weight"]?.data ?? [])],
          [3, 4, 5, 6, 7, 8],
        );
      } finally {
        await fed.close();
      }
    });
  }
});

describe("createCollaborator: compressionPipeline reaches the service", () => {
  it("decodes with the configured pipeline: the reference aggregator's plain tensors are refused under RandomShiftPipeline, naming the layout", async () => {
    const fed = await startTestFederation({ collaborators: ["one"] });
    try {
      const identity = fed.pki.collaborators.one;
      assert.ok(identity);
      const argv = (...extra: string[]) =>
        [
          ["--agg-addr", "localhost", "--agg-port", String(fed.port)],
          ["--aggregator-uuid", AGGREGATOR_UUID, "--federation-uuid", FEDERATION_UUID],
          ["--collaborator-name", "one", "--root-certificate", fed.pki.caCert],
          ["--certificate", identity.cert, "--private-key", identity.key],
          ["--tasks", "/unused.ts", "--retry-max-attempts", "1", ...extra],
        ].flat();
      const config = loadConfig({
        argv: argv("--compression-pipeline", "openfl.pipelines.RandomShiftPipeline"),
        env: {},
      });
      const parts = await createCollaborator(config, {
        logger: silentLogger,
        taskSet: {
          tasks: {
            train: { modelTensors: ["dense.weight"], run: async () => ({ dataSize: 1 }) },
          },
        },
      });
      try {
        await assert.rejects(
          parts.service.run({ signal: AbortSignal.timeout(20_000) }),
          (e: unknown) =>
            e instanceof Error &&
            e.name === "TensorCodecError" &&
            /tensor 'dense\.weight'.*RandomShiftPipeline/.test(e.message),
        );
      } finally {
        await parts.close();
      }
      // A pipeline setting without a pipeline is refused before anything connects.
      await assert.rejects(
        createCollaborator(loadConfig({ argv: argv("--p-sparsity", "0.5"), env: {} }), {
          logger: silentLogger,
          taskSet: { tasks: {} },
        }),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.key === "pSparsity" &&
          /setting of compressionPipeline, which is not set/.test(e.message),
      );
    } finally {
      await fed.close();
    }
  });
});

describe("createCollaborator: the service's own config keys", () => {
  it("maxSleepSeconds caps the aggregator's 10 s no-task sleep, and idleWarningSeconds sets when the wait is warned about", async () => {
    const fed = await startTestFederation({ collaborators: ["one", "two"] });
    const stop = new AbortController();
    const deadline = setTimeout(() => stop.abort(new Error("test deadline")), 10_000);
    try {
      const identity = fed.pki.collaborators.one;
      assert.ok(identity);
      const config = loadConfig({
        argv: [
          ["--agg-addr", "localhost", "--agg-port", String(fed.port)],
          ["--aggregator-uuid", AGGREGATOR_UUID, "--federation-uuid", FEDERATION_UUID],
          ["--collaborator-name", "one", "--root-certificate", fed.pki.caCert],
          ["--certificate", identity.cert, "--private-key", identity.key],
          ["--tasks", "/unused.ts", "--max-sleep-seconds", "0.05"],
          ["--idle-warning-seconds", "1"],
        ].flat(),
        env: {},
      });
      const events: string[] = [];
      const parts = await createCollaborator(config, {
        logger: (_level, event) => events.push(event),
        taskSet: {
          tasks: {
            train: {
              modelTensors: ["dense.weight"],
              run: async ({ model }) => ({
                dataSize: 1,
                tensors: { "dense.weight": model["dense.weight"] ?? { shape: [], data: [] } },
              }),
            },
          },
        },
      });
      const results = (round: number) =>
        new Promise<number>((resolve) => {
          const off = fed.aggregator.state.onResults((r) => {
            if (r.collaborator === "one" && r.round === round) {
              off();
              resolve(Date.now());
            }
          });
        });
      const round0 = results(0);
      const round1 = results(1);
      const run = parts.service.run({ signal: stop.signal });
      try {
        await round0;
        // "one" waits for "two" (the aggregator says sleep 10 s) long enough to be warned.
        await new Promise((resolve) => setTimeout(resolve, 1300));
        assert.ok(events.includes("still no tasks"), JSON.stringify(events));
        const two = fed.client("two");
        await two.sendLocalTaskResults(0, "train", 1, [
          encodeNamedTensor(
            { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
            { name: "dense.weight", roundNumber: 0, tags: ["trained"] },
          ),
        ]);
        const roundEnded = Date.now();
        const next = await Promise.race([round1, run.then(() => undefined)]);
        assert.ok(next !== undefined, "one stopped before round 1");
        assert.ok(
          next - roundEnded < 2000,
          `round 1 began ${next - roundEnded} ms after round 0 ended`,
        );
      } finally {
        stop.abort();
        await run;
        await parts.close();
      }
    } finally {
      clearTimeout(deadline);
      await fed.close();
    }
  });
});
