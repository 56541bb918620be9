import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidOptionError } from "../errors.js";
import {
  checkClusters,
  checkSparsity,
  clustersOf,
  DEFAULT_N_CLUSTERS,
  DEFAULT_P_SPARSITY,
  sparsityOf,
} from "./pipeline-settings.js";

function refuses(run: () => unknown, message: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InvalidOptionError);
    assert.equal(error.message, message);
    return true;
  });
}

describe("pipeline settings", () => {
  it("defaults to OpenFL's p_sparsity 0.1 and n_clusters 6", () => {
    assert.equal(DEFAULT_P_SPARSITY, 0.1);
    assert.equal(DEFAULT_N_CLUSTERS, 6);
    assert.equal(sparsityOf({ kind: "stc" }), 0.1);
    assert.equal(sparsityOf({ kind: "skc" }), 0.1);
    assert.equal(clustersOf({ kind: "skc" }), 6);
    assert.equal(clustersOf({ kind: "kc" }), 6);
    assert.equal(sparsityOf({ kind: "stc", pSparsity: 0.25 }), 0.25);
    assert.equal(clustersOf({ kind: "kc", nClusters: 3 }), 3);
  });

  it("accepts a p_sparsity in (0, 1]", () => {
    assert.equal(checkSparsity(1, "p"), 1);
    assert.equal(checkSparsity(1e-9, "p"), 1e-9);
    for (const value of [0, -0.1, 1.0000001, Number.NaN]) {
      refuses(
        () => checkSparsity(value, "p"),
        `option 'p': expected a number in (0, 1], got number ${value}`,
      );
    }
    refuses(() => checkSparsity("0.1", "p"), `option 'p': expected a number in (0, 1], got "0.1"`);
    refuses(
      () => sparsityOf({ kind: "skc", pSparsity: 2 }),
      "option 'pipeline.pSparsity': expected a number in (0, 1], got number 2",
    );
  });

  it("accepts an n_clusters that is an integer >= 1", () => {
    assert.equal(checkClusters(1, "k"), 1);
    assert.equal(checkClusters(256, "k"), 256);
    for (const value of [0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      refuses(
        () => checkClusters(value, "k"),
        `option 'k': expected an integer >= 1, got number ${value}`,
      );
    }
    refuses(() => checkClusters("6", "k"), `option 'k': expected an integer >= 1, got "6"`);
    refuses(
      () => clustersOf({ kind: "kc", nClusters: 0 }),
      "option 'pipeline.nClusters': expected an integer >= 1, got number 0",
    );
  });
});
