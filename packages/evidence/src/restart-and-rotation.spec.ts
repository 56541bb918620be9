// The aggregator stopped (every socket destroyed) and restarted in the middle of a round, and
// restarted with a server certificate from a new CA: clients heal and every result arrives once.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AggregatorCallError } from "@openfl-connect/core";
import type { AggregatorGRPCClient } from "@openfl-connect/node";
import { type FaultProxy, startFaultProxy } from "@openfl-connect/test-support/fault-proxy";
import { activeResources, waitForNoLeaks } from "./active-resources.js";
import { type Federation, startFederation } from "./federation.js";
import { MiB, sha256, trainedTensor } from "./payloads.js";
import { seededRandom } from "./seeded-random.js";

const TENSOR_BYTES = 4 * MiB;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** OpenFL's collaborator loop for `rounds` rounds: tasks, model, upload; poll when idle. */
async function collaboratorLoop(client: AggregatorGRPCClient, name: string, seed: number) {
  const random = seededRandom(seed);
  for (;;) {
    const assignment = await client.getTasks();
    if (assignment.quit) return;
    if (assignment.tasks.length === 0) {
      await sleep(30);
      continue;
    }
    await client.getAggregatedTensor("w", assignment.roundNumber, {
      tags: ["model"],
      requireLossless: true,
    });
    const bytes = random.bytes(TENSOR_BYTES);
    // Finite floats so FedAvg stays finite: values in [0, 1).
    const floats = new Float32Array(bytes.buffer, 0, TENSOR_BYTES / 4);
    for (let i = 0; i < floats.length; i++) floats[i] = (bytes[i] ?? 0) / 256;
    await client.sendLocalTaskResults(assignment.roundNumber, "train", 10, [
      trainedTensor("w", assignment.roundNumber, new Uint8Array(floats.buffer)),
    ]);
    void name;
  }
}

describe("the aggregator stopped and restarted in the middle of a round", () => {
  const names = ["alpha", "bravo", "charlie"];
  let federation: Federation;
  let proxy: FaultProxy;
  let resourcesBefore: Map<string, number>;

  before(async () => {
    resourcesBefore = activeResources();
    federation = await startFederation({
      collaborators: names,
      rounds: 2,
      initialModel: { w: { shape: [TENSOR_BYTES / 4], data: new Float32Array(TENSOR_BYTES / 4) } },
      aggregator: { tensorWaitMs: 5000 },
    });
    proxy = await startFaultProxy(federation.port);
  });

  after(async () => {
    await proxy.close();
    await federation.close();
  });

  it("every collaborator finishes both rounds and each result is aggregated once", async () => {
    const clients = names.map((n) =>
      federation.client(n, { aggPort: proxy.port, retry: { intervalMs: 100 } }),
    );
    const loops = clients.map((c, i) => collaboratorLoop(c, names[i] as string, i + 1));
    // Stop once round 0's uploads are under way, then again once round 1's are.
    for (const round of [0, 1]) {
      while (federation.aggregator.state.currentRound < round) await sleep(2);
      const start = proxy.bytesToServer;
      while (proxy.bytesToServer < start + 1.5 * TENSOR_BYTES) await sleep(2);
      assert.equal(federation.aggregator.state.currentRound, round, "stopped mid-round");
      await federation.aggregator.stop();
      await sleep(300);
      await federation.aggregator.start();
    }
    await Promise.all(loops);
    await Promise.all(clients.map((c) => c.disconnect()));
    const state = federation.aggregator.state;
    assert.equal(state.experimentFinished, true);
    assert.deepEqual(
      state.roundSummaries.map((s) => s.collaborators),
      [names, names].map((n) => [...n].sort()),
    );
    const keys = federation.arrivals.map((a) => `${a.collaborator}/${a.round}`).sort();
    assert.deepEqual(keys, [...new Set(keys)], "no result arrived twice");
    assert.equal(keys.length, names.length * 2);
  });

  it("leaves no sockets, servers or timers behind", async () => {
    await proxy.close();
    await federation.close();
    assert.deepEqual(await waitForNoLeaks(resourcesBefore), {});
  });
});

describe("CA rotation: the aggregator restarts with a certificate from a new CA", () => {
  let federation: Federation;
  let proxy: FaultProxy;
  let resourcesBefore: Map<string, number>;

  before(async () => {
    resourcesBefore = activeResources();
    federation = await startFederation({ collaborators: ["alpha", "bravo"], tasks: ["a", "b"] });
    proxy = await startFaultProxy(federation.port);
  });

  after(async () => {
    await proxy.close();
    await federation.close();
  });

  it("with refetchServerCertificate, an upload in flight during the rotation completes once", async () => {
    let currentCa = federation.pki.caCert;
    let refetches = 0;
    const client = federation.client("alpha", {
      aggPort: proxy.port,
      retry: { intervalMs: 50 },
      refetchServerCertificate: () => {
        refetches++;
        return currentCa;
      },
    });
    await client.ping();
    const payload = seededRandom(7).bytes(8 * MiB);
    const upload = client.sendLocalTaskResults(0, "a", 10, [trainedTensor("w", 0, payload)]);
    const start = proxy.bytesToServer;
    while (proxy.bytesToServer < start + 2 * MiB) await sleep(2);
    currentCa = await federation.rotateServerCa();
    await upload;
    assert.ok(refetches >= 1, "the callback was asked for the new CA");
    assert.deepEqual(
      federation.arrivals.map((a) => [a.collaborator, a.taskName, a.sha256.w]),
      [["alpha", "a", sha256(payload)]],
    );
    await client.disconnect();
  });

  it("without the callback, the new server certificate fails verification at once, typed", async () => {
    const client = federation.client("bravo", { aggPort: proxy.port, retry: { intervalMs: 50 } });
    const t0 = performance.now();
    await assert.rejects(
      client.sendLocalTaskResults(0, "b", 10, [trainedTensor("w", 0, new Uint8Array(64))]),
      (e: unknown) =>
        e instanceof AggregatorCallError &&
        e.reason === "cannot-heal" &&
        e.attempts === 1 &&
        /TLS certificate did not verify/.test(e.message),
    );
    assert.ok(performance.now() - t0 < 5000);
    await client.disconnect();
  });

  it("leaves no sockets, servers or timers behind", async () => {
    await proxy.close();
    await federation.close();
    assert.deepEqual(await waitForNoLeaks(resourcesBefore), {});
  });
});
