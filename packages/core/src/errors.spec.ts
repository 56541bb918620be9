import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { AggregatorCallError, HeaderMismatchError } from "./errors.js";

const failed = (code: Code, platform?: "connection") =>
  new AggregatorCallError("GetAggregatedTensor", code, "x", "ambiguous-budget", 3, {
    cause: undefined,
    platform,
  });

describe("AggregatorCallError.isServerException", () => {
  it("is true for the aggregator's own exception: UNKNOWN or INTERNAL with no transport cause", () => {
    assert.equal(failed(Code.Unknown).isServerException, true);
    assert.equal(failed(Code.Internal).isServerException, true);
  });

  it("is false for a transport failure, another code, or our own check of the answer", () => {
    assert.equal(failed(Code.Unknown, "connection").isServerException, false);
    assert.equal(failed(Code.Unauthenticated).isServerException, false);
    assert.equal(new HeaderMismatchError("Ping", "sender", "a", "b").isServerException, false);
  });
});
