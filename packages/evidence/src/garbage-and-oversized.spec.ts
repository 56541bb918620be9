// Servers that answer garbage or truncate, a proxy that corrupts the server's bytes, and
// messages over the client's size limit: each call ends with a typed error, in bounded time.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { AggregatorCallError, partsByteLength } from "@openfl-connect/core";
import type { AggregatorGRPCClient } from "@openfl-connect/node";
import { startFaultProxy } from "@openfl-connect/test-support/fault-proxy";
import { activeResources, waitForNoLeaks } from "./active-resources.js";
import { type Federation, startFederation } from "./federation.js";
import { MiB, modelTensor, trainedTensor } from "./payloads.js";
import { seededRandom } from "./seeded-random.js";

const ATTEMPT_MS = 1500;
const MAX_ATTEMPTS = 3;
/** A failing call makes at most MAX_ATTEMPTS attempts of ATTEMPT_MS each, plus short waits. */
const BOUND_MS = MAX_ATTEMPTS * (ATTEMPT_MS + 100) + 2000;

async function listen(server: Server | http2.Http2SecureServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** A TCP server; `onSocket` decides what each connection gets. Tracks sockets to close them. */
async function tcpServer(onSocket: (socket: Socket) => void) {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    onSocket(socket);
  });
  const port = await listen(server);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function expectTypedFailure(
  call: Promise<unknown>,
  check?: (e: AggregatorCallError) => void,
) {
  const t0 = performance.now();
  const error = await call.then(
    () => assert.fail("the call succeeded against a broken server"),
    (e: unknown) => e,
  );
  const ms = performance.now() - t0;
  assert.ok(error instanceof AggregatorCallError, `typed error, got ${String(error)}`);
  assert.ok(ms < BOUND_MS, `ended in ${ms.toFixed(0)} ms (bound ${BOUND_MS})`);
  check?.(error);
  return error;
}

describe("garbage, truncated and corrupted responses", () => {
  let federation: Federation;
  let resourcesBefore: Map<string, number>;
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    resourcesBefore = activeResources();
    federation = await startFederation({ collaborators: ["alpha"] });
  });

  after(async () => {
    for (const close of closers) await close();
    await federation.close();
  });

  const client = (port: number): AggregatorGRPCClient =>
    federation.client("alpha", {
      aggPort: port,
      retry: { intervalMs: 20, attemptTimeoutMs: ATTEMPT_MS, maxAttempts: MAX_ATTEMPTS },
    });

  it("a TCP server that answers random bytes", async () => {
    const random = seededRandom(1);
    const server = await tcpServer((s) => s.end(Buffer.from(random.bytes(4096))));
    closers.push(server.close);
    const c = client(server.port);
    await expectTypedFailure(c.getTasks());
    await expectTypedFailure(
      c.sendLocalTaskResults(0, "train", 1, [trainedTensor("w", 0, new Uint8Array(1024))]),
    );
    await c.disconnect();
  });

  it("a TCP server that closes every connection at once (truncated to nothing)", async () => {
    const server = await tcpServer((s) => s.destroy());
    closers.push(server.close);
    const c = client(server.port);
    await expectTypedFailure(c.ping(), (e) => assert.equal(e.reason, "max-attempts"));
    await c.disconnect();
  });

  it("a TCP server that accepts and never answers (stalled handshake)", async () => {
    const server = await tcpServer(() => {});
    closers.push(server.close);
    const c = client(server.port);
    await expectTypedFailure(c.ping(), (e) => assert.equal(e.code, Code.DeadlineExceeded));
    await c.disconnect();
  });

  /** An HTTP/2 server with the federation's real server certificate and custom answers. */
  async function h2Server(onStream: (stream: http2.ServerHttp2Stream) => void) {
    const server = http2.createSecureServer({
      ca: readFileSync(federation.pki.caCert),
      cert: readFileSync(federation.pki.server.cert),
      key: readFileSync(federation.pki.server.key),
      requestCert: true,
    });
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on("session", (s) => {
      sessions.add(s);
      s.on("close", () => sessions.delete(s));
    });
    server.on("stream", (stream) => {
      stream.on("error", () => {});
      onStream(stream);
    });
    const port = await listen(server);
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sessions) s.destroy();
          server.close(() => resolve());
        }),
    );
    return port;
  }

  it("a gRPC response whose envelope is truncated", async () => {
    const port = await h2Server((stream) => {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc" },
        { waitForTrailers: true },
      );
      const header = Buffer.from([0, 0, 0, 0x10, 0]); // says 4096 bytes follow
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(Buffer.concat([header, Buffer.alloc(10)]));
    });
    const c = client(port);
    await expectTypedFailure(c.getTasks());
    await c.disconnect();
  });

  it("a gRPC response whose message is garbage protobuf", async () => {
    const random = seededRandom(2);
    const port = await h2Server((stream) => {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc" },
        { waitForTrailers: true },
      );
      const body = Buffer.from(random.bytes(64));
      const header = Buffer.alloc(5);
      header.writeUInt32BE(body.byteLength, 1);
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(Buffer.concat([header, body]));
    });
    const c = client(port);
    await expectTypedFailure(c.getTasks());
    await c.disconnect();
  });

  it("an HTTP/2 answer that is not gRPC (HTML, status 502)", async () => {
    const port = await h2Server((stream) => {
      stream.respond({ ":status": 502, "content-type": "text/html" });
      stream.end("<html>bad gateway</html>");
    });
    const c = client(port);
    await expectTypedFailure(c.getTasks());
    await c.disconnect();
  });

  it("a proxy that corrupts every byte the real aggregator sends back", async () => {
    const random = seededRandom(3);
    const proxy = await startFaultProxy(federation.port, {
      transform: (direction, chunk) =>
        direction === "to-client" ? Buffer.from(random.bytes(chunk.byteLength)) : chunk,
    });
    closers.push(() => proxy.close());
    const c = client(proxy.port);
    await expectTypedFailure(c.getTasks());
    await c.disconnect();
  });

  it("leaves no sockets, servers or timers behind", async () => {
    for (const close of closers.splice(0)) await close();
    await federation.close();
    assert.deepEqual(await waitForNoLeaks(resourcesBefore, ATTEMPT_MS + 2000), {});
  });
});

describe("messages over the client's maxMessageBytes", () => {
  let federation: Federation;
  let resourcesBefore: Map<string, number>;

  before(async () => {
    resourcesBefore = activeResources();
    federation = await startFederation({
      collaborators: ["alpha"],
      initialModel: { big: modelTensor(seededRandom(4), 1 * MiB).tensor },
    });
  });

  after(() => federation.close());

  it("a download over the limit fails at once with ResourceExhausted, not retried", async () => {
    const c = federation.client("alpha", { maxMessageBytes: 64 * 1024 });
    await expectTypedFailure(c.getAggregatedTensor("big", 0, { tags: ["model"] }), (e) => {
      assert.equal(e.code, Code.ResourceExhausted);
      assert.equal(e.reason, "cannot-heal");
      assert.equal(e.attempts, 1);
    });
    await c.disconnect();
  });

  it("an upload chunk over the limit fails at once and hands the bytes back", async () => {
    const c = federation.client("alpha", { maxMessageBytes: 64 * 1024 });
    const e = await expectTypedFailure(
      c.sendLocalTaskResults(0, "train", 1, [trainedTensor("w", 0, new Uint8Array(MiB))]),
      (error) => assert.equal(error.code, Code.ResourceExhausted),
    );
    assert.ok(
      partsByteLength(e.unsentRequest ?? []) > MiB,
      "the serialized request is handed back",
    );
    assert.equal(federation.arrivals.length, 0);
    await c.disconnect();
  });

  it("leaves no sockets, servers or timers behind", async () => {
    await federation.close();
    assert.deepEqual(await waitForNoLeaks(resourcesBefore), {});
  });
});
