// OpenFL 1.9's REAL Python AggregatorGRPCClient (openfl_client_driver.py) against our TS
// ReferenceAggregator over mutual TLS: every RPC the collaborator uses, and what arrives.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { encodeNamedTensor } from "@openfl-connect/core";
import type { AggregatorLogger, ReferenceAggregator } from "@openfl-connect/reference-aggregator";
import type { TestPki } from "@openfl-connect/reference-aggregator/pki";
import {
  createInteropPki,
  type OpenFLDriverRun,
  removeDir,
  requirePython,
  runOpenFLClient,
  startInteropReferenceAggregator,
} from "./openfl-fixture.js";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Float32 little-endian bytes, as numpy's astype("<f4").tobytes(). */
function float32Bytes(values: Float32Array): Uint8Array {
  return encodeNamedTensor({ shape: [values.length], data: values }, { name: "x", roundNumber: 0 })
    .dataBytes;
}

/** Marks the promise handled so it may reject before a test awaits it. */
function started<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

const CONV_WEIGHT = Float32Array.from({ length: 60 }, (_, i) => Math.cos(i) * 2 - i / 60);

describe("OpenFL 1.9's real Python client -> TS ReferenceAggregator (mTLS)", () => {
  let dir: string;
  let pki: TestPki;
  let aggregator: ReferenceAggregator;
  let port: number;
  /**
   * Each OpenFL client run is a Python process that takes ~2.5 s to import OpenFL, so the runs
   * that do not depend on each other start together in `before`; each test awaits its own.
   */
  let runs: Record<
    "main" | "scalar" | "resend" | "otherTag" | "missing" | "cnMismatch" | "wrongFederation",
    Promise<OpenFLDriverRun>
  >;
  const logLines: string[] = [];
  const logger: AggregatorLogger = (level, message, fields) => {
    logLines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };

  before(async () => {
    await requirePython();
    ({ dir, pki } = await createInteropPki(["collaborator1", "collaborator2"]));
    ({ aggregator, port } = await startInteropReferenceAggregator(pki, {
      convWeight: CONV_WEIGHT,
      rounds: 2,
      tensorWaitMs: 500,
      logger,
    }));
    const main = started(
      runOpenFLClient({
        port,
        pki,
        collaborator: "collaborator1",
        args: ["--send-seed", "7", "--data-size", "123", "--metric", "loss=0.5", "--timeout", "30"],
      }),
    );
    runs = {
      main,
      // Needs the main run's upload first.
      resend: started(
        main.then(() =>
          runOpenFLClient({
            port,
            pki,
            collaborator: "collaborator1",
            args: ["--ops", "get_tasks,send", "--task-name", "train", "--send-round", "0"],
          }),
        ),
      ),
      scalar: started(
        runOpenFLClient({
          port,
          pki,
          collaborator: "collaborator2",
          args: ["--ops", "get_tensor", "--tensor-name", "scale", "--tensor-round", "0"],
        }),
      ),
      otherTag: started(
        runOpenFLClient({
          port,
          pki,
          collaborator: "collaborator1",
          args: [
            "--ops",
            "get_tensor",
            "--tensor-round",
            "0",
            "--tensor-tags",
            "collaborator2,trained",
          ],
        }),
      ),
      missing: started(
        runOpenFLClient({
          port,
          pki,
          collaborator: "collaborator1",
          args: [
            "--ops",
            "get_tensor",
            "--tensor-name",
            "missing",
            "--tensor-round",
            "0",
            "--no-resend",
          ],
        }),
      ),
      cnMismatch: started(
        runOpenFLClient({
          port,
          pki,
          collaborator: "collaborator1",
          certificateOf: "collaborator2",
          args: ["--ops", "get_tasks", "--no-resend"],
        }),
      ),
      wrongFederation: started(
        runOpenFLClient({
          port,
          pki,
          collaborator: "collaborator1",
          args: ["--ops", "ping", "--no-resend", "--federation-uuid", "wrong_fed"],
        }),
      ),
    };
  });

  after(async () => {
    await aggregator?.stop();
    await removeDir(dir);
  });

  it("ping, get_tasks, get_aggregated_tensor and send_local_task_results all succeed", async () => {
    const run = await runs.main;
    assert.equal(run.exitCode, 0, `driver failed: ${JSON.stringify(run.result)}\n${run.stderr}`);
    const r = run.result;
    assert.equal(r.ok, true);
    assert.equal(r.ping, true);
    assert.deepEqual(r.tasks, ["train"]);
    assert.equal(r.round, 0);
    assert.equal(r.quit, false);

    // What OpenFL's client fetched and decoded with its own codec is what we served.
    const f = r.fetched;
    assert.equal(f.name, "conv.weight");
    assert.equal(f.round_number, 0);
    assert.equal(f.report, false);
    assert.equal(f.lossless, true);
    assert.deepEqual(f.tags, ["compressed", "model"]);
    assert.deepEqual(f.decoded_tags, ["model"]);
    assert.deepEqual(f.transformer_metadata, [
      { int_list: [3, 4, 5], int_to_float: {}, bool_list: [] },
    ]);
    assert.deepEqual(f.shape, [3, 4, 5]);
    assert.equal(f.dtype, "float32");
    assert.equal(f.data_bytes_len, 240);
    const served = sha256(float32Bytes(CONV_WEIGHT));
    assert.equal(f.sha256, served);
    assert.equal(f.data_bytes_sha256, served);
    assert.deepEqual(f.first, Array.from(CONV_WEIGHT.slice(0, 5)));

    // What the TS aggregator received is exactly what OpenFL's client sent.
    const s = r.sent;
    assert.deepEqual(s.tags, ["compressed", "trained"]);
    const records = aggregator.state.receivedResults.filter(
      (rec) => rec.collaborator === "collaborator1",
    );
    assert.equal(records.length, 1, `aggregator log:\n${logLines.join("\n")}`);
    const [record] = records;
    assert.ok(record);
    assert.equal(record.round, 0);
    assert.equal(record.taskName, "train");
    assert.equal(record.dataSize, 123);
    const [weight, loss] = record.tensors;
    assert.ok(weight && loss, `two tensors: ${record.tensors.map((t) => t.name)}`);
    assert.equal(weight.name, "conv.weight");
    assert.equal(weight.roundNumber, 0);
    assert.equal(weight.report, false);
    assert.deepEqual(weight.tags, ["trained"]);
    assert.deepEqual(weight.shape, s.shape);
    assert.equal(weight.sha256, s.sha256);
    assert.equal(sha256(float32Bytes(weight.data)), s.sha256);
    assert.deepEqual(Array.from(weight.data.slice(0, 5)), s.first);

    assert.equal(loss.name, "loss");
    assert.equal(loss.report, true);
    assert.deepEqual(loss.tags, ["metric"]);
    assert.deepEqual(loss.shape, []);
    assert.deepEqual(Array.from(loss.data), [0.5]);
    const [sentLoss] = s.metrics;
    assert.equal(loss.sha256, sentLoss.sha256);
  });

  it("the 0-d scalar decodes in OpenFL's codec", async () => {
    const run = await runs.scalar;
    assert.equal(run.exitCode, 0, `driver failed: ${JSON.stringify(run.result)}\n${run.stderr}`);
    const f = run.result.fetched;
    assert.deepEqual(f.shape, []);
    assert.deepEqual(f.transformer_metadata, [{ int_list: [], int_to_float: {}, bool_list: [] }]);
    assert.deepEqual(f.first, [0.25]);
  });

  it("a resend of the same results succeeds and is ignored (idempotent), as in OpenFL", async () => {
    const before = aggregator.state.receivedResults.length;
    const run = await runs.resend;
    assert.equal(run.exitCode, 0, `driver failed: ${JSON.stringify(run.result)}\n${run.stderr}`);
    // The task is done this round: no tasks and OpenFL's sleep_time 10.
    assert.deepEqual(run.result.tasks, []);
    assert.equal(run.result.sleep_time, 10);
    assert.equal(aggregator.state.receivedResults.length, before);
  });

  it("a tag naming another collaborator returns an empty NamedTensor without error", async () => {
    const run = await runs.otherTag;
    assert.equal(run.exitCode, 0, `driver failed: ${JSON.stringify(run.result)}\n${run.stderr}`);
    assert.equal(run.result.fetched.name, "");
    assert.equal(run.result.fetched.data_bytes_len, 0);
    assert.equal(run.result.fetched.decoded, false);
  });

  it("a missing tensor gets UNKNOWN with OpenFL's message", async () => {
    const run = await runs.missing;
    assert.equal(run.exitCode, 1);
    assert.equal(run.result.code, "UNKNOWN");
    assert.match(
      run.result.error,
      /^Exception calling application: Aggregator does not have an aggregated tensor for TensorKey\(/,
    );
  });

  it("a sender that differs from the certificate CN gets UNAUTHENTICATED with OpenFL's text", async () => {
    const run = await runs.cnMismatch;
    assert.equal(run.exitCode, 1);
    assert.equal(run.result.code, "UNAUTHENTICATED");
    assert.equal(
      run.result.error,
      "Invalid collaborator. CN: |collaborator2| collaborator_common_name: |collaborator1|",
    );
  });

  it("a wrong federation uuid gets UNKNOWN with OpenFL's assert text", async () => {
    const run = await runs.wrongFederation;
    assert.equal(run.exitCode, 1);
    assert.equal(run.result.code, "UNKNOWN");
    assert.match(
      run.result.error,
      /^Exception calling application: Federation UUID in request header does not match/,
    );
  });
});
