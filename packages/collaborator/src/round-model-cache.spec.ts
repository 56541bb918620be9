import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { Code } from "@connectrpc/connect";
import { AggregatorCallError, encodeNamedTensor, encodeTensor } from "@openfl-connect/core";
import { tensorCompression } from "./compression/tensor-compression.js";
import {
  aggregatedDeltaTags,
  type FetchTensor,
  ModelTensorError,
  RoundModelCache,
} from "./round-model-cache.js";

/** An aggregator whose round-r model is [r, 10 r]; records each request. */
function aggregator(answerDeltas = true) {
  const requests: string[] = [];
  const fetch: FetchTensor = async (name, round, request) => {
    requests.push(`${name}@${round} ${request.tags.join(",")} lossless=${request.requireLossless}`);
    if (request.tags.includes("delta") && answerDeltas) {
      return encodeNamedTensor(
        { shape: [2], data: [1, 10] },
        { name, roundNumber: round, tags: ["aggregated", "delta"] },
      );
    }
    return encodeNamedTensor(
      { shape: [2], data: [round, 10 * round] },
      { name, roundNumber: round, tags: ["model"] },
    );
  };
  return { fetch, requests };
}

describe("RoundModelCache", () => {
  it("fetches a tensor once per round and hands out copies", async () => {
    const { fetch, requests } = aggregator();
    const cache = new RoundModelCache(fetch, { useDeltaUpdates: false });
    const a = await cache.tensor("w", 2);
    a.data[0] = 99;
    const b = await cache.tensor("w", 2);
    assert.deepEqual([...b.data], [2, 20]);
    assert.deepEqual(requests, ["w@2 model lossless=true"]);
  });

  it("with delta updates asks for ('aggregated', 'delta', 'compressed') once the previous round is held", async () => {
    const { fetch, requests } = aggregator();
    const cache = new RoundModelCache(fetch, { useDeltaUpdates: true });
    await cache.tensor("w", 0);
    const next = await cache.tensor("w", 1);
    assert.deepEqual([...next.data], [1, 10]);
    assert.deepEqual(next.shape, [2]);
    assert.deepEqual(requests, [
      "w@0 model lossless=true",
      "w@1 aggregated,delta,compressed lossless=false",
    ]);
  });

  it("after a restart (nothing held) fetches the whole model, even with delta updates", async () => {
    const { fetch, requests } = aggregator();
    const cache = new RoundModelCache(fetch, { useDeltaUpdates: true });
    assert.deepEqual([...(await cache.tensor("w", 3)).data], [3, 30]);
    assert.deepEqual(requests, ["w@3 model lossless=true"]);
  });

  /** The aggregator() above, but every delta request fails with `code`. */
  function refusingDeltas(code: Code) {
    const { fetch: whole, requests } = aggregator();
    const fetch: FetchTensor = async (name, round, request) => {
      if (!request.tags.includes("delta")) return whole(name, round, request);
      requests.push(`${name}@${round} delta refused`);
      throw new AggregatorCallError("GetAggregatedTensor", code, "x", "cannot-heal", 1, {
        cause: undefined,
      });
    };
    return { fetch, requests };
  }

  it("fetches the whole tensor when the aggregator cannot build the delta (its base round is gone)", async () => {
    const { fetch, requests } = refusingDeltas(Code.Unknown);
    const cache = new RoundModelCache(fetch, { useDeltaUpdates: true });
    await cache.tensor("w", 0);
    const next = await cache.tensor("w", 1);
    assert.deepEqual([...next.data], [1, 10]);
    assert.deepEqual(requests, [
      "w@0 model lossless=true",
      "w@1 delta refused",
      "w@1 model lossless=true",
    ]);
  });

  it("does not hide any other refusal of the delta (an identity refusal) behind the fallback", async () => {
    const refused = new RoundModelCache(refusingDeltas(Code.Unauthenticated).fetch, {
      useDeltaUpdates: true,
    });
    await refused.tensor("w", 0);
    await assert.rejects(
      refused.tensor("w", 1),
      (e: unknown) => e instanceof AggregatorCallError && e.code === Code.Unauthenticated,
    );
  });

  it("takes an answer without the delta tag as the whole tensor", async () => {
    const { fetch } = aggregator(false);
    const cache = new RoundModelCache(fetch, { useDeltaUpdates: true });
    await cache.tensor("w", 1);
    // Round 2's answer [2, 20] as it is, not added to round 1's [1, 10].
    assert.deepEqual([...(await cache.tensor("w", 2)).data], [2, 20]);
  });

  it("keeps only the current and the previous round", async () => {
    const { fetch } = aggregator();
    const cache = new RoundModelCache(fetch, { useDeltaUpdates: false });
    await cache.tensor("w", 0);
    await cache.tensor("w", 1);
    await cache.tensor("w", 2);
    assert.equal(cache.held("w", 0), undefined);
    assert.deepEqual([...(cache.held("w", 1)?.data ?? [])], [1, 10]);
  });

  it("without delta updates asks each round for the whole tensor, never a delta, though the previous round is held", async () => {
    const { fetch, requests } = aggregator();
    const cache = new RoundModelCache(fetch, { useDeltaUpdates: false });
    for (const round of [0, 1, 2]) {
      assert.deepEqual([...(await cache.tensor("w", round)).data], [round, 10 * round]);
    }
    assert.deepEqual(requests, [
      "w@0 model lossless=true",
      "w@1 model lossless=true",
      "w@2 model lossless=true",
    ]);
  });

  it("with delta updates rebuilds each round from the one before (round 2 = round 1 rebuilt + delta)", async () => {
    const { fetch, requests } = aggregator();
    const cache = new RoundModelCache(fetch, { useDeltaUpdates: true });
    await cache.tensor("w", 0);
    await cache.tensor("w", 1);
    assert.deepEqual([...(await cache.tensor("w", 2)).data], [2, 20]);
    assert.deepEqual(requests.slice(1), [
      "w@1 aggregated,delta,compressed lossless=false",
      "w@2 aggregated,delta,compressed lossless=false",
    ]);
    // Another tensor of round 2, whose round 1 is not held: the whole tensor.
    await cache.tensor("b", 2);
    assert.equal(requests.at(-1), "b@2 model lossless=true");
  });

  it("hands out copies whose shape and data do not touch the held tensor", async () => {
    const { fetch } = aggregator();
    const cache = new RoundModelCache(fetch, { useDeltaUpdates: false });
    const a = await cache.tensor("w", 1);
    assert.deepEqual(a.shape, [2]);
    (a.shape as number[]).push(5);
    a.data[1] = -1;
    const held = cache.held("w", 1);
    assert.deepEqual([held?.shape, [...(held?.data ?? [])]], [[2], [1, 10]]);
    assert.equal(cache.held("w", 0), undefined);
    assert.equal(cache.held("v", 1), undefined);
  });

  it("drops later rounds when the aggregator goes back to an earlier one (e.g. a restarted experiment)", async () => {
    const { fetch, requests } = aggregator();
    const cache = new RoundModelCache(fetch, { useDeltaUpdates: false });
    await cache.tensor("w", 1);
    await cache.tensor("w", 2);
    await cache.tensor("w", 0);
    assert.equal(cache.held("w", 2), undefined);
    assert.equal(cache.held("w", 1), undefined);
    assert.deepEqual([...(cache.held("w", 0)?.data ?? [])], [0, 0]);
    // Several tensors of one round are all kept.
    await cache.tensor("b", 0);
    assert.ok(cache.held("w", 0) && cache.held("b", 0));
    assert.equal(requests.length, 4);
  });

  it("refuses a delta whose size is not the previous round's model's, naming both shapes", async () => {
    const fetch: FetchTensor = async (name, round, request) =>
      request.tags.includes("delta")
        ? encodeNamedTensor(
            { shape: [3, 1], data: [1, 1, 1] },
            { name, roundNumber: round, tags: ["aggregated", "delta"] },
          )
        : encodeNamedTensor({ shape: [1, 2], data: [0, 0] }, { name, roundNumber: round });
    const cache = new RoundModelCache(fetch, { useDeltaUpdates: true });
    await cache.tensor("w", 4);
    await assert.rejects(
      cache.tensor("w", 5),
      (e: unknown) =>
        e instanceof ModelTensorError &&
        e.name === "ModelTensorError" &&
        e.message ===
          "delta of model tensor 'w' for round 5 has shape [3, 1], the round 4 model has [1, 2]",
    );
    assert.equal(cache.held("w", 5), undefined);
  });

  it("does not hide a failure of the delta request that is no aggregator answer", async () => {
    const failure = new Error("network down");
    const { fetch: whole } = aggregator();
    const fetch: FetchTensor = async (name, round, request) => {
      if (request.tags.includes("delta")) throw failure;
      return whole(name, round, request);
    };
    const cache = new RoundModelCache(fetch, { useDeltaUpdates: true });
    await cache.tensor("w", 0);
    await assert.rejects(cache.tensor("w", 1), (e: unknown) => e === failure);
  });

  it("refuses an answer for another tensor (e.g. the empty tensor of a refused request)", async () => {
    const cache = new RoundModelCache(
      async () => encodeNamedTensor({ shape: [], data: [0] }, { name: "", roundNumber: 0 }),
      { useDeltaUpdates: false },
    );
    await assert.rejects(
      cache.tensor("w", 0),
      (e: unknown) =>
        e instanceof ModelTensorError &&
        e.message === "asked the aggregator for model tensor 'w' of round 0, got '(empty tensor)'",
    );
    const other = new RoundModelCache(
      async () => encodeNamedTensor({ shape: [1], data: [0] }, { name: "v", roundNumber: 0 }),
      { useDeltaUpdates: false },
    );
    await assert.rejects(
      other.tensor("w", 0),
      (e: unknown) => e instanceof ModelTensorError && /, got 'v'$/.test(e.message),
    );
  });

  it("tells a tensor fetched whole that round (OpenFL's ('model',) key of the collaborator) from one rebuilt from a delta", async () => {
    const { fetch } = aggregator();
    const cache = new RoundModelCache(fetch, { useDeltaUpdates: true });
    await cache.tensor("w", 0);
    assert.deepEqual([...(cache.wholeModel("w", 0)?.data ?? [])], [0, 0]);
    await cache.tensor("w", 1);
    assert.ok(cache.held("w", 1), "held");
    assert.equal(cache.wholeModel("w", 1), undefined, "rebuilt from the delta: not whole");
    assert.equal(cache.wholeModel("v", 0), undefined);
    // After the delta fails and the whole tensor is fetched, that round's tensor is whole.
    const refused = new RoundModelCache(refusingDeltas(Code.Unknown).fetch, {
      useDeltaUpdates: true,
    });
    await refused.tensor("w", 0);
    await refused.tensor("w", 1);
    assert.deepEqual([...(refused.wholeModel("w", 1)?.data ?? [])], [1, 10]);
    // Rounds dropped from the cache are dropped from this too.
    await refused.tensor("w", 3);
    assert.equal(refused.wholeModel("w", 1), undefined);
    assert.ok(refused.wholeModel("w", 3));
  });
});

describe("RoundModelCache under a compression pipeline", () => {
  it("asks for the delta tags OpenFL's find_dependencies asks for: lossy_compressed under a lossy pipeline", () => {
    assert.deepEqual(aggregatedDeltaTags({ kind: "none" }), ["aggregated", "delta", "compressed"]);
    assert.deepEqual(aggregatedDeltaTags({ kind: "random-shift" }), [
      "aggregated",
      "delta",
      "compressed",
    ]);
    for (const kind of ["stc", "skc", "kc", "eden"] as const) {
      assert.deepEqual(aggregatedDeltaTags({ kind }), ["aggregated", "delta", "lossy_compressed"]);
    }
  });

  it("decodes a KC-compressed aggregated delta with the plan's pipeline and applies it", async () => {
    const pipeline = { kind: "kc", nClusters: 2 } as const;
    const requests: string[] = [];
    const fetch: FetchTensor = async (name, round, request) => {
      requests.push(request.tags.join(","));
      const delta = request.tags.includes("delta");
      return encodeTensor(
        delta
          ? { shape: [4], data: Float32Array.of(1, 1, 3, 3) }
          : { shape: [4], data: Float32Array.of(0, 0, 0, 0) },
        {
          name,
          roundNumber: round,
          tags: delta ? ["aggregated", "delta"] : ["model"],
          pipeline,
          requireLossless: !delta,
          gzip: (b) => new Uint8Array(gzipSync(b)),
        },
      );
    };
    const cache = new RoundModelCache(fetch, {
      useDeltaUpdates: true,
      compression: tensorCompression({ pipeline }),
    });
    await cache.tensor("w", 0);
    // Two distinct values, two clusters: k-means decodes them exactly.
    assert.deepEqual([...(await cache.tensor("w", 1)).data], [1, 1, 3, 3]);
    assert.deepEqual(requests, ["model", "aggregated,delta,lossy_compressed"]);
  });
});
