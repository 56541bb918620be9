import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidOptionError, MAX_TIMER_MS } from "@openfl-connect/core";
import { AggregatorGRPCClient, createNodeConnector } from "./aggregator-grpc-client.js";

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
    for (const bad of [
      0,
      0.5,
      -1,
      MAX_TIMER_MS + 1,
      Number.POSITIVE_INFINITY,
      Number.NaN,
      "5000",
    ]) {
      assert.throws(
        () => new AggregatorGRPCClient({ ...options, connectTimeoutMs: bad as number }),
        (e: unknown) =>
          e instanceof InvalidOptionError &&
          e.option === "connectTimeoutMs" &&
          e.expected === `a number of ms from 1 to ${MAX_TIMER_MS}`,
        String(bad),
      );
    }
  });

  /** The refusal names the option, what it expected (when given) and the value found. */
  const refusedOption = (option: string, expected?: string) => (e: unknown) =>
    e instanceof InvalidOptionError &&
    e.option === option &&
    (expected === undefined || e.expected === expected) &&
    e.message.startsWith(`option '${option}': expected `);

  it("takes aggPort from 1 to 65535, and refuses 0, 65536, fractions and strings", () => {
    for (const ok of [1, 65535]) {
      assert.doesNotThrow(() => new AggregatorGRPCClient({ ...options, aggPort: ok }));
    }
    for (const bad of [0, 65536, 1.5, "50051"]) {
      assert.throws(
        () => new AggregatorGRPCClient({ ...options, aggPort: bad as number }),
        refusedOption("aggPort", "a whole number from 1 to 65535"),
        String(bad),
      );
    }
  });

  it("takes maxMessageBytes from 1 byte, and refuses 0, negatives and fractions", () => {
    assert.doesNotThrow(() => new AggregatorGRPCClient({ ...options, maxMessageBytes: 1 }));
    for (const bad of [0, -1, 1.5]) {
      assert.throws(
        () => new AggregatorGRPCClient({ ...options, maxMessageBytes: bad }),
        refusedOption("maxMessageBytes", "a whole number of bytes > 0"),
        String(bad),
      );
    }
  });

  it("takes a keepalive interval above 0 ms only", () => {
    assert.doesNotThrow(
      () => new AggregatorGRPCClient({ ...options, keepalive: { pingIntervalMs: 1 } }),
    );
    // A keepalive without an interval is refused too, not read as undefined; so is null.
    for (const bad of [{}, null]) {
      assert.throws(
        () => new AggregatorGRPCClient({ ...options, keepalive: bad as never }),
        refusedOption("keepalive.pingIntervalMs", "a number of ms > 0"),
        String(bad),
      );
    }
    for (const bad of [0, -1, "300000"]) {
      assert.throws(
        () =>
          new AggregatorGRPCClient({
            ...options,
            keepalive: { pingIntervalMs: bad as number },
          }),
        refusedOption("keepalive.pingIntervalMs", "a number of ms > 0"),
        String(bad),
      );
    }
  });

  it("refuses an empty or missing aggAddr, non-boolean useTls and requireClientAuth, and options that are not an object", () => {
    for (const bad of ["", undefined, 1]) {
      assert.throws(
        () => new AggregatorGRPCClient({ ...options, aggAddr: bad as string }),
        refusedOption("aggAddr", "a host name or IP address"),
      );
    }
    for (const name of ["useTls", "requireClientAuth"] as const) {
      assert.throws(
        () => new AggregatorGRPCClient({ ...options, [name]: "false" as unknown as boolean }),
        refusedOption(name, "a boolean"),
      );
    }
    for (const bad of [null, undefined, "options"]) {
      assert.throws(() => createNodeConnector(bad as never), refusedOption("options", "an object"));
    }
  });

  it("warns on console.warn when no warn option is given", (t) => {
    const warned = t.mock.method(console, "warn", () => {});
    const { warn: _, ...withoutWarn } = options;
    new AggregatorGRPCClient({ ...withoutWarn, aggPort: 50051 });
    assert.equal(warned.mock.callCount(), 1);
    assert.match(
      String(warned.mock.calls[0]?.arguments[0]),
      /useTls is false: talking to 127\.0\.0\.1:50051/,
    );
  });

  it("useTls: false warns that everything travels in clear text, naming the aggregator", () => {
    const warnings: string[] = [];
    new AggregatorGRPCClient({ ...options, aggPort: 50051, warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, [
      "openfl-connect: useTls is false: talking to 127.0.0.1:50051 without TLS; identity and tensors travel in clear text. Use only for local tests.",
    ]);
  });
});
