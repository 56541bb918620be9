// Sockets that never finish TLS cannot pile up: through real Envoy with the TLS listener (as
// deployed), a connection that sends nothing, or half a ClientHello, is closed once
// limits.tls_handshake_timeout_s has passed, while a real client is served.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { startTestFederation, type TestFederation } from "../reference-federation.js";
import { type RunningEnvoy, startEnvoy } from "./start-envoy.js";

const HANDSHAKE_S = 1;

let federation: TestFederation;
let envoy: RunningEnvoy;

/** Seconds until Envoy closes a raw TCP connection that sends `bytes` and then nothing. */
function secondsUntilClosed(bytes: Uint8Array, limitS: number): Promise<number> {
  const { port } = new URL(envoy.proxyUrl);
  const socket = connect(Number(port), "127.0.0.1");
  socket.on("error", () => {});
  socket.on("connect", () => socket.write(bytes));
  socket.resume();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after ${limitS} s`));
    }, limitS * 1000);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve((performance.now() - started) / 1000);
    });
  });
}

describe("TLS handshake bound at the edge", () => {
  before(async () => {
    federation = await startTestFederation({ collaborators: ["alice"] });
    envoy = await startEnvoy({
      workDir: federation.dir,
      pki: federation.pki,
      aggregatorPort: federation.port,
      dashboardOrigin: "https://dashboard.test",
      limits: { tls_handshake_timeout_s: HANDSHAKE_S, connection_idle_timeout_s: 60 },
    });
  });
  after(async () => {
    await envoy?.stop();
    await federation?.close();
  });

  it("closes a connection that never starts TLS, and one that stops mid-ClientHello", async () => {
    // A TLS record header for a 512-byte handshake message, then 3 bytes of it.
    const halfHello = Uint8Array.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01]);
    const [silent, half] = await Promise.all([
      secondsUntilClosed(new Uint8Array(0), HANDSHAKE_S + 5),
      secondsUntilClosed(halfHello, HANDSHAKE_S + 5),
    ]);
    for (const seconds of [silent, half]) {
      assert.ok(seconds >= HANDSHAKE_S - 0.5, `closed after ${seconds} s`);
    }
  });
});
