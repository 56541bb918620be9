import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AggregatorConnector } from "./aggregator-connection.js";
import { resolveClientOptions } from "./client-options.js";
import { OPENFL_CHUNK_BYTES } from "./datastream-chunks.js";
import { InvalidOptionError } from "./errors.js";
import { InMemoryResendBuffer } from "./resend-buffer.js";
import { defaultRetryPolicy } from "./retry-policy.js";

const connector: AggregatorConnector = {
  target: "nowhere",
  open: () => {
    throw new Error("not opened by option checks");
  },
};
const valid = {
  aggregatorUuid: "aggregator_fed",
  federationUuid: "fed",
  collaboratorName: "one",
  connector,
};

/** The refusal of `options`, asserted to be an InvalidOptionError. */
function refusal(options: unknown): InvalidOptionError {
  try {
    resolveClientOptions(options as never);
  } catch (e) {
    assert.ok(e instanceof InvalidOptionError, `not an InvalidOptionError: ${String(e)}`);
    return e;
  }
  assert.fail(`accepted ${JSON.stringify(options)}`);
}

describe("resolveClientOptions refuses each bad option, naming it and what it expected", () => {
  it("refuses a non-object as the options", () => {
    for (const options of [null, undefined, "opts", 3]) {
      const e = refusal(options);
      assert.equal(e.option, "options");
      assert.equal(e.expected, "an object");
    }
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ["aggregatorUuid", { aggregatorUuid: "" }, "a non-empty string"],
    ["aggregatorUuid", { aggregatorUuid: undefined }, "a non-empty string"],
    ["federationUuid", { federationUuid: 7 }, "a non-empty string"],
    ["collaboratorName", { collaboratorName: "" }, "a non-empty string"],
    ["singleColCertCommonName", { singleColCertCommonName: 1 }, "a string"],
    ["connector", { connector: null }, "an AggregatorConnector (with open())"],
    ["connector", { connector: "grpc://x" }, "an AggregatorConnector (with open())"],
    ["connector", { connector: { open: "yes" } }, "an AggregatorConnector (with open())"],
    ["enableAtomicConnections", { enableAtomicConnections: 1 }, "a boolean"],
    ["resendDataOnReconnection", { resendDataOnReconnection: "no" }, "a boolean"],
    ["refetchServerCertificate", { refetchServerCertificate: "/ca.pem" }, "a function"],
    ["onRetry", { onRetry: true }, "a function"],
    ["uploadChunkBytes", { uploadChunkBytes: 0 }, "a whole number of bytes > 0, or Infinity"],
    ["resendBuffer", { resendBuffer: "memory" }, "a ResendBuffer (add, acknowledge, list)"],
    ["resendBuffer", { resendBuffer: null }, "a ResendBuffer (add, acknowledge, list)"],
    ["resendBuffer", { resendBuffer: { list() {} } }, "a ResendBuffer (add, acknowledge, list)"],
    ["retry", { retry: "fast" }, "an object"],
  ];
  for (const [option, override, expected] of cases) {
    it(`${option}: ${JSON.stringify(override)}`, () => {
      const e = refusal({ ...valid, ...override });
      assert.equal(e.option, option);
      assert.equal(e.expected, expected);
    });
  }
});

describe("resolveClientOptions fills OpenFL's defaults and keeps what it was given", () => {
  it("defaults: no single-certificate CN, persistent channel, resend on, 2 MiB chunks, memory buffer", () => {
    const o = resolveClientOptions(valid);
    assert.equal(o.singleColCertCommonName, "");
    assert.equal(o.enableAtomicConnections, false);
    assert.equal(o.resendDataOnReconnection, true);
    assert.equal(o.uploadChunkBytes, OPENFL_CHUNK_BYTES);
    assert.ok(o.resendBuffer instanceof InMemoryResendBuffer);
    assert.equal(o.retry, defaultRetryPolicy);
    assert.equal(o.refetchServerCertificate, undefined);
    assert.equal(o.onRetry, undefined);
  });

  it("keeps every given value, a non-empty single-certificate CN included", () => {
    const resendBuffer = new InMemoryResendBuffer();
    const refetch = () => "ca.pem";
    const onRetry = () => {};
    const o = resolveClientOptions({
      ...valid,
      singleColCertCommonName: "shared-cn",
      enableAtomicConnections: true,
      resendDataOnReconnection: false,
      uploadChunkBytes: Number.POSITIVE_INFINITY,
      resendBuffer,
      refetchServerCertificate: refetch,
      onRetry,
      retry: { maxAttempts: 2 },
    });
    assert.deepEqual(
      [o.aggregatorUuid, o.federationUuid, o.collaboratorName, o.singleColCertCommonName],
      ["aggregator_fed", "fed", "one", "shared-cn"],
    );
    assert.equal(o.connector, connector);
    assert.equal(o.enableAtomicConnections, true);
    assert.equal(o.resendDataOnReconnection, false);
    assert.equal(o.uploadChunkBytes, Number.POSITIVE_INFINITY);
    assert.equal(o.resendBuffer, resendBuffer);
    assert.equal(o.refetchServerCertificate, refetch);
    assert.equal(o.onRetry, onRetry);
    assert.equal(o.retry.maxAttempts, 2);
  });

  it("accepts an empty single-certificate CN, the value OpenFL sends by default", () => {
    assert.equal(
      resolveClientOptions({ ...valid, singleColCertCommonName: "" }).singleColCertCommonName,
      "",
    );
  });
});
