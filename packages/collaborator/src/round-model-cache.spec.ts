import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { AggregatorCallError, encodeNamedTensor } from "@openfl-connect/core";
import { type FetchTensor, ModelTensorError, RoundModelCache } from "./round-model-cache.js";

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
    await cache.tensor("w", 0);
    assert.deepEqual([...(await cache.tensor("w", 1)).data], [1, 10]);
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

  it("refuses an answer for another tensor (e.g. the empty tensor of a refused request)", async () => {
    const cache = new RoundModelCache(
      async () => encodeNamedTensor({ shape: [], data: [0] }, { name: "", roundNumber: 0 }),
      { useDeltaUpdates: false },
    );
    await assert.rejects(cache.tensor("w", 0), ModelTensorError);
  });
});
