// Our Node AggregatorGRPCClient against OpenFL 1.9's REAL AggregatorGRPCServer (Python,
// grpcio) over mutual TLS. The server fronts a stand-in aggregator that encodes and decodes
// tensors with OpenFL's own TensorCodec(NoCompressionPipeline()).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import {
  AggregatorCallError,
  decodeNamedTensor,
  encodeNamedTensor,
  OPENFL_CHUNK_BYTES,
  type RetryEvent,
} from "@openfl-connect/core";
import { AggregatorGRPCClient, type AggregatorGRPCClientOptions } from "@openfl-connect/node";
import {
  collaboratorConnection,
  createTestPki,
  type TestPki,
} from "@openfl-connect/reference-aggregator/pki";
import {
  AGGREGATOR_UUID,
  createInteropPki,
  expectedConvWeight,
  FEDERATION_UUID,
  type OpenFLServer,
  removeDir,
  sha256,
  startOpenFLServer,
} from "./openfl-fixture.js";

/** OpenFL's real server delays UNAUTHENTICATED answers by a random 0-5 s. */
const AUTH_DELAY_TIMEOUT_MS = 20_000;

describe("Node client -> OpenFL 1.9's real AggregatorGRPCServer (mTLS)", () => {
  let dir: string;
  let pki: TestPki;
  let server: OpenFLServer;
  const clients: AggregatorGRPCClient[] = [];

  const client = (overrides: Partial<AggregatorGRPCClientOptions> = {}, name = "collaborator1") => {
    const c = new AggregatorGRPCClient({
      ...collaboratorConnection(pki, name, {
        port: server.port,
        aggregatorUuid: AGGREGATOR_UUID,
        federationUuid: FEDERATION_UUID,
      }),
      retry: { intervalMs: 50 },
      warn: () => {},
      ...overrides,
    });
    clients.push(c);
    return c;
  };

  before(async () => {
    ({ dir, pki } = await createInteropPki(["collaborator1", "collaborator2", "stranger"]));
    // Round 0 ends once both collaborators uploaded both tasks.
    server = await startOpenFLServer({
      pki,
      recordDir: join(dir, "records"),
      collaborators: ["collaborator1", "collaborator2"],
      rounds: 2,
      tasks: ["train", "validate"],
      tensorWaitSeconds: 1,
    });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.disconnect()));
    await server?.stop();
    await removeDir(dir);
  });

  it("pings", async () => {
    await client().ping();
  });

  it("gets the round-0 tasks", async () => {
    const tasks = await client().getTasks();
    assert.equal(tasks.roundNumber, 0);
    assert.equal(tasks.quit, false);
    assert.deepEqual(
      tasks.tasks.map((t) => t.name),
      ["train", "validate"],
    );
  });

  it("decodes the numpy tensor conv.weight encoded by OpenFL's own pipeline", async () => {
    const named = await client().getAggregatedTensor("conv.weight", 0, {
      tags: ["model"],
      requireLossless: true,
    });
    assert.equal(named.name, "conv.weight");
    assert.equal(named.roundNumber, 0);
    assert.equal(named.lossless, true);
    assert.equal(named.report, false);
    assert.deepEqual(named.tags, ["compressed", "model"]);
    assert.equal(named.transformerMetadata.length, 1);
    const tensor = decodeNamedTensor(named);
    assert.deepEqual(tensor.shape, [3, 4, 5]);
    assert.deepEqual(tensor.data, expectedConvWeight(0));
  });

  it("decodes the 0-d scalar", async () => {
    const named = await client().getAggregatedTensor("scale", 0, {
      tags: ["model"],
      requireLossless: true,
    });
    assert.deepEqual(named.transformerMetadata[0]?.intList, []);
    const tensor = decodeNamedTensor(named);
    assert.deepEqual(tensor.shape, []);
    assert.deepEqual(tensor.data, Float32Array.of(0.25));
  });

  it("uploads a > 5 MiB multi-chunk result that OpenFL's codec decodes byte-identical", async () => {
    const data = Float32Array.from({ length: 1_600_000 }, (_, i) => Math.sin(i) * 3);
    const tensor = encodeNamedTensor(
      { shape: [1600, 1000], data },
      { name: "conv.weight", roundNumber: 0, tags: ["trained"] },
    );
    assert.ok(tensor.dataBytes.byteLength > 5 * 1024 * 1024);
    assert.ok(tensor.dataBytes.byteLength > 3 * OPENFL_CHUNK_BYTES, "needs several chunks");
    await client().sendLocalTaskResults(0, "train", 321, [tensor]);

    const record = await server.record("results-r0-collaborator1-train.json");
    assert.equal(record.ignored, false);
    assert.equal(record.collaborator, "collaborator1");
    assert.equal(record.round, 0);
    assert.equal(record.task_name, "train");
    assert.equal(record.data_size, 321);
    assert.equal(record.tensors.length, 1);
    const [t] = record.tensors;
    assert.ok(t);
    assert.equal(t.name, "conv.weight");
    assert.equal(t.round_number, 0);
    assert.deepEqual(t.tags, ["compressed", "trained"]);
    assert.deepEqual(t.decoded_tags, ["trained"]);
    assert.equal(t.lossless, true);
    assert.equal(t.report, false);
    assert.deepEqual(t.shape, [1600, 1000]);
    assert.equal(t.dtype, "float32");
    assert.equal(t.data_bytes_len, tensor.dataBytes.byteLength);
    assert.equal(t.sha256, sha256(tensor.dataBytes));
  });

  it("uploads a small one-chunk result with a weight tensor and a 0-d metric", async () => {
    const weight = encodeNamedTensor(
      { shape: [3, 4, 5], data: Float32Array.from({ length: 60 }, (_, i) => i * -0.5) },
      { name: "conv.weight", roundNumber: 0, tags: ["trained"] },
    );
    const metric = encodeNamedTensor(
      { shape: [], data: [0.875] },
      { name: "accuracy", roundNumber: 0, tags: ["metric"], report: true },
    );
    await client().sendLocalTaskResults(0, "validate", 7, [weight, metric]);

    const record = await server.record("results-r0-collaborator1-validate.json");
    assert.equal(record.round, 0);
    assert.equal(record.task_name, "validate");
    assert.equal(record.data_size, 7);
    const [w, m] = record.tensors;
    assert.ok(w && m);
    assert.equal(w.name, "conv.weight");
    assert.deepEqual(w.shape, [3, 4, 5]);
    assert.deepEqual(w.decoded_tags, ["trained"]);
    assert.equal(w.sha256, sha256(weight.dataBytes));
    assert.equal(m.name, "accuracy");
    assert.equal(m.report, true);
    assert.deepEqual(m.shape, []);
    assert.deepEqual(m.decoded_tags, ["metric"]);
    assert.deepEqual(m.transformer_metadata, [{ int_list: [], int_to_float: {}, bool_list: [] }]);
    assert.deepEqual(m.first, [0.875]);
    assert.equal(m.sha256, sha256(metric.dataBytes));
  });

  it("collaborator2 uploads both tasks on its own connection", async () => {
    const c = client({}, "collaborator2");
    assert.equal((await c.getTasks()).roundNumber, 0);
    for (const task of ["train", "validate"]) {
      const t = encodeNamedTensor(
        { shape: [2, 2], data: [1, 2, 3, 4] },
        { name: "conv.weight", roundNumber: 0, tags: ["trained"] },
      );
      await c.sendLocalTaskResults(0, task, 10, [t]);
      const record = await server.record(`results-r0-collaborator2-${task}.json`);
      assert.equal(record.tensors[0]?.sha256, sha256(t.dataBytes));
    }
  });

  it("after every upload round 1 starts and serves conv.weight + 1", async () => {
    const c = client();
    const tasks = await c.getTasks();
    assert.equal(tasks.roundNumber, 1);
    const named = await c.getAggregatedTensor("conv.weight", 1, {
      tags: ["model"],
      requireLossless: true,
    });
    assert.deepEqual(decodeNamedTensor(named).data, expectedConvWeight(1));
    const scale = await c.getAggregatedTensor("scale", 1, { tags: ["model"] });
    assert.deepEqual(decodeNamedTensor(scale).data, Float32Array.of(1.25));
  });

  it("a late upload for a finished round succeeds and is ignored, as OpenFL's aggregator does", async () => {
    const tensor = encodeNamedTensor(
      { shape: [2], data: [1, 2] },
      { name: "conv.weight", roundNumber: 0, tags: ["trained"] },
    );
    // Round 0 is over: OpenFL ignores the results (wrong round) and the RPC still succeeds.
    await client().sendLocalTaskResults(0, "train", 1, [tensor]);
    const files = await server.recordFiles();
    assert.ok(
      files.some((f) => f.startsWith("ignored-")),
      `an ignored-*.json record: ${files}`,
    );
  });

  it("a tag naming another collaborator returns an empty NamedTensor without error", async () => {
    const named = await client().getAggregatedTensor("conv.weight", 0, {
      tags: ["collaborator2", "trained"],
    });
    assert.equal(named.name, "");
    assert.equal(named.dataBytes.byteLength, 0);
    assert.equal(named.transformerMetadata.length, 0);
  });

  it("InteropRelay outside interop mode is UNIMPLEMENTED, surfaced at once", async () => {
    const retries: RetryEvent[] = [];
    await assert.rejects(
      client({ onRetry: (e) => retries.push(e) }).sendMessageToServer(Uint8Array.of(1, 2, 3)),
      (e: unknown) =>
        e instanceof AggregatorCallError && e.code === Code.Unimplemented && e.attempts === 1,
    );
    assert.equal(retries.length, 0);
  });

  it("a missing tensor ends at the first answer: OpenFL's message says it waited for it", async () => {
    await assert.rejects(
      client().getAggregatedTensor("missing", 0, { tags: ["model"] }),
      (e: unknown) =>
        e instanceof AggregatorCallError &&
        e.code === Code.Unknown &&
        e.reason === "cannot-heal" &&
        e.attempts === 1 &&
        /Aggregator does not have an aggregated tensor/.test(e.message),
    );
  });

  describe("identity", () => {
    it("a sender that differs from the certificate CN is UNAUTHENTICATED and not retried", {
      timeout: AUTH_DELAY_TIMEOUT_MS,
    }, async () => {
      const other = pki.collaborators.stranger;
      const retries: RetryEvent[] = [];
      await assert.rejects(
        client({
          certificate: other?.cert,
          privateKey: other?.key,
          onRetry: (e) => retries.push(e),
        }).getTasks(),
        (e: unknown) =>
          e instanceof AggregatorCallError &&
          e.code === Code.Unauthenticated &&
          e.reason === "cannot-heal" &&
          e.attempts === 1 &&
          e.message.includes(
            "Invalid collaborator. CN: |stranger| collaborator_common_name: |collaborator1|",
          ),
      );
      assert.equal(retries.length, 0);
    });

    it("a collaborator the aggregator does not list is told so (its CN matches), not given the CN gloss", {
      timeout: AUTH_DELAY_TIMEOUT_MS,
    }, async () => {
      await assert.rejects(
        client({}, "stranger").getTasks(),
        (e: unknown) =>
          e instanceof AggregatorCallError &&
          e.code === Code.Unauthenticated &&
          e.reason === "cannot-heal" &&
          e.attempts === 1 &&
          e.message.includes("does not list collaborator 'stranger' as authorised") &&
          !e.message.includes("certificate CN vs sender"),
      );
    });

    it("a wrong federation uuid ends at the first answer, saying the aggregator runs another plan", async () => {
      await assert.rejects(
        client({ federationUuid: "other.yaml_00000000" }).ping(),
        (e: unknown) =>
          e instanceof AggregatorCallError &&
          e.code === Code.Unknown &&
          e.reason === "cannot-heal" &&
          e.attempts === 1 &&
          e.message.includes("the aggregator runs another plan") &&
          e.message.includes("Federation UUID in request header does not match"),
      );
    });

    it("the uuids of a plan edited after the aggregator started end at the first answer, with both plans' hash prefixes", async () => {
      // An edit changes the plan's hash, so both uuids differ; OpenFL checks the receiver first.
      const edited = "plan.yaml_0badc0de";
      await assert.rejects(
        client({ federationUuid: edited, aggregatorUuid: `aggregator_${edited}` }).ping(),
        (e: unknown) =>
          e instanceof AggregatorCallError &&
          e.reason === "cannot-heal" &&
          e.attempts === 1 &&
          e.message.includes("the aggregator runs another plan") &&
          e.message.includes(`Expected: ${AGGREGATOR_UUID}, Actual: aggregator_${edited}`),
      );
    });

    it("a server certificate from an unknown CA is a TLS verification error, attempts 1", async () => {
      const other = await createTestPki(join(dir, "other-ca"), { collaborators: [] });
      await assert.rejects(
        client({ rootCertificate: other.caCert }).ping(),
        (e: unknown) =>
          e instanceof AggregatorCallError &&
          e.reason === "cannot-heal" &&
          e.attempts === 1 &&
          /TLS certificate did not verify/.test(e.message),
      );
    });

    it("the server is still healthy after the failures", async () => {
      await client().ping();
    });
  });
});
