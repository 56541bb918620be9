// Sockets that never finish TLS cannot pile up: through real Envoy with the TLS listener (as
// deployed), a connection that sends nothing, or half a ClientHello, is closed once
// limits.tls_handshake_timeout_s has passed, while a real client is served.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type FederationBehindEnvoy,
  startFederationBehindEnvoy,
} from "./federation-behind-envoy.js";
import { secondsUntilClosed } from "./seconds-until-closed.js";

const HANDSHAKE_S = 1;

let edge: FederationBehindEnvoy;

describe("TLS handshake bound at the edge", () => {
  before(async () => {
    edge = await startFederationBehindEnvoy({
      collaborators: ["alice"],
      listener: "tls",
      limits: { tls_handshake_timeout_s: HANDSHAKE_S, connection_idle_timeout_s: 60 },
    });
  });
  after(() => edge?.close());

  it("closes a connection that never starts TLS, and one that stops mid-ClientHello", async (t) => {
    // A TLS record header for a 512-byte handshake message, then 3 bytes of it.
    const halfHello = Uint8Array.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01]);
    const [silent, half] = await Promise.all([
      secondsUntilClosed(edge.envoy.proxyUrl, new Uint8Array(0), HANDSHAKE_S + 5),
      secondsUntilClosed(edge.envoy.proxyUrl, halfHello, HANDSHAKE_S + 5),
    ]);
    for (const seconds of [silent, half]) {
      assert.ok(seconds >= HANDSHAKE_S - 0.5, `closed after ${seconds} s`);
    }
    t.diagnostic(
      `no TLS: closed after ${silent.toFixed(2)} s; half a ClientHello: ${half.toFixed(2)} s (bound ${HANDSHAKE_S} s)`,
    );
  });
});
