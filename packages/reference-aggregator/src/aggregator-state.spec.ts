import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { decodeNamedTensor, encodeNamedTensor } from "@openfl-connect/core";
import {
  AggregatorState,
  type AggregatorStateOptions,
  type RoundSummary,
} from "./aggregator-state.js";
import { silentLogger } from "./logger.js";
import { AGGREGATOR_UUID, FEDERATION_UUID, metric, trained } from "./spec-fixtures.js";

function newState(overrides: Partial<AggregatorStateOptions> = {}): AggregatorState {
  return new AggregatorState({
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    authorizedCollaborators: ["alice", "bob"],
    rounds: 2,
    tasks: ["train"],
    initialModel: { w: { shape: [2], data: Float32Array.from([1, 1]) } },
    tensorWaitMs: 50,
    logger: silentLogger,
    ...overrides,
  });
}

function modelRequest(round: number, requestedBy = "alice") {
  return {
    tensorName: "w",
    roundNumber: round,
    report: false,
    tags: ["model"],
    requireLossless: true,
    requestedBy,
  };
}

describe("AggregatorState.getTasks", () => {
  it("hands out the default tasks of round 0", () => {
    const state = newState({ tasks: undefined });
    assert.deepEqual(state.getTasks("alice"), {
      tasks: ["aggregated_model_validation", "train", "locally_tuned_model_validation"],
      roundNumber: 0,
      sleepTime: 0,
      quit: false,
    });
  });

  it("answers no tasks and sleep 10 once a collaborator has done the round", () => {
    const state = newState();
    state.sendLocalTaskResults({
      collaborator: "alice",
      roundNumber: 0,
      taskName: "train",
      dataSize: 1,
      tensors: [trained("w", 0, [1, 2])],
    });
    assert.deepEqual(state.getTasks("alice"), {
      tasks: [],
      roundNumber: 0,
      sleepTime: 10,
      quit: false,
    });
    assert.deepEqual(state.getTasks("bob").tasks, ["train"]);
  });

  it("says quit after the last round and tracks who was told", () => {
    const state = newState({ rounds: 0 });
    assert.equal(state.getTasks("alice").quit, true);
    assert.equal(state.allQuitJobsSent(), false);
    state.getTasks("bob");
    assert.equal(state.allQuitJobsSent(), true);
  });
});

describe("AggregatorState.sendLocalTaskResults", () => {
  it("averages trained tensors weighted by data_size into the next round's model", async () => {
    const state = newState();
    const summaries: RoundSummary[] = [];
    state.onRoundEnd((s) => summaries.push(s));
    state.sendLocalTaskResults({
      collaborator: "alice",
      roundNumber: 0,
      taskName: "train",
      dataSize: 1,
      tensors: [trained("w", 0, [1, 2]), metric("loss", 0, 4)],
    });
    assert.equal(state.currentRound, 0);
    state.sendLocalTaskResults({
      collaborator: "bob",
      roundNumber: 0,
      taskName: "train",
      dataSize: 3,
      tensors: [trained("w", 0, [3, 4]), metric("loss", 0, 8)],
    });
    assert.equal(state.currentRound, 1);
    assert.deepEqual([...(state.model.w?.data ?? [])], [2.5, 3.5]);
    assert.deepEqual(summaries, [
      { round: 0, collaborators: ["alice", "bob"], metrics: { "train/loss": 7 } },
    ]);
    const named = await state.getAggregatedTensor(modelRequest(1));
    assert.deepEqual(named.tags, ["compressed", "model"]);
    assert.deepEqual([...decodeNamedTensor(named).data], [2.5, 3.5]);
    assert.equal(named.roundNumber, 1);
  });

  it("ignores duplicates, wrong rounds and results after the end, without error", () => {
    const state = newState({ rounds: 1, authorizedCollaborators: ["alice"] });
    const results = {
      collaborator: "alice",
      roundNumber: 0,
      taskName: "train",
      dataSize: 1,
      tensors: [trained("w", 0, [1, 2])],
    };
    assert.deepEqual(state.sendLocalTaskResults({ ...results, roundNumber: 5 }), {
      t: "ignored",
      reason: "wrong-round",
    });
    assert.equal(state.sendLocalTaskResults(results).t, "accepted");
    assert.deepEqual(state.sendLocalTaskResults(results), {
      t: "ignored",
      reason: "experiment-finished",
    });
    assert.equal(state.receivedResults.length, 1);
  });

  it("ignores a second upload of the same task in the same round", () => {
    const state = newState();
    const results = {
      collaborator: "alice",
      roundNumber: 0,
      taskName: "train",
      dataSize: 1,
      tensors: [trained("w", 0, [1, 2])],
    };
    state.sendLocalTaskResults(results);
    assert.deepEqual(state.sendLocalTaskResults(results), { t: "ignored", reason: "duplicate" });
  });

  it("rejects a tensor without the compressed tag or without transformer_metadata", () => {
    const state = newState();
    const plain = trained("w", 0, [1, 2]);
    plain.tags = ["trained"];
    const noMetadata = trained("w", 0, [1, 2]);
    noMetadata.transformerMetadata = [];
    for (const tensor of [plain, noMetadata]) {
      assert.throws(
        () =>
          state.sendLocalTaskResults({
            collaborator: "alice",
            roundNumber: 0,
            taskName: "train",
            dataSize: 1,
            tensors: [tensor],
          }),
        /is not compressed|no transformer_metadata/,
      );
    }
    assert.equal(state.receivedResults.length, 0);
  });

  it("records each tensor's sha256 and decoded values", () => {
    const state = newState();
    const seen: string[] = [];
    state.onResults((r) => seen.push(`${r.collaborator}/${r.taskName}`));
    state.sendLocalTaskResults({
      collaborator: "alice",
      roundNumber: 0,
      taskName: "train",
      dataSize: 2,
      tensors: [trained("w", 0, [1, 2])],
    });
    const tensor = state.receivedResults[0]?.tensors[0];
    assert.equal(tensor?.sha256.length, 64);
    assert.deepEqual(tensor?.tags, ["trained"]);
    assert.deepEqual([...(tensor?.data ?? [])], [1, 2]);
    assert.deepEqual(seen, ["alice/train"]);
  });

  it("hashes data_bytes exactly as received (NaN payloads too), as an enumerable property", () => {
    const state = newState();
    const named = trained("w", 0, [1, 2]);
    // A signalling-NaN bit pattern: a float round trip could change it, a byte copy does not.
    named.dataBytes = Uint8Array.of(0x01, 0x00, 0x80, 0x7f, 0, 0, 0x80, 0x3f);
    const expected = createHash("sha256").update(named.dataBytes).digest("hex");
    state.sendLocalTaskResults({
      collaborator: "alice",
      roundNumber: 0,
      taskName: "train",
      dataSize: 2,
      tensors: [named],
    });
    const tensor = state.receivedResults[0]?.tensors[0];
    assert.ok(tensor);
    assert.equal(tensor.sha256, expected);
    assert.equal(tensor.sha256, expected);
    assert.ok(Object.keys(tensor).includes("sha256"));
    assert.equal({ ...tensor }.sha256, expected);
    assert.equal((JSON.parse(JSON.stringify(tensor)) as { sha256: string }).sha256, expected);
  });
});

describe("AggregatorState roundParticipants", () => {
  it("ends a round without waiting for an authorised non-participant, who may still upload", () => {
    const state = newState({
      authorizedCollaborators: ["alice", "bob", "dashboard"],
      roundParticipants: ["alice", "bob"],
    });
    assert.equal(state.validCollaboratorCnAndId("dashboard", "dashboard"), true);
    assert.deepEqual(state.getTasks("dashboard").tasks, ["train"]);
    for (const collaborator of ["alice", "bob"]) {
      state.sendLocalTaskResults({
        collaborator,
        roundNumber: 0,
        taskName: "train",
        dataSize: 1,
        tensors: [trained("w", 0, [1, 2])],
      });
    }
    assert.equal(state.currentRound, 1);
    state.getTasks("alice");
    assert.equal(state.allQuitJobsSent(), false);
  });

  it("leaves a non-participant's trained tensors out of the next round's model (as OpenFL's assigner does)", async () => {
    const state = newState({
      authorizedCollaborators: ["alice", "dashboard"],
      roundParticipants: ["alice"],
    });
    state.sendLocalTaskResults({
      collaborator: "dashboard",
      roundNumber: 0,
      taskName: "train",
      dataSize: 2147483647,
      tensors: [trained("w", 0, [1000, 1000])],
    });
    state.sendLocalTaskResults({
      collaborator: "alice",
      roundNumber: 0,
      taskName: "train",
      dataSize: 1,
      tensors: [trained("w", 0, [3, 4])],
    });
    assert.deepEqual([...(state.model.w?.data ?? [])], [3, 4]);
  });

  it("says all quit jobs are sent once every participant was told, whatever others do", () => {
    const state = newState({
      rounds: 0,
      authorizedCollaborators: ["alice", "dashboard"],
      roundParticipants: ["alice"],
    });
    state.getTasks("alice");
    assert.equal(state.allQuitJobsSent(), true);
  });

  it("rejects participants that are not authorised, or none", () => {
    assert.throws(() => newState({ roundParticipants: ["mallory"] }), /not authorised: mallory/);
    assert.throws(() => newState({ roundParticipants: [] }), RangeError);
  });

  it("refuses a tensorWaitMs longer than one timer holds (it would fail every wait at once)", () => {
    assert.throws(
      () => newState({ tensorWaitMs: 2 ** 31 }),
      /tensorWaitMs must be from 0 to 2147483647/,
    );
  });
});

describe("AggregatorState.getAggregatedTensor", () => {
  it("serves the initial model tagged compressed and model", async () => {
    const named = await newState().getAggregatedTensor(modelRequest(0));
    assert.equal(named.name, "w");
    assert.deepEqual(named.tags, ["compressed", "model"]);
    assert.equal(named.lossless, true);
    assert.deepEqual(named.transformerMetadata[0]?.intList, [2]);
  });

  it("serves each round's model unchanged after later rounds end", async () => {
    const state = newState();
    const bytes = async (round: number) =>
      Buffer.from((await state.getAggregatedTensor(modelRequest(round))).dataBytes).toString("hex");
    const round0 = await bytes(0);
    assert.equal(round0, Buffer.from(Float32Array.of(1, 1).buffer).toString("hex"));
    for (const collaborator of ["alice", "bob"]) {
      state.sendLocalTaskResults({
        collaborator,
        roundNumber: 0,
        taskName: "train",
        dataSize: 1,
        tensors: [trained("w", 0, [3, 5])],
      });
    }
    assert.equal(await bytes(1), Buffer.from(Float32Array.of(3, 5).buffer).toString("hex"));
    assert.equal(await bytes(0), round0);
  });

  it("records each request as it was asked, answered or not", async () => {
    const state = newState({ tensorWaitMs: 0 });
    await state.getAggregatedTensor({ ...modelRequest(0), tags: ["model", "compressed"] });
    await assert.rejects(state.getAggregatedTensor(modelRequest(3, "bob")));
    assert.deepEqual(
      state.tensorRequestsReceived.map((r) => [r.requestedBy, r.roundNumber, r.tags]),
      [
        ["alice", 0, ["model", "compressed"]],
        ["bob", 3, ["model"]],
      ],
    );
  });

  it("treats request tags as a set without compressed", async () => {
    const named = await newState().getAggregatedTensor({
      ...modelRequest(0),
      tags: ["model", "compressed", "model"],
    });
    assert.deepEqual(named.tags, ["compressed", "model"]);
  });

  it("fails after tensorWaitMs for a tensor that never appears", async () => {
    await assert.rejects(
      newState().getAggregatedTensor(modelRequest(7)),
      /Aggregator does not have an aggregated tensor for TensorKey\(tensor_name='w'.*round_number=7/,
    );
  });

  it("waits for the next round's model to appear", async () => {
    const state = newState({ authorizedCollaborators: ["alice"], tensorWaitMs: 5000 });
    const pending = state.getAggregatedTensor(modelRequest(1));
    state.sendLocalTaskResults({
      collaborator: "alice",
      roundNumber: 0,
      taskName: "train",
      dataSize: 1,
      tensors: [trained("w", 0, [5, 6])],
    });
    assert.deepEqual([...decodeNamedTensor(await pending).data], [5, 6]);
  });

  it("returns an empty tensor for a tag naming another collaborator", async () => {
    const named = await newState().getAggregatedTensor({
      ...modelRequest(0),
      tags: ["trained", "bob"],
    });
    assert.equal(named.name, "");
    assert.equal(named.dataBytes.byteLength, 0);
  });

  it("rejects an initial model whose data does not fit its shape", () => {
    assert.throws(() =>
      newState({ initialModel: { w: { shape: [3], data: Float32Array.from([1]) } } }),
    );
  });
});

describe("AggregatorState delta updates (OpenFL's use_delta_updates)", () => {
  const delta = (round: number, values: number[]) =>
    encodeNamedTensor(
      { shape: [values.length], data: values },
      { name: "w", roundNumber: round, tags: ["trained", "delta"], lossless: false },
    );

  it("adds a trained delta to the round's model before averaging", () => {
    const state = newState({ authorizedCollaborators: ["alice"] });
    // The round-0 model is [1, 1]: a delta of [2, 3] means trained [3, 4].
    const outcome = state.sendLocalTaskResults({
      collaborator: "alice",
      roundNumber: 0,
      taskName: "train",
      dataSize: 1,
      tensors: [delta(0, [2, 3])],
    });
    assert.equal(outcome.t, "accepted");
    assert.deepEqual(outcome.t === "accepted" && outcome.record.tensors[0]?.tags, ["trained"]);
    assert.deepEqual([...(state.model.w?.data ?? [])], [3, 4]);
  });

  it("answers ('aggregated', 'delta') for round 1 with the new model minus round 0's", async () => {
    const state = newState({ authorizedCollaborators: ["alice"] });
    state.sendLocalTaskResults({
      collaborator: "alice",
      roundNumber: 0,
      taskName: "train",
      dataSize: 1,
      tensors: [trained("w", 0, [3, 5])],
    });
    const named = await state.getAggregatedTensor({
      ...modelRequest(1),
      tags: ["aggregated", "delta", "compressed"],
      requireLossless: false,
    });
    assert.deepEqual(named.tags, ["aggregated", "compressed", "delta"]);
    assert.equal(named.lossless, true);
    assert.deepEqual([...decodeNamedTensor(named).data], [2, 4]);
  });

  it("has no aggregated delta for round 0 (fails after the wait, like OpenFL)", async () => {
    const state = newState();
    await assert.rejects(
      state.getAggregatedTensor({ ...modelRequest(0), tags: ["aggregated", "delta"] }),
      /does not have an aggregated tensor/,
    );
  });
});

describe("AggregatorState results OpenFL's aggregator cannot aggregate", () => {
  it("refuses a task whose metric repeats the name and tags of another task's this round", () => {
    const state = newState({
      tasks: ["aggregated_model_validation", "locally_tuned_model_validation"],
    });
    state.sendLocalTaskResults({
      collaborator: "alice",
      roundNumber: 0,
      taskName: "aggregated_model_validation",
      dataSize: 1,
      tensors: [metric("accuracy", 0, 0.25)],
    });
    assert.throws(
      () =>
        state.sendLocalTaskResults({
          collaborator: "alice",
          roundNumber: 0,
          taskName: "locally_tuned_model_validation",
          dataSize: 1,
          tensors: [metric("accuracy", 0, 0.5)],
        }),
      /locally_tuned_model_validation from alice repeats TensorKey\(tensor_name='accuracy'.*already sent by task aggregated_model_validation/,
    );
    // Bob may send the same key: keys are per collaborator.
    const bob = state.sendLocalTaskResults({
      collaborator: "bob",
      roundNumber: 0,
      taskName: "aggregated_model_validation",
      dataSize: 1,
      tensors: [metric("accuracy", 0, 0.75)],
    });
    assert.equal(bob.t, "accepted");
  });

  it("refuses a trained tensor of another shape than the model's on arrival, so the round still ends", async () => {
    const state = newState();
    assert.throws(
      () =>
        state.sendLocalTaskResults({
          collaborator: "alice",
          roundNumber: 0,
          taskName: "train",
          dataSize: 1,
          tensors: [trained("w", 0, [1, 2, 3])],
        }),
      /task train from alice sends TensorKey\(tensor_name='w'.* of shape \[3\], but the model's tensor 'w' has shape \[2\]/,
    );
    // Nothing of the refused upload was kept: alice may send again, and the round ends.
    assert.deepEqual(state.getTasks("alice").tasks, ["train"]);
    for (const collaborator of ["alice", "bob"]) {
      state.sendLocalTaskResults({
        collaborator,
        roundNumber: 0,
        taskName: "train",
        dataSize: 1,
        tensors: [trained("w", 0, [3, 5])],
      });
    }
    assert.equal(state.currentRound, 1);
    assert.deepEqual([...(state.model.w?.data ?? [])], [3, 5]);
  });

  it("refuses a metric of more than one value on arrival (OpenFL: float(value) raises)", () => {
    const state = newState();
    state.sendLocalTaskResults({
      collaborator: "alice",
      roundNumber: 0,
      taskName: "train",
      dataSize: 1,
      tensors: [trained("w", 0, [1, 2]), metric("loss", 0, 0.5)],
    });
    const loss = encodeNamedTensor(
      { shape: [2], data: [0.1, 0.2] },
      { name: "loss", roundNumber: 0, tags: ["metric"], report: true },
    );
    assert.throws(
      () =>
        state.sendLocalTaskResults({
          collaborator: "bob",
          roundNumber: 0,
          taskName: "train",
          dataSize: 1,
          tensors: [trained("w", 0, [1, 2]), loss],
        }),
      /task train from bob sends metric TensorKey\(tensor_name='loss'.* of shape \[2\]: a metric is one value/,
    );
    assert.equal(state.currentRound, 0);
  });
});

describe("AggregatorState data_size on arrival", () => {
  const upload = (dataSize: number, tensors: ReturnType<typeof metric>[]) => ({
    collaborator: "alice",
    roundNumber: 0,
    taskName: "train",
    dataSize,
    tensors,
  });

  it("refuses data_size -1 naming the field, and takes 0 and 1 for metrics", () => {
    const state = newState();
    assert.throws(
      () => state.sendLocalTaskResults(upload(-1, [metric("loss", 0, 1)])),
      (e: unknown) =>
        e instanceof Error &&
        e.message ===
          "data_size must be a whole number >= 0, got -1 (task train, collaborator alice)",
    );
    assert.equal(state.receivedResults.length, 0, "the refused upload was kept");
    assert.equal(state.sendLocalTaskResults(upload(0, [metric("loss", 0, 1)])).t, "accepted");
    const other = newState();
    assert.equal(other.sendLocalTaskResults(upload(1, [metric("loss", 0, 1)])).t, "accepted");
  });

  it("refuses data_size 0 for trained tensors (nothing to weigh them by), and takes 1", () => {
    const state = newState();
    assert.throws(
      () => state.sendLocalTaskResults(upload(0, [trained("w", 0, [1, 2])])),
      /data_size must be > 0 for results with trained tensors \(task train, collaborator alice\)/,
    );
    assert.equal(state.sendLocalTaskResults(upload(1, [trained("w", 0, [1, 2])])).t, "accepted");
  });

  it("refuses a data_size that is not a whole number", () => {
    assert.throws(
      () => newState().sendLocalTaskResults(upload(0.5, [metric("loss", 0, 1)])),
      /data_size must be a whole number >= 0, got 0.5/,
    );
  });
});

describe("AggregatorState shapes on arrival", () => {
  it("refuses a metric of no value, takes one of one value", () => {
    const empty = encodeNamedTensor(
      { shape: [0], data: [] },
      { name: "loss", roundNumber: 0, tags: ["metric"], report: true },
    );
    const state = newState();
    const results = (tensors: ReturnType<typeof metric>[]) => ({
      collaborator: "alice",
      roundNumber: 0,
      taskName: "train",
      dataSize: 1,
      tensors,
    });
    assert.throws(
      () => state.sendLocalTaskResults(results([empty])),
      /sends metric TensorKey\(tensor_name='loss'.* of shape \[0\]: a metric is one value/,
    );
    assert.equal(state.sendLocalTaskResults(results([metric("loss", 0, 1)])).t, "accepted");
  });

  it("refuses a trained tensor of the model's size in another shape ([1, 2] for [2])", () => {
    const reshaped = encodeNamedTensor(
      { shape: [1, 2], data: [1, 2] },
      { name: "w", roundNumber: 0, tags: ["trained"] },
    );
    assert.throws(
      () =>
        newState().sendLocalTaskResults({
          collaborator: "alice",
          roundNumber: 0,
          taskName: "train",
          dataSize: 1,
          tensors: [reshaped],
        }),
      /of shape \[1, 2\], but the model's tensor 'w' has shape \[2\]/,
    );
  });

  it("takes a trained tensor the model does not have (OpenFL adds it to the next model)", () => {
    const state = newState({ authorizedCollaborators: ["alice"] });
    state.sendLocalTaskResults({
      collaborator: "alice",
      roundNumber: 0,
      taskName: "train",
      dataSize: 1,
      tensors: [trained("w", 0, [1, 2]), trained("extra", 0, [3])],
    });
    assert.deepEqual([...(state.model.extra?.data ?? [])], [3]);
  });
});

describe("AggregatorState options at their limits", () => {
  it("takes rounds 0 and 1, refusing -1 and 1.5", () => {
    for (const rounds of [-1, 1.5]) {
      assert.throws(
        () => newState({ rounds }),
        (e: unknown) =>
          e instanceof RangeError &&
          e.message === `rounds must be a whole number >= 0, got ${rounds}`,
      );
    }
    assert.equal(newState({ rounds: 0 }).experimentFinished, true);
    const one = newState({ rounds: 1, authorizedCollaborators: ["alice"] });
    assert.equal(one.experimentFinished, false);
    one.sendLocalTaskResults({
      collaborator: "alice",
      roundNumber: 0,
      taskName: "train",
      dataSize: 1,
      tensors: [trained("w", 0, [1, 2])],
    });
    assert.equal(one.experimentFinished, true);
    assert.equal(one.getTasks("alice").quit, true);
  });

  it("takes tensorWaitMs from 0 to 2147483647, refusing -1 and 2147483648", () => {
    for (const tensorWaitMs of [-1, 2 ** 31, Number.NaN]) {
      assert.throws(
        () => newState({ tensorWaitMs }),
        (e: unknown) =>
          e instanceof RangeError &&
          e.message ===
            `tensorWaitMs must be from 0 to 2147483647 ms (the longest timer), got ${tensorWaitMs}`,
      );
    }
    for (const tensorWaitMs of [0, 1, 2 ** 31 - 2, 2 ** 31 - 1]) {
      assert.equal(newState({ tensorWaitMs }).tensorWaitMs, tensorWaitMs);
    }
    assert.equal(newState({ tensorWaitMs: undefined }).tensorWaitMs, 60_000);
  });

  it("refuses an empty aggregator uuid, federation uuid or collaborator name: each reaches the wire", () => {
    for (const [option, overrides] of [
      ["aggregatorUuid", { aggregatorUuid: "" }],
      ["federationUuid", { federationUuid: "" }],
      ["authorizedCollaborators", { authorizedCollaborators: ["alice", ""] }],
    ] as const) {
      assert.throws(
        () => newState(overrides),
        (e: unknown) =>
          e instanceof RangeError && e.message === `${option}: expected a non-empty string, got ""`,
        option,
      );
    }
    const state = newState({ authorizedCollaborators: ["a"], aggregatorUuid: "x" });
    assert.deepEqual([state.aggregatorUuid, state.authorizedCollaborators], ["x", ["a"]]);
  });
});
