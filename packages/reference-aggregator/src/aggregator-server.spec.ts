import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { decodeNamedTensor } from "@openfl-connect/core";
import { expectedResponseHeader } from "@openfl-connect/core/internal";
import { InteropMessageSchema } from "@openfl-connect/core/protocol";
import { ReferenceAggregator } from "./aggregator-server.js";
import type { TestPki } from "./pki.js";
import {
  AGGREGATOR_UUID,
  connectClient,
  emptyStream,
  FEDERATION_UUID,
  header,
  makeTempPki,
  metric,
  sendResults,
  startOptions,
  type TestClient,
  trained,
} from "./spec-fixtures.js";

let pki: TestPki;

before(async () => {
  pki = await makeTempPki(["alice", "bob", "mallory"]);
});

after(async () => {
  await rm(pki.dir, { recursive: true, force: true });
});

async function codeOf(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  assert.fail("expected the call to fail");
}

/** Starts an aggregator and clients for the named collaborators; stops everything after `body`. */
async function withAggregator(
  overrides: Parameters<typeof startOptions>[1],
  body: (
    aggregator: ReferenceAggregator,
    clients: Record<string, TestClient["client"]>,
  ) => Promise<void>,
): Promise<void> {
  const aggregator = new ReferenceAggregator(startOptions(pki, overrides));
  await aggregator.start();
  const opened: TestClient[] = [];
  try {
    const clients: Record<string, TestClient["client"]> = {};
    for (const name of ["alice", "bob", "mallory"]) {
      const identity = pki.collaborators[name];
      assert.ok(identity);
      const c = await connectClient(aggregator.url, pki.caCert, identity);
      opened.push(c);
      clients[name] = c.client;
    }
    await body(aggregator, clients);
  } finally {
    for (const c of opened) c.close();
    await aggregator.stop();
  }
}

function client(clients: Record<string, TestClient["client"]>, name: string) {
  const c = clients[name];
  assert.ok(c);
  return c;
}

describe("ReferenceAggregator over mutual TLS", () => {
  it("answers Ping with the aggregator's header for the certificate's collaborator", async () => {
    await withAggregator({}, async (_agg, clients) => {
      const response = await client(clients, "alice").ping({ header: header("alice") });
      assert.deepEqual(
        response.header,
        expectedResponseHeader({
          aggregatorUuid: AGGREGATOR_UUID,
          federationUuid: FEDERATION_UUID,
          collaboratorName: "alice",
        }),
      );
    });
  });

  it("answers UNAUTHENTICATED when the certificate CN differs from the sender", async () => {
    await withAggregator({}, async (_agg, clients) => {
      const error = await codeOf(client(clients, "alice").ping({ header: header("bob") }));
      assert.equal(error.code, Code.Unauthenticated);
      assert.equal(
        error.rawMessage,
        "Invalid collaborator. CN: |alice| collaborator_common_name: |bob|",
      );
    });
  });

  it("answers UNAUTHENTICATED for a valid certificate of an unauthorised collaborator", async () => {
    await withAggregator({}, async (_agg, clients) => {
      const error = await codeOf(
        client(clients, "mallory").getTasks({ header: header("mallory") }),
      );
      assert.equal(error.code, Code.Unauthenticated);
    });
  });

  it("accepts any authorised sender with the shared certificate in single-CN mode", async () => {
    await withAggregator({ singleColCertCommonName: "mallory" }, async (_agg, clients) => {
      const request = { header: { ...header("bob"), singleColCertCommonName: "mallory" } };
      const response = await client(clients, "mallory").ping(request);
      assert.equal(response.header?.receiver, "bob");
      assert.equal(response.header?.singleColCertCommonName, "mallory");
      const error = await codeOf(client(clients, "alice").ping(request));
      assert.equal(error.code, Code.Unauthenticated);
    });
  });

  it("answers UNKNOWN 'Exception calling application' for a wrong federation uuid or receiver", async () => {
    await withAggregator({}, async (_agg, clients) => {
      const wrongFederation = await codeOf(
        client(clients, "alice").ping({ header: header("alice", { federationUuid: "other" }) }),
      );
      assert.equal(wrongFederation.code, Code.Unknown);
      assert.equal(
        wrongFederation.rawMessage,
        `Exception calling application: Federation UUID in request header does not match. Expected: ${FEDERATION_UUID}, Actual: other`,
      );
      const wrongReceiver = await codeOf(
        client(clients, "alice").getTasks({ header: header("alice", { receiver: "x" }) }),
      );
      assert.equal(wrongReceiver.code, Code.Unknown);
      assert.match(
        wrongReceiver.rawMessage,
        /^Exception calling application: Receiver in request header does not match aggregator UUID. Expected: aggregator_.*, Actual: x$/,
      );
    });
  });

  it("runs a full round with two collaborators and then says quit", async () => {
    await withAggregator({ rounds: 1 }, async (agg, clients) => {
      const collaborators = [
        { name: "alice", dataSize: 1, w: [1, 2], acc: 0.5 },
        { name: "bob", dataSize: 3, w: [3, 4], acc: 0.9 },
      ];
      for (const col of collaborators) {
        const c = client(clients, col.name);
        const tasks = await c.getTasks({ header: header(col.name) });
        assert.equal(tasks.roundNumber, 0);
        assert.equal(tasks.quit, false);
        assert.deepEqual(
          tasks.tasks.map((t) => [t.name, t.functionName, t.taskType, t.applyLocal]),
          [
            ["aggregated_model_validation", "", "", false],
            ["train", "", "", false],
            ["locally_tuned_model_validation", "", "", false],
          ],
        );
        const model = await c.getAggregatedTensor({
          header: header(col.name),
          tensorName: "w",
          roundNumber: 0,
          tags: ["model"],
          requireLossless: true,
        });
        assert.equal(model.roundNumber, 0);
        assert.deepEqual(model.tensor?.tags, ["compressed", "model"]);
        assert.ok(model.tensor);
        assert.deepEqual([...decodeNamedTensor(model.tensor).data], [0, 0]);

        await sendResults(c, {
          sender: col.name,
          round: 0,
          taskName: "aggregated_model_validation",
          dataSize: col.dataSize,
          tensors: [metric("accuracy", 0, col.acc, ["validate_agg"])],
        });
        const trainResults = {
          sender: col.name,
          round: 0,
          taskName: "train",
          dataSize: col.dataSize,
          tensors: [trained("w", 0, col.w), metric("loss", 0, 1)],
        };
        await sendResults(c, trainResults);
        // A resend after a lost response is idempotent.
        const again = await sendResults(c, trainResults);
        assert.equal(again.header?.receiver, col.name);
        await sendResults(c, {
          sender: col.name,
          round: 0,
          taskName: "locally_tuned_model_validation",
          dataSize: col.dataSize,
          tensors: [metric("accuracy", 0, col.acc, ["validate_local"])],
        });
        if (col.name === "alice") {
          const idle = await c.getTasks({ header: header("alice") });
          assert.deepEqual([idle.tasks.length, idle.sleepTime, idle.quit], [0, 10, false]);
        }
      }

      const next = await client(clients, "alice").getAggregatedTensor({
        header: header("alice"),
        tensorName: "w",
        roundNumber: 1,
        tags: ["model"],
        requireLossless: true,
      });
      assert.ok(next.tensor);
      assert.deepEqual([...decodeNamedTensor(next.tensor).data], [2.5, 3.5]);
      assert.equal(agg.state.receivedResults.length, 6);
      const summary = agg.state.roundSummaries[0];
      assert.equal(summary?.round, 0);
      assert.deepEqual(summary?.collaborators, ["alice", "bob"]);
      assert.ok(
        Math.abs((summary?.metrics["aggregated_model_validation/accuracy"] ?? 0) - 0.8) < 1e-6,
      );

      for (const name of ["alice", "bob"]) {
        const done = await client(clients, name).getTasks({ header: header(name) });
        assert.equal(done.quit, true);
      }
      assert.equal(agg.state.allQuitJobsSent(), true);
    });
  });

  it("joins a multi-chunk upload (over 2 MiB) before parsing it", async () => {
    await withAggregator({ authorizedCollaborators: ["alice", "bob"] }, async (agg, clients) => {
      const values = Array.from({ length: 800_000 }, (_, i) => i % 7);
      const tensor = trained("big", 0, values);
      await sendResults(client(clients, "alice"), {
        sender: "alice",
        round: 0,
        taskName: "train",
        dataSize: 1,
        tensors: [tensor],
      });
      const received = agg.state.receivedResults[0]?.tensors[0];
      assert.equal(received?.data.length, 800_000);
      assert.equal(received?.sha256, createHash("sha256").update(tensor.dataBytes).digest("hex"));
    });
  });

  it("answers UNKNOWN 'Empty stream message' for a stream without bytes", async () => {
    await withAggregator({}, async (_agg, clients) => {
      const error = await codeOf(client(clients, "alice").sendLocalTaskResults(emptyStream()));
      assert.equal(error.code, Code.Unknown);
      assert.match(
        error.rawMessage,
        /^Exception calling application: Empty stream message, reestablishing connection from client/,
      );
    });
  });

  it("checks the header's sender against the certificate CN once the upload is read (UNAUTHENTICATED)", async () => {
    await withAggregator({}, async (_agg, clients) => {
      const error = await codeOf(
        sendResults(client(clients, "alice"), {
          sender: "bob",
          round: 0,
          taskName: "train",
          dataSize: 1,
          tensors: [trained("w", 0, [1, 2])],
        }),
      );
      assert.equal(error.code, Code.Unauthenticated);
    });
  });

  it("answers UNKNOWN for a tensor without the compressed tag", async () => {
    await withAggregator({}, async (agg, clients) => {
      const tensor = trained("w", 0, [1, 2]);
      tensor.tags = ["trained"];
      const error = await codeOf(
        sendResults(client(clients, "alice"), {
          sender: "alice",
          round: 0,
          taskName: "train",
          dataSize: 1,
          tensors: [tensor],
        }),
      );
      assert.equal(error.code, Code.Unknown);
      assert.match(error.rawMessage, /is not compressed/);
      assert.equal(agg.state.receivedResults.length, 0);
    });
  });

  it("answers UNKNOWN naming data_size for data_size -1 on the wire, and takes 0 and 1", async () => {
    await withAggregator({ tasks: ["aggregated_model_validation"] }, async (agg, clients) => {
      const results = (sender: string, dataSize: number) =>
        sendResults(client(clients, sender), {
          sender,
          round: 0,
          taskName: "aggregated_model_validation",
          dataSize,
          tensors: [metric("accuracy", 0, 0.5, ["validate_agg"])],
        });
      const error = await codeOf(results("alice", -1));
      assert.equal(error.code, Code.Unknown);
      assert.equal(
        error.rawMessage,
        "Exception calling application: data_size must be a whole number >= 0, got -1 (task aggregated_model_validation, collaborator alice)",
      );
      assert.equal(agg.state.receivedResults.length, 0);
      await results("alice", 0);
      await results("bob", 1);
      assert.deepEqual(
        agg.state.receivedResults.map((r) => [r.collaborator, r.dataSize]),
        [
          ["alice", 0],
          ["bob", 1],
        ],
      );
    });
  });

  it("answers UNKNOWN after tensorWaitMs for a tensor that does not exist", async () => {
    await withAggregator({ tensorWaitMs: 50 }, async (_agg, clients) => {
      const error = await codeOf(
        client(clients, "alice").getAggregatedTensor({
          header: header("alice"),
          tensorName: "nope",
          roundNumber: 0,
          tags: ["model"],
          requireLossless: true,
        }),
      );
      assert.equal(error.code, Code.Unknown);
      assert.match(error.rawMessage, /Aggregator does not have an aggregated tensor/);
    });
  });

  it("answers UNIMPLEMENTED for InteropRelay", async () => {
    await withAggregator({}, async (_agg, clients) => {
      const error = await codeOf(
        client(clients, "alice").interopRelay(
          create(InteropMessageSchema, { header: header("alice") }),
        ),
      );
      assert.equal(error.code, Code.Unimplemented);
    });
  });

  it("answers with the overridden header when told to misbehave", async () => {
    await withAggregator(
      { responseHeaderOverride: { federationUuid: "evil" } },
      async (_agg, clients) => {
        const response = await client(clients, "alice").ping({ header: header("alice") });
        assert.equal(response.header?.federationUuid, "evil");
        assert.equal(response.header?.sender, AGGREGATOR_UUID);
      },
    );
  });
});

describe("ReferenceAggregator lifecycle", () => {
  it("keeps its state across stop and restart on the same port", async () => {
    const aggregator = new ReferenceAggregator(
      startOptions(pki, { authorizedCollaborators: ["alice"], rounds: 3, tasks: ["train"] }),
    );
    const { port } = await aggregator.start();
    const identity = pki.collaborators.alice;
    assert.ok(identity);
    const first = await connectClient(aggregator.url, pki.caCert, identity);
    try {
      await sendResults(first.client, {
        sender: "alice",
        round: 0,
        taskName: "train",
        dataSize: 1,
        tensors: [trained("w", 0, [7, 8])],
      });
      await aggregator.stop();
      const down = await codeOf(first.client.ping({ header: header("alice") }));
      // A reset session (Internal) or a refused connection (Unavailable): both mean "retry".
      assert.ok([Code.Unavailable, Code.Internal, Code.Aborted].includes(down.code), down.message);

      const restarted = await aggregator.start();
      assert.equal(restarted.port, port);
      const tasks = await first.client.getTasks({ header: header("alice") });
      assert.equal(tasks.roundNumber, 1);
      assert.deepEqual([...(aggregator.state.model.w?.data ?? [])], [7, 8]);
    } finally {
      first.close();
      await aggregator.stop();
    }
  });

  it("fails a call in flight when stopped", async () => {
    const aggregator = new ReferenceAggregator(startOptions(pki, { tensorWaitMs: 10_000 }));
    await aggregator.start();
    const identity = pki.collaborators.alice;
    assert.ok(identity);
    const c = await connectClient(aggregator.url, pki.caCert, identity);
    try {
      const waiting = c.client.getAggregatedTensor({
        header: header("alice"),
        tensorName: "w",
        roundNumber: 5,
        tags: ["model"],
        requireLossless: true,
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = Date.now();
      await aggregator.stop();
      const error = await codeOf(waiting);
      assert.ok(Date.now() - started < 2000, "stop() did not end the call promptly");
      assert.notEqual(error.code, Code.Unknown);
    } finally {
      c.close();
      await aggregator.stop();
    }
  });

  it("counts TLS connections: one per client session", async () => {
    const aggregator = new ReferenceAggregator(startOptions(pki));
    await aggregator.start();
    const identity = pki.collaborators.alice;
    assert.ok(identity);
    try {
      assert.equal(aggregator.connectionCount, 0);
      const shared = await connectClient(aggregator.url, pki.caCert, identity);
      await shared.client.ping({ header: header("alice") });
      await shared.client.ping({ header: header("alice") });
      shared.close();
      assert.equal(aggregator.connectionCount, 1);
      for (let i = 0; i < 3; i++) {
        const atomic = await connectClient(aggregator.url, pki.caCert, identity);
        await atomic.client.ping({ header: header("alice") });
        atomic.close();
      }
      assert.equal(aggregator.connectionCount, 4);
    } finally {
      await aggregator.stop();
    }
  });

  it("refuses a client certificate from another CA during the handshake", async () => {
    const other = await makeTempPki(["alice"]);
    const aggregator = new ReferenceAggregator(startOptions(pki));
    await aggregator.start();
    const stranger = other.collaborators.alice;
    assert.ok(stranger);
    const c = await connectClient(aggregator.url, pki.caCert, stranger);
    try {
      const error = await codeOf(c.client.ping({ header: header("alice") }));
      assert.notEqual(error.code, Code.Unauthenticated);
      assert.equal(aggregator.connectionCount, 0);
    } finally {
      c.close();
      await aggregator.stop();
      await rm(other.dir, { recursive: true, force: true });
    }
  });
});
