import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { classifyFailure } from "@openfl-connect/core/internal";
import { classifyBrowserFailure } from "./browser-failure.js";

/** Every test's own deadline, so that a hang fails naming the test. */
const deadline = { timeout: 10_000 };

/** How connect-web reports a fetch() that rejected: Unknown, the rejection as its cause. */
function fetchRejected(cause: unknown): ConnectError {
  const e = new ConnectError("failed", Code.Unknown);
  e.cause = cause;
  return e;
}

describe("classifyBrowserFailure", () => {
  it(
    "retries a fetch that failed at the network level (TypeError), reported as Unknown",
    deadline,
    () => {
      const e = fetchRejected(new TypeError("Failed to fetch"));
      const classified = classifyFailure(e, classifyBrowserFailure);
      assert.equal(classified.disposition, "retry");
      assert.match(classified.failure, /^network request failed/);
    },
  );

  for (const [browser, message] of [
    ["Chromium", "Failed to fetch"],
    ["Firefox", "NetworkError when attempting to fetch resource."],
    ["Safari", "Load failed"],
    ["Safari (connection lost)", "The network connection was lost."],
    ["Node (undici)", "fetch failed"],
    ["createXhrFetch", "Failed to fetch https://proxy/x (network error or CORS refusal)"],
  ] as const) {
    it(`reads ${browser}'s "${message}" as a failed connection`, deadline, () => {
      assert.deepEqual(classifyBrowserFailure(fetchRejected(new TypeError(message))), {
        t: "connection",
        failure: "network request failed",
      });
      // Also when it is the error itself, or further down the cause chain.
      assert.equal(classifyBrowserFailure(new TypeError(message))?.t, "connection");
      const deeper = new Error("wrapper", { cause: fetchRejected(new TypeError(message)) });
      assert.equal(classifyBrowserFailure(deeper)?.t, "connection");
    });
  }

  it("leaves other errors to the gRPC code", deadline, () => {
    assert.equal(classifyBrowserFailure(new TypeError("x is not a function")), undefined);
    assert.equal(classifyBrowserFailure(new ConnectError("no", Code.Unknown)), undefined);
    assert.equal(classifyBrowserFailure(undefined), undefined);
    assert.equal(classifyBrowserFailure("Failed to fetch"), undefined);
  });

  it(
    "needs a TypeError: another error that mentions fetch or the network is not one",
    deadline,
    () => {
      assert.equal(classifyBrowserFailure(fetchRejected(new Error("Failed to fetch"))), undefined);
      assert.equal(
        classifyBrowserFailure(fetchRejected(new DOMException("network aborted", "AbortError"))),
        undefined,
      );
      const notNetwork = classifyFailure(fetchRejected(new Error("fetch")), classifyBrowserFailure);
      assert.notEqual(notNetwork.disposition, "retry");
    },
  );
});
