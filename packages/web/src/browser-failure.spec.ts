import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { classifyFailure } from "@openfl-connect/core/internal";
import { classifyBrowserFailure } from "./browser-failure.js";

describe("classifyBrowserFailure", () => {
  it("retries a fetch that failed at the network level (TypeError), reported as Unknown", () => {
    const e = new ConnectError("failed", Code.Unknown);
    e.cause = new TypeError("Failed to fetch");
    assert.equal(classifyFailure(e, classifyBrowserFailure).disposition, "retry");
  });

  it("leaves other errors to the gRPC code", () => {
    assert.equal(classifyBrowserFailure(new TypeError("x is not a function")), undefined);
    assert.equal(classifyBrowserFailure(new ConnectError("no", Code.Unknown)), undefined);
  });
});
