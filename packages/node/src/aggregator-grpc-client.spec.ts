import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidOptionError, MAX_TIMER_MS } from "@openfl-connect/core";
import { AggregatorGRPCClient } from "./aggregator-grpc-client.js";

const options = {
  aggAddr: "127.0.0.1",
  aggPort: 1,
  aggregatorUuid: "aggregator_fed",
  federationUuid: "fed",
  collaboratorName: "one",
  useTls: false,
  warn: () => {},
};

describe("AggregatorGRPCClient options", () => {
  it("takes connectTimeoutMs from 1 ms to the longest timer, and refuses the rest naming the range", () => {
    for (const ok of [1, 20_000, MAX_TIMER_MS]) {
      assert.doesNotThrow(() => new AggregatorGRPCClient({ ...options, connectTimeoutMs: ok }));
    }
    for (const bad of [0, 0.5, -1, MAX_TIMER_MS + 1, Number.POSITIVE_INFINITY, Number.NaN]) {
      assert.throws(
        () => new AggregatorGRPCClient({ ...options, connectTimeoutMs: bad }),
        (e: unknown) =>
          e instanceof InvalidOptionError &&
          e.option === "connectTimeoutMs" &&
          e.expected === `a number of ms from 1 to ${MAX_TIMER_MS}`,
        String(bad),
      );
    }
  });
});
