// One user cannot hold the aggregator: through real Envoy (the generator's config for a test
// input, plain-HTTP listener on loopback) in front of the reference aggregator, which, like
// OpenFL's server, holds a refused call for a while before answering. Each identity's cluster
// lets at most max_calls_per_identity calls through at once; the rest get 503 at the edge at
// once, and another user's calls are answered meanwhile. Each user (token sub) has its own
// token bucket: past its burst, 429 at the edge, while another user of the same identity and
// users of other identities are answered.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { AggregatorCallError } from "@openfl-connect/core";
import { envoyWebClient } from "./envoy-web-client.js";
import {
  type FederationBehindEnvoy,
  startFederationBehindEnvoy,
} from "./federation-behind-envoy.js";
import type { RunningEnvoy } from "./start-envoy.js";

const MAX_CALLS = 2;
const REFUSAL_DELAY_MS = 1500;
const ATTACK_CALLS = 8;
const BURST = 12;

let edge: FederationBehindEnvoy;
let envoy: RunningEnvoy;

const webClient = (token: string, collaboratorName: string) =>
  envoyWebClient(envoy, token, collaboratorName);

const codeOf = (outcome: PromiseSettledResult<unknown>) =>
  outcome.status === "rejected" && outcome.reason instanceof AggregatorCallError
    ? outcome.reason.code
    : outcome.status;

describe("per-identity limits at the edge", () => {
  before(async () => {
    edge = await startFederationBehindEnvoy({
      collaborators: ["alice", "bob"],
      aggregator: { authFailureDelayMs: [REFUSAL_DELAY_MS, REFUSAL_DELAY_MS] },
      limits: {
        max_calls_per_identity: MAX_CALLS,
        request_burst_per_user: BURST,
        requests_per_user_per_s: 1,
      },
    });
    envoy = edge.envoy;
  });
  after(() => edge?.close());

  it("lets one identity hold at most max_calls_per_identity calls; the rest are 503 at once; others are served", async (t) => {
    // Mallory's token maps to alice; each call names bob as sender, which the aggregator refuses
    // after holding the call REFUSAL_DELAY_MS (as OpenFL's server holds a worker thread).
    const mallory = envoy.token({ sub: "mallory@example.org", collaborator: "alice" });
    const attack = Promise.allSettled(
      Array.from({ length: ATTACK_CALLS }, () => webClient(mallory, "bob").ping()),
    );
    // Meanwhile Bob, another identity, is answered.
    await new Promise((r) => setTimeout(r, 200));
    const bob = envoy.token({ sub: "bob@example.org", collaborator: "bob" });
    const bobStarted = performance.now();
    await webClient(bob, "bob").ping();
    const bobSeconds = (performance.now() - bobStarted) / 1000;
    assert.ok(bobSeconds < 2, `bob's ping took ${bobSeconds.toFixed(2)} s`);

    const outcomes = await attack;
    const codes = outcomes.map(codeOf);
    const refusedByAggregator = codes.filter((c) => c === Code.Unauthenticated).length;
    const shedAtEdge = codes.filter((c) => c === Code.Unavailable).length;
    assert.ok(refusedByAggregator <= MAX_CALLS, `codes: ${codes.join(", ")}`);
    assert.ok(shedAtEdge >= ATTACK_CALLS - MAX_CALLS, `codes: ${codes.join(", ")}`);
    assert.equal(refusedByAggregator + shedAtEdge, ATTACK_CALLS, `codes: ${codes.join(", ")}`);
    t.diagnostic(
      `Bob's ping ${bobSeconds.toFixed(3)} s; ${refusedByAggregator} of ${ATTACK_CALLS} held calls reached the aggregator, ${shedAtEdge} got 503 at the edge`,
    );
  });

  it("gives each user (token sub) its own rate: past its burst 429 at the edge, while other users are answered", async (t) => {
    // A valid ping as `name` (answered at once); "429" when the edge refused it for the rate
    // (Envoy's 429, which the client reads as UNAVAILABLE with Envoy's reason).
    const ping = (token: string, name: string) =>
      webClient(token, name)
        .ping()
        .then(
          () => "ok",
          (error: unknown) =>
            error instanceof AggregatorCallError &&
            error.code === Code.Unavailable &&
            /local_rate_limited/.test(error.message)
              ? "429"
              : `error: ${(error as Error).message}`,
        );
    // Eve, as alice, sends one call after another (well inside the concurrency bound).
    const eve = envoy.token({ sub: "eve@example.org", collaborator: "alice" });
    const statuses: string[] = [];
    for (let i = 0; i < BURST + 6; i++) statuses.push(await ping(eve, "alice"));
    const limited = statuses.filter((s) => s === "429").length;
    // The bucket refills one call a second, so a slow machine lets one or two more through.
    assert.ok(limited >= 3, `statuses: ${statuses.join(",")}`);
    assert.ok(
      statuses.slice(0, BURST).every((s) => s === "ok"),
      `statuses: ${statuses.join(",")}`,
    );
    // Frank uses the same identity (alice) but is another user: his bucket is full.
    const frank = envoy.token({ sub: "frank@example.org", collaborator: "alice" });
    assert.equal(await ping(frank, "alice"), "ok");
    const bob = envoy.token({ sub: "bob@example.org", collaborator: "bob" });
    assert.equal(await ping(bob, "bob"), "ok");
    assert.equal(await ping(eve, "alice"), "429", "eve's bucket is still empty");
    t.diagnostic(
      `${limited} of ${statuses.length} calls past a burst of ${BURST}: 429; other users answered`,
    );
  });
});
