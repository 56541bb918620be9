// One user's piled-up uploads cannot starve the edge. Through real Envoy (the generator's config
// for a test input with a small heap, plain-HTTP listener on loopback) in front of the reference
// aggregator: Envoy holds each upload's body whole before any of it goes upstream, so Alice can
// make it hold memory by opening uploads and stalling near their end. Past 60 % of the heap the
// overload manager resets the streams holding the most memory first (hers), and Bob's small
// upload is still answered. Fails on a config without reset_high_memory_stream: nothing is
// reset, and her streams stay until the heap is full.
import assert from "node:assert/strict";
import { connect } from "node:http2";
import { after, before, describe, it } from "node:test";
import { encodeNamedTensor } from "@openfl-connect/core";
import { envoyWebClient } from "./envoy-web-client.js";
import {
  type FederationBehindEnvoy,
  startFederationBehindEnvoy,
} from "./federation-behind-envoy.js";
import { stalledCall } from "./stalled-call.js";
import type { RunningEnvoy } from "./start-envoy.js";

const MIB = 1 << 20;
const HEAP_BYTES = 256 * MIB;
const ATTACK_STREAMS = 4;
const BYTES_PER_STREAM = 56 * MIB;

let edge: FederationBehindEnvoy;
let envoy: RunningEnvoy;

/** Bytes Envoy has allocated now, from the admin interface's /memory. */
async function allocatedBytes(): Promise<number> {
  const { body } = await envoy.admin("/memory");
  return Number((JSON.parse(body) as { allocated: string }).allocated);
}

/** One counter from the admin interface's /stats. */
async function counter(name: string): Promise<number> {
  const { body } = await envoy.admin(`/stats?filter=^${name.replaceAll(".", "\\.")}$`);
  return Number(/: (\d+)/.exec(body)?.[1] ?? 0);
}

describe("memory shedding at the edge", () => {
  before(async () => {
    edge = await startFederationBehindEnvoy({
      collaborators: ["alice", "bob"],
      limits: { max_heap_bytes: HEAP_BYTES, max_calls_per_identity: ATTACK_STREAMS },
    });
    envoy = edge.envoy;
  });
  after(() => edge?.close());

  it("resets the streams holding the most memory (one user's stalled uploads) and still answers another user's upload", async (t) => {
    const before = await allocatedBytes();
    assert.ok(before < 0.3 * HEAP_BYTES, `Envoy starts with ${before} bytes allocated`);
    const alice = envoy.token({ sub: "alice@example.org", collaborator: "alice", upload: true });
    const session = connect(envoy.proxyUrl);
    session.on("error", () => {});
    const uploads = Array.from({ length: ATTACK_STREAMS }, () =>
      stalledCall(session, alice, BYTES_PER_STREAM),
    );
    // The most Envoy holds while her streams pile up (sampled; for the report only).
    let peak = before;
    const sampler = setInterval(() => {
      allocatedBytes().then(
        (bytes) => {
          peak = Math.max(peak, bytes);
        },
        () => {},
      );
    }, 50);
    try {
      // Her streams pile up to ATTACK_STREAMS x BYTES_PER_STREAM (more than the heap) unless
      // some are reset: wait for the first reset, bounded.
      const firstReset = await Promise.race([
        Promise.any(uploads.map((u) => u.closed)),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error("no stream was reset within 30 s")), 30_000),
        ),
      ]);
      assert.equal(firstReset.status, undefined, "a stalled upload was answered, not reset");
      clearInterval(sampler);
      assert.ok((await counter("envoy.overload_actions.reset_high_memory_stream.count")) >= 1);

      const bob = envoy.token({ sub: "bob@example.org", collaborator: "bob", upload: true });
      const client = envoyWebClient(envoy, bob, "bob");
      const tensor = encodeNamedTensor(
        { shape: [1024], data: new Array(1024).fill(1) },
        { name: "w", roundNumber: 0, tags: ["trained"] },
      );
      const bobStarted = performance.now();
      await client.sendLocalTaskResults(0, "train", 1, [tensor]);
      const bobSeconds = (performance.now() - bobStarted) / 1000;
      await client.disconnect();
      assert.ok(bobSeconds < 2, `bob's upload took ${bobSeconds.toFixed(2)} s`);
      const allocated = await allocatedBytes();
      assert.ok(allocated < 0.6 * HEAP_BYTES, "Envoy still holds her uploads");
      const resets = await counter("envoy.overload_actions.reset_high_memory_stream.count");
      t.diagnostic(
        `${ATTACK_STREAMS} x ${BYTES_PER_STREAM / MIB} MiB stalled uploads, ${HEAP_BYTES / MIB} MiB heap: Envoy at most ${(peak / MIB).toFixed(0)} MiB allocated, first reset after ${firstReset.seconds.toFixed(2)} s, ${resets} reset(s); Envoy ${(allocated / MIB).toFixed(0)} MiB allocated after (${(before / MIB).toFixed(0)} before); Bob's upload ${bobSeconds.toFixed(3)} s`,
      );
    } finally {
      clearInterval(sampler);
      session.destroy();
    }
    const outcomes = await Promise.all(uploads.map((u) => u.closed));
    assert.ok(
      outcomes.every((o) => o.status === undefined),
      `no stalled upload is ever answered: ${JSON.stringify(outcomes)}`,
    );
  });
});
