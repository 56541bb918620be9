// The attacks on the browser edge, through real Envoy (the generator's config, as deployed but
// with a plain-HTTP listener on loopback) in front of the reference aggregator over mTLS. A TCP
// relay between Envoy and the aggregator counts every byte that reaches the aggregator, so
// "refused at the edge" is measured on the wire, not taken from Envoy's word.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { encodeNamedTensor } from "@openfl-connect/core";
import { AggregatorWebClient } from "@openfl-connect/web";
import type { FaultProxy } from "../fault-proxy.js";
import { AGGREGATOR_UUID, FEDERATION_UUID, type TestFederation } from "../reference-federation.js";
import { bearer, envoyWebClient } from "./envoy-web-client.js";
import { startFederationBehindEnvoy } from "./federation-behind-envoy.js";
import { grpcWebFrame, grpcWebPost } from "./raw-grpc-web.js";
import { secondsUntilClosed } from "./seconds-until-closed.js";
import { stalledCall } from "./stalled-call.js";
import type { RunningEnvoy } from "./start-envoy.js";
import {
  nothingReachesAggregator as nothingUpstream,
  relayQuiet as quietRelay,
} from "./upstream-bytes.js";

const SERVICE = "/openfl.aggregator.Aggregator/";
const IDLE_CONNECTION_S = 1;
const IDLE_STREAM_S = 2;
const UPLOAD_MAX_BYTES = 2 * 1024 * 1024;

const PAGE_ORIGIN = "https://dashboard.test";

let federation: TestFederation;
let relay: FaultProxy;
let envoy: RunningEnvoy;
let close: () => Promise<void>;

/** Alice acts as collaborator alice, Bob as bob; each may upload only with the upload claim. */
const alice = (upload = false) =>
  envoy.token({ sub: "alice@example.org", collaborator: "alice", upload });

const webClient = (token: string, collaboratorName: string) =>
  envoyWebClient(envoy, token, collaboratorName);

/** An empty gRPC-web message (Envoy decides before the body matters). */
const grpcWeb = (path: string, headers: Record<string, string> = {}) =>
  grpcWebPost(envoy.proxyUrl, path, { headers });

const relayQuiet = () => quietRelay(relay);
const nothingReachesAggregator = <T>(attack: () => Promise<T>) => nothingUpstream(relay, attack);

function testTensor() {
  return encodeNamedTensor(
    { shape: [2], data: [1000, 1000] },
    { name: "w", roundNumber: 0, tags: ["trained"] },
  );
}

/** Waits until Envoy's access log has a line matching `match` (it writes asynchronously). */
async function accessLogLine(match: (line: Record<string, unknown>) => boolean) {
  for (let i = 0; i < 100; i++) {
    const lines = (await readFile(envoy.log, "utf8")).split("\n").filter((l) => l.startsWith("{"));
    const found = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find(match);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`no matching access log line in ${envoy.log}`);
}

describe("attacks on the Envoy edge", () => {
  before(async () => {
    const edge = await startFederationBehindEnvoy({
      collaborators: ["alice", "bob"],
      relay: true,
      dashboardOrigin: PAGE_ORIGIN,
      // Short bounds, so the attacks on them end quickly (shipped: 60 s and 120 s).
      limits: {
        connection_idle_timeout_s: IDLE_CONNECTION_S,
        stream_idle_timeout_s: IDLE_STREAM_S,
        upload_max_bytes: UPLOAD_MAX_BYTES,
      },
    });
    ({ federation, envoy } = edge);
    relay = edge.relay as FaultProxy;
    close = edge.close;
  });
  after(() => close?.());

  it("lets a valid read-only token ping, as the collaborator its claim names (control)", async () => {
    const client = webClient(alice(), "alice");
    await client.ping();
    const tasks = await client.getTasks();
    assert.equal(tasks.roundNumber, 0);
    await client.disconnect();
    assert.ok(relay.bytesToServer > 0);
  });

  it("answers 401 to a request without a token, and nothing reaches the aggregator", async () => {
    const response = await nothingReachesAggregator(() => grpcWeb(`${SERVICE}Ping`));
    assert.equal(response.status, 401);
    assert.match(response.headers.get("grpc-message") ?? "", /Jwt is missing/);
  });

  it("answers 401 to an expired token", async () => {
    const expired = envoy.token({
      sub: "alice@example.org",
      collaborator: "alice",
      expiresIn: -3600,
    });
    const response = await nothingReachesAggregator(() =>
      grpcWeb(`${SERVICE}Ping`, { authorization: `Bearer ${expired}` }),
    );
    assert.equal(response.status, 401);
    assert.match(response.headers.get("grpc-message") ?? "", /Jwt is expired/);
  });

  it("refuses a token for another audience", async () => {
    const token = envoy.token({
      sub: "alice@example.org",
      collaborator: "alice",
      audience: "another-app",
    });
    const response = await nothingReachesAggregator(() =>
      grpcWeb(`${SERVICE}Ping`, { authorization: `Bearer ${token}` }),
    );
    assert.equal(response.status, 403);
    assert.match(response.headers.get("grpc-message") ?? "", /Audiences in Jwt are not allowed/);
  });

  it("refuses a token from another issuer, even signed with a trusted key", async () => {
    const token = envoy.token({
      sub: "alice@example.org",
      collaborator: "alice",
      issuer: "https://evil.example",
    });
    const response = await nothingReachesAggregator(() =>
      grpcWeb(`${SERVICE}Ping`, { authorization: `Bearer ${token}` }),
    );
    assert.equal(response.status, 401);
    assert.match(response.headers.get("grpc-message") ?? "", /Jwt issuer is not configured/);
  });

  it("ignores a token in ?access_token= (401), and does not log it", async () => {
    const token = alice();
    const response = await nothingReachesAggregator(() =>
      grpcWeb(`${SERVICE}Ping?access_token=${token}`),
    );
    assert.equal(response.status, 401);
    assert.match(response.headers.get("grpc-message") ?? "", /Jwt is missing/);
    await accessLogLine((l) => l.status === 401 && l.path === `${SERVICE}Ping`);
    assert.ok(!(await readFile(envoy.log, "utf8")).includes(token), "the token is in Envoy's log");
  });

  it("gives a CORS preflight from another origin no Access-Control-Allow-Origin (and the page's origin one)", async () => {
    const preflight = (origin: string) =>
      nothingReachesAggregator(() =>
        fetch(`${envoy.proxyUrl}${SERVICE}Ping`, {
          method: "OPTIONS",
          headers: {
            origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type,x-grpc-web",
          },
        }),
      );
    const foreign = await preflight("https://evil.example");
    assert.equal(foreign.headers.get("access-control-allow-origin"), null);
    const own = await preflight(PAGE_ORIGIN);
    assert.equal(own.headers.get("access-control-allow-origin"), PAGE_ORIGIN);
  });

  it("answers 404 to paths outside the Aggregator service, with a valid token, and nothing reaches the aggregator", async () => {
    for (const path of [
      "/grpc.health.v1.Health/Check",
      "/",
      `/openfl.aggregator.AggregatorX/Ping`,
      "/x/../openfl.aggregator.Aggregator",
    ]) {
      const response = await nothingReachesAggregator(() =>
        grpcWeb(path, { authorization: `Bearer ${alice(true)}` }),
      );
      assert.equal(response.status, 404, path);
    }
  });

  it("routes only the four methods a browser calls (an allow-list): InteropRelay, unknown methods and other spellings are 404 at the edge", async (t) => {
    const paths = [
      `${SERVICE}InteropRelay`,
      `${SERVICE}Frobnicate`,
      `${SERVICE}ping`,
      `${SERVICE}Ping/`,
      `${SERVICE}GetTasksX`,
      SERVICE,
    ];
    for (const path of paths) {
      const response = await nothingReachesAggregator(() =>
        grpcWeb(path, { authorization: `Bearer ${alice(true)}` }),
      );
      assert.equal(response.status, 404, path);
    }
    t.diagnostic(`${paths.length} paths (InteropRelay included): 404 each, 0 bytes upstream`);
  });

  it("refuses a read method's oversized body at the edge (413): not one byte of it reaches the aggregator", async (t) => {
    // A Ping's real body is ~65 bytes; this one is 1 MiB, from a read-only token.
    const body = grpcWebFrame(1024 * 1024);
    for (const method of ["Ping", "GetTasks", "GetAggregatedTensor"]) {
      const response = await nothingReachesAggregator(() =>
        grpcWebPost(envoy.proxyUrl, `${SERVICE}${method}`, { token: alice(false), body }),
      );
      assert.equal(response.status, 413, method);
    }
    t.diagnostic(
      "1 MiB Ping, GetTasks, GetAggregatedTensor (read-only token): 413 each, 0 bytes upstream",
    );
    // A real read still goes through (control).
    await webClient(alice(), "alice").ping();
  });

  it("keeps the admin interface off the network: an owner-only Unix socket, not reachable through the listener", async (t) => {
    const socket = statSync(envoy.adminSocket);
    assert.ok(socket.isSocket(), `${envoy.adminSocket} is a Unix socket`);
    assert.equal(socket.mode & 0o777, 0o600);
    // What a page (or any local process) tried against the old TCP admin port: through the
    // listener it is just an unrouted path.
    const response = await nothingReachesAggregator(() =>
      fetch(`${envoy.proxyUrl}/logging?level=debug`, { method: "POST" }),
    );
    assert.ok(response.status === 404 || response.status === 401, String(response.status));
    t.diagnostic(
      `admin: Unix socket, mode ${(socket.mode & 0o777).toString(8)}; POST /logging?level=debug on the listener: ${response.status}, 0 bytes upstream`,
    );
  });

  it("closes a connection that never sends a request (idle sockets cannot fill the connection cap)", async (t) => {
    const seconds = await secondsUntilClosed(
      envoy.proxyUrl,
      new Uint8Array(0),
      IDLE_CONNECTION_S + 5,
    );
    assert.ok(seconds >= IDLE_CONNECTION_S - 0.5, `closed after ${seconds} s`);
    t.diagnostic(
      `a silent connection closed after ${seconds.toFixed(2)} s (bound ${IDLE_CONNECTION_S} s)`,
    );
  });

  it("holds a stalling upload at the edge (not one byte reaches the aggregator), resets it, and meanwhile serves another collaborator's upload", async (t) => {
    await relayQuiet();
    const before = relay.bytesToServer;
    // Alice's upload: 1 MiB of a message that never completes, then silence. Streamed through,
    // it would hold OpenFL's upload lock (every collaborator's upload) while it stalls.
    const upload = stalledCall(envoy, alice(true), 1024 * 1024);
    try {
      await upload.written;
      // Bob's ping and upload are served while Alice's upload stalls.
      const bob = envoy.token({ sub: "bob@example.org", collaborator: "bob", upload: true });
      const client = webClient(bob, "bob");
      const bobStarted = performance.now();
      await client.ping();
      await client.sendLocalTaskResults(0, "train", 1, [testTensor()]);
      const bobSeconds = (performance.now() - bobStarted) / 1000;
      await client.disconnect();
      assert.ok(bobSeconds < 2, `bob's ping and upload took ${bobSeconds} s`);
      const bobBytes = relay.bytesToServer - before;
      const ended = await Promise.race([
        upload.closed,
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error("the stalled upload is still open")),
            (IDLE_STREAM_S + 5) * 1000,
          ),
        ),
      ]);
      assert.ok(ended.seconds >= IDLE_STREAM_S - 0.5, `reset after ${ended.seconds} s`);
      await relayQuiet();
      // Bob's calls are a few KiB; none of Alice's 1 MiB went upstream.
      assert.ok(relay.bytesToServer - before < 64 * 1024, `${relay.bytesToServer - before} bytes`);
      assert.ok(bobBytes > 0);
      t.diagnostic(
        `Bob's ping and upload ${bobSeconds.toFixed(3)} s; stalled upload reset after ${ended.seconds.toFixed(2)} s; ${relay.bytesToServer - before - bobBytes} of its bytes upstream`,
      );
    } finally {
      upload.close();
    }
  });

  it("refuses an upload larger than upload_max_bytes at the edge (413): not one byte of it reaches the aggregator", async (t) => {
    const response = await nothingReachesAggregator(() =>
      grpcWebPost(envoy.proxyUrl, `${SERVICE}SendLocalTaskResults`, {
        token: alice(true),
        body: grpcWebFrame(UPLOAD_MAX_BYTES + 1024),
      }),
    );
    assert.equal(response.status, 413);
    t.diagnostic(`an upload of upload_max_bytes + 1 KiB: ${response.status}, 0 bytes upstream`);
  });

  it("answers readiness probes on their own listener (GET /ready only), and nothing there reaches the aggregator", async () => {
    const ready = await nothingReachesAggregator(() => fetch(envoy.readyUrl));
    assert.equal(ready.status, 200);
    const origin = new URL(envoy.readyUrl).origin;
    for (const [path, method] of [
      [`${SERVICE}Ping`, "POST"],
      ["/ready", "POST"],
      ["/stats", "GET"],
      ["/logging?level=debug", "POST"],
    ] as const) {
      const response = await nothingReachesAggregator(() =>
        fetch(`${origin}${path}`, { method, body: method === "POST" ? "" : undefined }),
      );
      assert.equal(response.status, 404, `${method} ${path}`);
    }
  });

  it("answers 403 to an upload with a read-only token, and nothing reaches the aggregator", async () => {
    const client = webClient(alice(false), "alice");
    await nothingReachesAggregator(() =>
      assert.rejects(
        client.sendLocalTaskResults(0, "train", 2147483647, [testTensor()]),
        /PermissionDenied RBAC: access denied/,
      ),
    );
    // Any spelling of the method name: RBAC matches it case-insensitively.
    const lower = await nothingReachesAggregator(() =>
      grpcWeb(`${SERVICE}sendlocaltaskresults`, { authorization: `Bearer ${alice(false)}` }),
    );
    assert.equal(lower.status, 403);
    await client.disconnect();
    assert.deepEqual(federation.aggregator.state.roundSummaries, []);
  });

  it("answers 403 to a token whose claim maps to no collaborator, or that has none", async () => {
    for (const token of [
      envoy.token({ sub: "mallory@example.org", collaborator: "mallory", upload: true }),
      envoy.token({ sub: "mallory@example.org", upload: true }),
    ]) {
      const response = await nothingReachesAggregator(() =>
        grpcWeb(`${SERVICE}Ping`, { authorization: `Bearer ${token}` }),
      );
      assert.equal(response.status, 403);
    }
  });

  it("does not let Alice's token act as Bob, whatever the request says", async () => {
    const results: string[] = [];
    const stopListening = federation.aggregator.state.onResults((r) =>
      results.push(r.collaborator),
    );
    // Bob's name in the message: the aggregator sees Alice's certificate and refuses.
    const asBob = webClient(alice(true), "bob");
    await assert.rejects(
      asBob.sendLocalTaskResults(0, "train", 1, [testTensor()]),
      /Invalid collaborator|unauthenticated/i,
    );
    await asBob.disconnect();
    // Headers a client might try in order to pick an identity change nothing.
    const sneaky = new AggregatorWebClient({
      proxyUrl: envoy.proxyUrl,
      aggregatorUuid: AGGREGATOR_UUID,
      federationUuid: FEDERATION_UUID,
      collaboratorName: "bob",
      retry: { intervalMs: 10, maxAttempts: 1 },
      interceptors: [
        bearer(alice(true)),
        (next) => (request) => {
          request.header.set("x-openfl-collaborator", "bob");
          request.header.set("openfl_collaborator", "bob");
          return next(request);
        },
      ],
    });
    await assert.rejects(
      sneaky.ping(),
      /Invalid collaborator|unauthenticated|invalid_argument|400/i,
    );
    await sneaky.disconnect();
    // As herself, with the upload claim, Alice's upload is accepted and counted as alice's.
    const asAlice = webClient(alice(true), "alice");
    await asAlice.sendLocalTaskResults(0, "train", 1, [testTensor()]);
    await asAlice.disconnect();
    stopListening();
    assert.deepEqual(results, ["alice"]);
  });

  it("logs the token's sub and the collaborator identity used, never the token", async () => {
    const line = await accessLogLine(
      (l) =>
        l.sub === "alice@example.org" &&
        l.path === `${SERVICE}SendLocalTaskResults` &&
        l.status === 200,
    );
    assert.equal(line.collaborator_claim, "alice");
    assert.equal(line.upstream_cluster, "collaborator_alice");
    const denied = await accessLogLine((l) => l.status === 403 && l.sub === "mallory@example.org");
    assert.equal(denied.collaborator_claim, "mallory");
  });
});
