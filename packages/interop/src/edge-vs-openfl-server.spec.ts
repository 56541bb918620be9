// The resource attacks of issue 20 through real Envoy (the generator's config for a test input,
// plain-HTTP listener on loopback) in front of OpenFL 1.9's REAL AggregatorGRPCServer: 8 worker
// threads, up to 5 s of sleep per refused sender, and an upload lock held while the upload's
// stream is read. A TCP relay between Envoy and the server counts what reaches it. For each
// attack, the figure that matters: another collaborator (Bob, connecting to the server directly
// as OpenFL's Python collaborators do) is still answered within 2 s.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { AggregatorCallError, encodeNamedTensor } from "@openfl-connect/core";
import { AggregatorGRPCClient } from "@openfl-connect/node";
import { collaboratorConnection, type TestPki } from "@openfl-connect/reference-aggregator/pki";
import {
  bytesUpstream,
  envoyWebClient,
  grpcWebFrame,
  grpcWebPost,
  type RunningEnvoy,
  stalledCall,
  startEnvoy,
} from "@openfl-connect/test-support/envoy";
import { type FaultProxy, startFaultProxy } from "@openfl-connect/test-support/fault-proxy";
import {
  AGGREGATOR_UUID,
  createInteropPki,
  FEDERATION_UUID,
  type OpenFLServer,
  removeDir,
  startOpenFLServer,
} from "./openfl-fixture.js";

const IDLE_STREAM_S = 3;
/** Within this another collaborator must be answered while an attack runs. */
const OTHERS_ANSWERED_S = 2;

let dir: string;
let pki: TestPki;
let server: OpenFLServer;
let relay: FaultProxy;
let envoy: RunningEnvoy;
let bob: AggregatorGRPCClient;

/** Seconds Bob's direct call to the server takes. */
async function bobSeconds(call: (client: AggregatorGRPCClient) => Promise<unknown>) {
  const t = performance.now();
  await call(bob);
  return (performance.now() - t) / 1000;
}

const bobsResult = () =>
  encodeNamedTensor(
    { shape: [4], data: [1, 2, 3, 4] },
    { name: "conv1.weight", roundNumber: 0, tags: ["trained"] },
  );

const codeOf = (outcome: PromiseSettledResult<unknown>) =>
  outcome.status === "rejected" && outcome.reason instanceof AggregatorCallError
    ? Code[outcome.reason.code]
    : outcome.status;

describe("attacks through Envoy on OpenFL 1.9's real AggregatorGRPCServer", () => {
  before(async () => {
    ({ dir, pki } = await createInteropPki(["alice", "bob"]));
    server = await startOpenFLServer({
      pki,
      recordDir: join(dir, "records"),
      collaborators: ["alice", "bob"],
      tasks: ["train"],
      tensorWaitSeconds: 1,
    });
    relay = await startFaultProxy(server.port);
    envoy = await startEnvoy({
      workDir: dir,
      pki,
      collaborators: [{ name: "alice", claim: "alice" }],
      aggregatorPort: relay.port,
      dashboardOrigin: "https://dashboard.test",
      listener: "plaintext",
      limits: { stream_idle_timeout_s: IDLE_STREAM_S },
    });
    bob = new AggregatorGRPCClient({
      ...collaboratorConnection(pki, "bob", {
        port: server.port,
        aggregatorUuid: AGGREGATOR_UUID,
        federationUuid: FEDERATION_UUID,
      }),
      retry: { intervalMs: 50, maxAttempts: 1 },
      warn: () => {},
    });
    await bob.ping();
  });
  after(async () => {
    await bob?.disconnect();
    await envoy?.stop();
    await relay?.close();
    await server?.stop();
    if (dir) await removeDir(dir);
  });

  it("8 nearly idle Ping streams from one read-only user: held at the edge (0 bytes upstream), Bob answered", async (t) => {
    const mallory = envoy.token({ sub: "mallory@example.org", collaborator: "alice" });
    const { result, bytes } = await bytesUpstream(relay, async () => {
      const calls = Array.from({ length: 8 }, () => stalledCall(envoy, mallory, 10, "Ping"));
      await Promise.all(calls.map((c) => c.written));
      const seconds = await bobSeconds((c) => c.ping());
      const ended = await Promise.all(calls.map((c) => c.closed));
      return { seconds, ended };
    });
    t.diagnostic(`Bob's ping ${result.seconds.toFixed(3)} s; ${bytes} bytes upstream`);
    assert.ok(result.seconds < OTHERS_ANSWERED_S, `Bob's ping took ${result.seconds} s`);
    assert.equal(bytes, 0, "bytes of the held Pings reached the server");
    // Each held stream is reset once it has been silent for stream_idle_timeout_s.
    for (const e of result.ended) assert.ok(e.seconds < IDLE_STREAM_S + 3, JSON.stringify(e));
  });

  it("40 Pings naming Bob as sender: at most max_calls_per_identity reach the server (it sleeps per refusal), the rest 503, Bob answered", async (t) => {
    const mallory = envoy.token({ sub: "mallory@example.org", collaborator: "alice" });
    const attack = Promise.allSettled(
      Array.from({ length: 40 }, () => envoyWebClient(envoy, mallory, "bob").ping()),
    );
    await new Promise((r) => setTimeout(r, 300));
    const seconds = await bobSeconds((c) => c.ping());
    assert.ok(seconds < OTHERS_ANSWERED_S, `Bob's ping took ${seconds} s`);
    const codes = (await attack).map(codeOf);
    const refusedByServer = codes.filter((c) => c === "Unauthenticated").length;
    const shedAtEdge = codes.filter((c) => c === "Unavailable").length;
    t.diagnostic(`Bob's ping ${seconds.toFixed(3)} s; ${refusedByServer} of 40 reached the server`);
    assert.ok(refusedByServer <= 4, codes.join(","));
    assert.equal(refusedByServer + shedAtEdge, 40, codes.join(","));
  });

  it("a stalled upload is held at the edge, so OpenFL's upload lock is free: Bob's upload answered", async (t) => {
    const alice = envoy.token({ sub: "alice@example.org", collaborator: "alice", upload: true });
    const { result, bytes } = await bytesUpstream(relay, async () => {
      const upload = stalledCall(envoy, alice, 1024 * 1024);
      await upload.written;
      const seconds = await bobSeconds((c) =>
        c.sendLocalTaskResults(0, "train", 1, [bobsResult()]),
      );
      const ended = await upload.closed;
      return { seconds, ended };
    });
    t.diagnostic(`Bob's upload ${result.seconds.toFixed(3)} s; ${bytes} bytes upstream`);
    assert.ok(result.seconds < OTHERS_ANSWERED_S, `Bob's upload took ${result.seconds} s`);
    assert.equal(bytes, 0, "bytes of the stalled upload reached the server");
    // Ended by the edge once silent for stream_idle_timeout_s: 408, never an answer upstream.
    assert.equal(result.ended.status, 408, JSON.stringify(result.ended));
    assert.ok(result.ended.seconds >= IDLE_STREAM_S - 0.5, JSON.stringify(result.ended));
    assert.ok(await server.recordFiles().then((f) => f.some((n) => n.includes("-bob-"))));
  });

  it("InteropRelay, unknown methods, other spellings and the admin's /logging: 404 at the edge, 0 bytes upstream", async (t) => {
    const token = envoy.token({ sub: "mallory@example.org", collaborator: "alice", upload: true });
    const paths = [
      "/openfl.aggregator.Aggregator/InteropRelay",
      "/openfl.aggregator.Aggregator/Frobnicate",
      "/openfl.aggregator.Aggregator/ping",
      "/logging?level=debug",
    ];
    const { result, bytes } = await bytesUpstream(relay, () =>
      Promise.all(
        paths.map((path) => grpcWebPost(envoy.proxyUrl, path, { token }).then((r) => r.status)),
      ),
    );
    t.diagnostic(`${paths.join(", ")}: ${result.join(", ")}; ${bytes} bytes upstream`);
    assert.deepEqual(result, [404, 404, 404, 404]);
    assert.equal(bytes, 0);
  });

  it("a 1 MiB read-only Ping: 413 at the edge, 0 bytes upstream", async (t) => {
    const token = envoy.token({ sub: "mallory@example.org", collaborator: "alice" });
    const { result, bytes } = await bytesUpstream(relay, () =>
      grpcWebPost(envoy.proxyUrl, "/openfl.aggregator.Aggregator/Ping", {
        token,
        body: grpcWebFrame(1024 * 1024),
      }),
    );
    assert.equal(result.status, 413);
    assert.equal(bytes, 0);
    t.diagnostic(`1 MiB Ping: ${result.status}; ${bytes} bytes upstream`);
  });
});
