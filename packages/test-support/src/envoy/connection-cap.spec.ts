// Idle sockets filling Envoy's connection cap, at a scale that fits a test: through real Envoy
// (the generator's config for a test input with a small limits.max_connections, plain-HTTP
// listener on loopback) in front of the reference aggregator. Mallory holds as many sockets as
// the cap allows and sends nothing; Envoy closes new connections at once while they are held
// (Bob is locked out, as in the issue), and closes hers once connection_idle_timeout_s has
// passed, so Bob is answered after at most that bound. On a config with an hour's idle timeout
// Bob is not answered within the test's bound. This bounds one burst only: an attacker who
// reopens each socket as Envoy closes it keeps others out, and Envoy cannot bound connections
// per client address; the firewall rule in deploy/envoy/README.md ("Connections per client
// address") does.
// The admin socket is outside the cap (ignore_global_conn_limit), so the spec reads stats during it.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { envoyWebClient } from "./envoy-web-client.js";
import {
  type FederationBehindEnvoy,
  startFederationBehindEnvoy,
} from "./federation-behind-envoy.js";
import type { RunningEnvoy } from "./start-envoy.js";

const MAX_CONNECTIONS = 16;
const IDLE_CONNECTION_S = 2;

let edge: FederationBehindEnvoy;
let envoy: RunningEnvoy;

/** A raw TCP connection to the listener that sends nothing; resolves once connected. */
function idleSocket(url: string): Promise<Socket> {
  const socket = connect(Number(new URL(url).port), "127.0.0.1");
  socket.on("error", () => {});
  socket.resume();
  return new Promise((resolve) => socket.once("connect", () => resolve(socket)));
}

/** Envoy's count of connections it closed at once because the cap was reached. */
async function overflowedConnections(): Promise<number> {
  const { body } = await envoy.admin("/stats?filter=downstream_global_cx_overflow");
  return [...body.matchAll(/: (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** Connections open on Envoy's listeners (the admin socket's aside). */
async function activeConnections(): Promise<number> {
  const { body } = await envoy.admin("/stats?filter=^listener\\.[0-9].*downstream_cx_active$");
  return [...body.matchAll(/: (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe("connection cap at the edge", () => {
  before(async () => {
    edge = await startFederationBehindEnvoy({
      collaborators: ["bob"],
      limits: { max_connections: MAX_CONNECTIONS, connection_idle_timeout_s: IDLE_CONNECTION_S },
    });
    envoy = edge.envoy;
  });
  after(() => edge?.close());

  it("idle sockets that fill the cap lock others out only until connection_idle_timeout_s closes them", async (t) => {
    // The cap is Mallory's alone: wait out the readiness probe's keep-alive connection.
    for (let i = 0; (await activeConnections()) > 0; i++) {
      assert.ok(i < 100, "Envoy still has connections open before the attack");
      await new Promise((r) => setTimeout(r, 100));
    }
    const sockets = await Promise.all(
      Array.from({ length: MAX_CONNECTIONS }, () => idleSocket(envoy.proxyUrl)),
    );
    try {
      const overflowBefore = await overflowedConnections();
      const bob = envoy.token({ sub: "bob@example.org", collaborator: "bob" });
      const started = performance.now();
      let refused = 0;
      // Bob tries again and again, each time on a new connection (a refused one is closed).
      for (;;) {
        const client = envoyWebClient(envoy, bob, "bob");
        try {
          await client.ping();
          break;
        } catch (error) {
          refused++;
          const waited = (performance.now() - started) / 1000;
          if (waited > IDLE_CONNECTION_S + 5) {
            assert.fail(`bob still refused after ${waited.toFixed(1)} s: ${error}`);
          }
          await new Promise((r) => setTimeout(r, 100));
        } finally {
          await client.disconnect();
        }
      }
      const bobSeconds = (performance.now() - started) / 1000;
      const overflowed = (await overflowedConnections()) - overflowBefore;
      const closedByEnvoy = sockets.filter((s) => s.destroyed || s.readableEnded).length;
      t.diagnostic(
        `cap ${MAX_CONNECTIONS} filled by idle sockets: Bob answered after ${bobSeconds.toFixed(2)} s ` +
          `(${refused} attempts refused, ${overflowed} connections closed at the cap); ` +
          `${closedByEnvoy} of ${MAX_CONNECTIONS} idle sockets closed by Envoy`,
      );
      // The lockout is real while her sockets are held...
      assert.ok(refused >= 1 && overflowed >= 1, `refused ${refused}, overflowed ${overflowed}`);
      // ...and lasts no longer than the idle bound (plus the time to notice).
      assert.ok(bobSeconds >= IDLE_CONNECTION_S - 0.5, `answered after ${bobSeconds} s`);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
