// What OpenFL 1.9's REAL Aggregator refuses, our ReferenceAggregator refuses too. Both get the
// same round from collaborator1 through our Node client: OpenFL's default three tasks, with the
// validation metrics tagged as OpenFL's runners tag them, or colliding (both plain "metric").
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { AggregatorCallError, encodeNamedTensor, type NamedTensor } from "@openfl-connect/core";
import { AggregatorGRPCClient } from "@openfl-connect/node";
import { ReferenceAggregator, silentLogger } from "@openfl-connect/reference-aggregator";
import {
  collaboratorConnection,
  createTestPki,
  type TestPki,
} from "@openfl-connect/reference-aggregator/pki";
import { type OpenFLFederation, startOpenFLFederation } from "./openfl-federation.js";
import { AGGREGATOR_UUID, FEDERATION_UUID, removeDir } from "./openfl-fixture.js";

const accuracy = (value: number, tags: string[]) =>
  encodeNamedTensor(
    { shape: [], data: [value] },
    { name: "accuracy", roundNumber: 0, tags: ["metric", ...tags], report: true },
  );
const trainResults: NamedTensor[] = [
  encodeNamedTensor(
    { shape: [3, 4], data: new Float32Array(12).fill(0.5) },
    { name: "dense.weight", roundNumber: 0, tags: ["trained"] },
  ),
  encodeNamedTensor(
    { shape: [3], data: new Float32Array(3).fill(0.5) },
    { name: "dense.bias", roundNumber: 0, tags: ["trained"] },
  ),
];

/** Sends one round of the three default tasks; returns the outcome of each upload. */
async function sendRound(
  client: AggregatorGRPCClient,
  localTags: string[],
  aggTags: string[],
): Promise<(Code | "ok")[]> {
  const uploads: [string, NamedTensor[]][] = [
    ["aggregated_model_validation", [accuracy(0.25, aggTags)]],
    ["train", trainResults],
    ["locally_tuned_model_validation", [accuracy(0.75, localTags)]],
  ];
  const outcomes: (Code | "ok")[] = [];
  for (const [task, tensors] of uploads) {
    try {
      await client.sendLocalTaskResults(0, task, 10, tensors);
      outcomes.push("ok");
    } catch (error) {
      assert.ok(error instanceof AggregatorCallError, String(error));
      outcomes.push(ConnectError.from(error.cause).code);
    }
  }
  return outcomes;
}

describe("ReferenceAggregator refuses what OpenFL's real Aggregator refuses", () => {
  let dir: string;
  let pki: TestPki;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "aggregator-parity-"));
    pki = await createTestPki(join(dir, "pki"), { collaborators: ["collaborator1"] });
  });
  after(() => removeDir(dir));

  /** Runs `body` against a fresh OpenFL Aggregator and a fresh reference aggregator. */
  async function onBoth(body: (client: AggregatorGRPCClient) => Promise<unknown>) {
    const outDir = await mkdtemp(join(dir, "openfl-"));
    const openfl: OpenFLFederation = await startOpenFLFederation({
      pki,
      outDir,
      collaborators: ["collaborator1"],
      rounds: 1,
      useDeltaUpdates: false,
    });
    const reference = new ReferenceAggregator({
      aggregatorUuid: AGGREGATOR_UUID,
      federationUuid: FEDERATION_UUID,
      authorizedCollaborators: ["collaborator1"],
      rounds: 1,
      initialModel: {
        "dense.weight": { shape: [3, 4], data: new Float32Array(12) },
        "dense.bias": { shape: [3], data: new Float32Array(3) },
      },
      tls: {
        rootCertificate: pki.caCert,
        certificate: pki.server.cert,
        privateKey: pki.server.key,
      },
      logger: silentLogger,
    });
    const { port } = await reference.start();
    const clientFor = (p: number) =>
      new AggregatorGRPCClient({
        ...collaboratorConnection(pki, "collaborator1", {
          port: p,
          aggregatorUuid: AGGREGATOR_UUID,
          federationUuid: FEDERATION_UUID,
        }),
        // One attempt: the aggregator's answer, not the client's retry policy, is compared.
        retry: { ambiguousFailureAttempts: 1, intervalMs: 50 },
        warn: () => {},
      });
    const clients = [clientFor(openfl.port), clientFor(port)];
    try {
      return await Promise.all(clients.map(body));
    } finally {
      await Promise.all(clients.map((c) => c.disconnect()));
      await reference.stop();
      await openfl.stop();
    }
  }

  it("validation metrics tagged validate_agg / validate_local: both accept the round and say quit", async () => {
    const [openfl, reference] = await onBoth(async (client) => {
      const outcomes = await sendRound(client, ["validate_local"], ["validate_agg"]);
      return { outcomes, quit: (await client.getTasks()).quit };
    });
    assert.deepEqual(openfl, { outcomes: ["ok", "ok", "ok"], quit: true });
    assert.deepEqual(reference, openfl);
  });

  it("both validation tasks sending 'accuracy' tagged only 'metric': both fail the last upload with UNKNOWN", async () => {
    const [openfl, reference] = await onBoth(async (client) => ({
      outcomes: await sendRound(client, [], []),
      quit: (await client.getTasks()).quit,
    }));
    assert.deepEqual(openfl, { outcomes: ["ok", "ok", Code.Unknown], quit: false });
    assert.deepEqual(reference, openfl);
  });
});
