import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import {
  AggregatorCallError,
  decodeNamedTensor,
  encodeNamedTensor,
  HeaderMismatchError,
} from "@openfl-connect/core";
import { createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { BOUNDED_RETRY } from "@openfl-connect/test-support/call-errors";
import { startFaultProxy } from "@openfl-connect/test-support/fault-proxy";
import {
  FEDERATION_UUID,
  startTestFederation,
  type TestFederation,
} from "@openfl-connect/test-support/reference-federation";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("AggregatorGRPCClient against the reference aggregator over mTLS", () => {
  let fed: TestFederation;
  before(async () => {
    fed = await startTestFederation();
  });
  after(() => fed.close());

  it("pings", async () => {
    await fed.client("one").ping();
  });

  it("gets tasks and the round-0 model, decoded to the values the aggregator holds", async () => {
    const client = fed.client("one");
    const tasks = await client.getTasks();
    assert.equal(tasks.roundNumber, 0);
    assert.deepEqual(
      tasks.tasks.map((t) => t.name),
      ["train"],
    );
    assert.equal(tasks.quit, false);
    const named = await client.getAggregatedTensor("dense.weight", 0, {
      tags: ["model"],
      requireLossless: true,
    });
    assert.deepEqual(named.tags, ["compressed", "model"]);
    const model = decodeNamedTensor(named);
    assert.deepEqual(model.shape, [2, 3]);
    assert.deepEqual(model.data, Float32Array.of(1, 2, 3, 4, 5, 6));
  });

  it("uploads a > 5 MiB multi-chunk result that arrives byte-identical", async () => {
    const client = fed.client("two");
    const data = Float32Array.from({ length: 1_600_000 }, (_, i) => Math.sin(i));
    const tensor = encodeNamedTensor(
      { shape: [1600, 1000], data },
      { name: "big", roundNumber: 0, tags: ["trained"] },
    );
    assert.ok(tensor.dataBytes.byteLength > 6 * 1024 * 1024);
    await client.sendLocalTaskResults(0, "train", 50, [tensor]);
    const record = fed.aggregator.state.receivedResults.find((r) => r.collaborator === "two");
    assert.ok(record, "the aggregator holds the results");
    assert.equal(record.dataSize, 50);
    assert.equal(record.tensors[0]?.sha256, sha256(tensor.dataBytes));
    assert.deepEqual(record.tensors[0]?.shape, [1600, 1000]);
  });

  it("reports InteropRelay UNIMPLEMENTED at once, without looping", async () => {
    const retries: unknown[] = [];
    const client = fed.client("one", { retry: BOUNDED_RETRY, onRetry: (e) => retries.push(e) });
    await assert.rejects(
      client.sendMessageToServer(Uint8Array.of(1)),
      (e: unknown) =>
        e instanceof AggregatorCallError && e.code === Code.Unimplemented && e.attempts === 1,
    );
    assert.equal(retries.length, 0);
  });

  it("surfaces UNAUTHENTICATED when the sender differs from the certificate CN", async () => {
    const one = fed.pki.collaborators.one;
    const client = fed.client("two", {
      certificate: one?.cert,
      privateKey: one?.key,
      retry: BOUNDED_RETRY,
    });
    await assert.rejects(
      client.ping(),
      (e: unknown) =>
        e instanceof AggregatorCallError &&
        e.code === Code.Unauthenticated &&
        e.reason === "cannot-heal" &&
        /Invalid collaborator/.test(e.message),
    );
  });

  it("surfaces a wrong federation uuid with the server's message at the first answer (it cannot heal)", async () => {
    const client = fed.client("one", {
      federationUuid: "other.yaml_00000000",
      retry: BOUNDED_RETRY,
    });
    await assert.rejects(
      client.ping(),
      (e: unknown) =>
        e instanceof AggregatorCallError &&
        e.code === Code.Unknown &&
        e.reason === "cannot-heal" &&
        e.attempts === 1 &&
        /Federation UUID in request header does not match/.test(e.message),
    );
  });

  it("opens exactly one connection per call with atomic connections", async () => {
    const client = fed.client("one", { enableAtomicConnections: true });
    const before = fed.aggregator.connectionCount;
    await client.ping();
    await client.getTasks();
    await client.ping();
    assert.equal(fed.aggregator.connectionCount - before, 3);
  });

  it("keeps one connection across calls by default", async () => {
    const client = fed.client("one");
    const before = fed.aggregator.connectionCount;
    await client.ping();
    await client.getTasks();
    await client.ping();
    assert.equal(fed.aggregator.connectionCount - before, 1);
  });
});

describe("TLS failures end with a clear error, not endless retries", () => {
  let fed: TestFederation;
  before(async () => {
    fed = await startTestFederation();
  });
  after(() => fed.close());

  it("a server certificate from an unknown CA is a TLS verification error", async () => {
    const otherCa = await createTestPki(join(fed.dir, "other-ca"), { collaborators: [] });
    const client = fed.client("one", { rootCertificate: otherCa.caCert, retry: BOUNDED_RETRY });
    await assert.rejects(
      client.ping(),
      (e: unknown) =>
        e instanceof AggregatorCallError &&
        e.reason === "cannot-heal" &&
        e.attempts === 1 &&
        /TLS certificate did not verify/.test(e.message),
    );
  });

  it("with a refetch callback, a rotated server CA heals", async () => {
    const otherCa = await createTestPki(join(fed.dir, "stale-ca"), { collaborators: [] });
    let refetched = 0;
    const client = fed.client("one", {
      rootCertificate: otherCa.caCert,
      retry: BOUNDED_RETRY,
      refetchServerCertificate: async () => {
        refetched++;
        return fed.pki.caCert;
      },
    });
    await client.ping();
    assert.equal(refetched, 1);
  });

  it("a missing client certificate is refused by the server and not retried", async () => {
    const client = fed.client("one", {
      requireClientAuth: false,
      certificate: undefined,
      privateKey: undefined,
      retry: BOUNDED_RETRY,
    });
    await assert.rejects(
      client.ping(),
      (e: unknown) =>
        e instanceof AggregatorCallError &&
        e.reason === "cannot-heal" &&
        /client certificate/.test(e.message),
    );
  });

  it("a server answering with a wrong header is a HeaderMismatchError", async () => {
    const bad = await startTestFederation({
      aggregator: { responseHeaderOverride: { federationUuid: "evil.yaml_1" } },
    });
    try {
      await assert.rejects(
        bad.client("one", { retry: BOUNDED_RETRY }).getTasks(),
        (e: unknown) =>
          e instanceof HeaderMismatchError &&
          e.field === "federation_uuid" &&
          e.expected === FEDERATION_UUID &&
          e.actual === "evil.yaml_1",
      );
    } finally {
      await bad.close();
    }
  });
});

describe("resend on reconnection with a real server", () => {
  it("an AbortSignal stops a call that is waiting for the aggregator to come back", async () => {
    const fed = await startTestFederation();
    try {
      await fed.aggregator.stop();
      const controller = new AbortController();
      const client = fed.client("one", {
        retry: { intervalMs: 60_000 },
        onRetry: () => controller.abort(new Error("stopped by the user")),
      });
      const started = Date.now();
      await assert.rejects(client.ping({ signal: controller.signal }), /stopped by the user/);
      assert.ok(Date.now() - started < 10_000, "did not sit out the 60 s interval");
    } finally {
      await fed.close();
    }
  });

  it("a call waits through an aggregator restart and then succeeds", async () => {
    const fed = await startTestFederation();
    try {
      const client = fed.client("one");
      await client.ping();
      await fed.aggregator.stop();
      let retries = 0;
      const tasks = fed.client("one", { onRetry: () => retries++ }).getTasks();
      await new Promise((r) => setTimeout(r, 300));
      await fed.aggregator.start();
      assert.equal((await tasks).roundNumber, 0);
      assert.ok(retries >= 1, "it retried while the aggregator was down");
    } finally {
      await fed.close();
    }
  });
});

describe("an aggregator restart in the middle of an upload", () => {
  it("the upload completes after the restart and the aggregator holds it once", async () => {
    const fed = await startTestFederation();
    const relay = await startFaultProxy(fed.port, {
      onBytesToServer: (total) => {
        if (total > 4 * 1024 * 1024 && !restarting) {
          restarting = fed.aggregator
            .stop()
            .then(() => new Promise((r) => setTimeout(r, 200)))
            .then(() => fed.aggregator.start());
        }
      },
    });
    let restarting: Promise<unknown> | undefined;
    try {
      const retries: string[] = [];
      const client = fed.client("one", {
        aggPort: relay.port,
        onRetry: (e) => retries.push(e.failure),
      });
      const data = Float32Array.from({ length: 4_000_000 }, (_, i) => (i % 977) / 977);
      const tensor = encodeNamedTensor(
        { shape: [4_000_000], data },
        { name: "w", roundNumber: 0, tags: ["trained"] },
      );
      await client.sendLocalTaskResults(0, "train", 10, [tensor]);
      assert.ok(restarting, "the aggregator was stopped mid-upload");
      assert.ok(retries.length >= 1, "the client resent after the restart");
      const held = fed.aggregator.state.receivedResults.filter((r) => r.collaborator === "one");
      assert.equal(held.length, 1);
      // The upload cut by the restart never arrived whole: one complete copy on the wire.
      assert.equal(
        fed.aggregator.state.uploadsReceived.filter((u) => u.collaborator === "one").length,
        1,
      );
      assert.equal(held[0]?.tensors[0]?.sha256, sha256(tensor.dataBytes));
      assert.equal((await client.resendBuffer.list()).length, 0);
    } finally {
      await relay.close();
      await fed.close();
    }
  });
});
