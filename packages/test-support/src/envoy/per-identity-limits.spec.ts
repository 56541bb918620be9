// One user cannot hold the aggregator: through real Envoy (the generator's config for a test
// input, plain-HTTP listener on loopback) in front of the reference aggregator, which, like
// OpenFL's server, holds a refused call for a while before answering. Each identity's cluster
// lets at most max_calls_per_identity calls through at once; the rest get 503 at the edge at
// once, and another user's calls are answered meanwhile.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { AggregatorCallError } from "@openfl-connect/core";
import { startTestFederation, type TestFederation } from "../reference-federation.js";
import { envoyWebClient } from "./envoy-web-client.js";
import { type RunningEnvoy, startEnvoy } from "./start-envoy.js";

const MAX_CALLS = 2;
const REFUSAL_DELAY_MS = 1500;
const ATTACK_CALLS = 8;

let federation: TestFederation;
let envoy: RunningEnvoy;

const webClient = (token: string, collaboratorName: string) =>
  envoyWebClient(envoy, token, collaboratorName);

const codeOf = (outcome: PromiseSettledResult<unknown>) =>
  outcome.status === "rejected" && outcome.reason instanceof AggregatorCallError
    ? outcome.reason.code
    : outcome.status;

describe("per-identity limits at the edge", () => {
  before(async () => {
    federation = await startTestFederation({
      collaborators: ["alice", "bob"],
      aggregator: { authFailureDelayMs: [REFUSAL_DELAY_MS, REFUSAL_DELAY_MS] },
    });
    envoy = await startEnvoy({
      workDir: federation.dir,
      pki: federation.pki,
      collaborators: [
        { name: "alice", claim: "alice" },
        { name: "bob", claim: "bob" },
      ],
      aggregatorPort: federation.port,
      dashboardOrigin: "https://dashboard.test",
      listener: "plaintext",
      limits: { max_calls_per_identity: MAX_CALLS },
    });
  });
  after(async () => {
    await envoy?.stop();
    await federation?.close();
  });

  it("lets one identity hold at most max_calls_per_identity calls; the rest are 503 at once; others are served", async () => {
    // Mallory's token maps to alice; each call names bob as sender, which the aggregator refuses
    // after holding the call REFUSAL_DELAY_MS (as OpenFL's server holds a worker thread).
    const mallory = envoy.token({ sub: "mallory@example.org", collaborator: "alice" });
    const attack = Promise.allSettled(
      Array.from({ length: ATTACK_CALLS }, () => webClient(mallory, "bob").ping()),
    );
    // Meanwhile Bob, another identity, is answered.
    await new Promise((r) => setTimeout(r, 200));
    const bob = envoy.token({ sub: "bob@example.org", collaborator: "bob" });
    const t = performance.now();
    await webClient(bob, "bob").ping();
    const bobSeconds = (performance.now() - t) / 1000;
    assert.ok(bobSeconds < 2, `bob's ping took ${bobSeconds.toFixed(2)} s`);

    const outcomes = await attack;
    const codes = outcomes.map(codeOf);
    const refusedByAggregator = codes.filter((c) => c === Code.Unauthenticated).length;
    const shedAtEdge = codes.filter((c) => c === Code.Unavailable).length;
    assert.ok(refusedByAggregator <= MAX_CALLS, `codes: ${codes.join(", ")}`);
    assert.ok(shedAtEdge >= ATTACK_CALLS - MAX_CALLS, `codes: ${codes.join(", ")}`);
    assert.equal(refusedByAggregator + shedAtEdge, ATTACK_CALLS, `codes: ${codes.join(", ")}`);
  });
});
