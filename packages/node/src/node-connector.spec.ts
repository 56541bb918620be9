import assert from "node:assert/strict";
import { createServer, type Http2Server, type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { expectedResponseHeader } from "@openfl-connect/core/internal";
import { Aggregator } from "@openfl-connect/core/protocol";
import { AggregatorGRPCClient } from "./aggregator-grpc-client.js";

const identity = {
  aggregatorUuid: "aggregator_fed",
  federationUuid: "fed",
  collaboratorName: "one",
};

describe("NodeConnector requests", () => {
  /** A client of the in-process clear-text (h2c) server. */
  const clearTextClient = () =>
    new AggregatorGRPCClient({
      ...identity,
      aggAddr: "127.0.0.1",
      aggPort: (server.address() as AddressInfo).port,
      useTls: false,
      warn: () => {},
    });
  const seen: { acceptEncoding: string | null; encoding: string | null }[] = [];
  let server: Http2Server;
  before(async () => {
    server = createServer(
      connectNodeAdapter({
        routes: ({ service }) =>
          service(Aggregator, {
            ping(_req, ctx) {
              seen.push({
                acceptEncoding: ctx.requestHeader.get("grpc-accept-encoding"),
                encoding: ctx.requestHeader.get("grpc-encoding"),
              });
              return { header: expectedResponseHeader(identity) };
            },
            getAggregatedTensor() {
              return {
                header: expectedResponseHeader(identity),
                tensor: {
                  name: "w",
                  dataBytes: new Uint8Array(Float32Array.of(1, 2, 3, 4).buffer),
                },
              };
            },
          }),
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("neither compresses nor offers to accept compression, like OpenFL", async () => {
    const client = clearTextClient();
    await client.ping();
    await client.disconnect();
    assert.equal(seen.length, 1);
    assert.ok(
      !/gzip|br/.test(seen[0]?.acceptEncoding ?? ""),
      `grpc-accept-encoding: ${seen[0]?.acceptEncoding}`,
    );
    assert.ok(seen[0]?.encoding === null || seen[0]?.encoding === "identity");
  });

  it("opens HTTP/2 receive windows of 8 MiB for each stream and the connection", async () => {
    const sessions: ServerHttp2Session[] = [];
    const onSession = (session: ServerHttp2Session) => sessions.push(session);
    server.on("session", onSession);
    const client = clearTextClient();
    try {
      await client.ping();
      await client.ping();
      const session = sessions[0];
      // Before: the protocol's default of 65 535 bytes, both.
      assert.equal(session?.remoteSettings.initialWindowSize, 8 * 1024 * 1024);
      assert.ok(
        (session?.state.remoteWindowSize ?? 0) > 8 * 1024 * 1024 - 65536,
        `connection window ${session?.state.remoteWindowSize}`,
      );
    } finally {
      server.off("session", onSession);
      await client.disconnect();
    }
  });

  it("hands a downloaded tensor's data_bytes out as a plain Uint8Array (slice() copies)", async () => {
    const client = clearTextClient();
    try {
      const t = await client.getAggregatedTensor("w", 0);
      assert.equal(Object.getPrototypeOf(t.dataBytes), Uint8Array.prototype);
      // What the load driver does with the model: a Buffer's slice() would be a view of the
      // session's read buffer, and this a RangeError.
      assert.deepEqual([...new Float32Array(t.dataBytes.slice().buffer)], [1, 2, 3, 4]);
    } finally {
      await client.disconnect();
    }
  });
});
