import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { classifyFailure } from "./failure-classifier.js";

function nodeError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

function withCause(code: Code, cause: Error, message = "failed"): ConnectError {
  const ce = new ConnectError(message, code);
  ce.cause = cause;
  return ce;
}

describe("classifyFailure", () => {
  it("retries UNAVAILABLE and deadlines", () => {
    assert.equal(classifyFailure(new ConnectError("down", Code.Unavailable)).disposition, "retry");
    assert.equal(
      classifyFailure(new ConnectError("slow", Code.DeadlineExceeded)).disposition,
      "retry",
    );
  });

  it("retries a reset reported as Aborted and a GOAWAY reported as Internal", () => {
    assert.equal(
      classifyFailure(withCause(Code.Aborted, nodeError("ECONNRESET"))).disposition,
      "retry",
    );
    assert.equal(
      classifyFailure(withCause(Code.Internal, nodeError("ERR_HTTP2_GOAWAY_SESSION"))).disposition,
      "retry",
    );
  });

  it("finds the code deep in a cause chain", () => {
    const inner = nodeError("ECONNREFUSED");
    const mid = Object.assign(new Error("wrap"), { cause: inner });
    assert.equal(classifyFailure(withCause(Code.Unknown, mid)).disposition, "retry");
  });

  for (const code of [
    Code.Unauthenticated,
    Code.PermissionDenied,
    Code.InvalidArgument,
    Code.Unimplemented,
    Code.ResourceExhausted,
  ]) {
    it(`never retries ${Code[code]}`, () => {
      assert.equal(classifyFailure(new ConnectError("no", code)).disposition, "cannot-heal");
    });
  }

  it("does not retry a client certificate the server refused, even when reported as Internal", () => {
    const alert = nodeError(
      "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
      "error:0A00045C:SSL routines::tlsv13 alert certificate required",
    );
    const c = classifyFailure(withCause(Code.Internal, alert));
    assert.equal(c.disposition, "cannot-heal");
    assert.match(c.failure, /client certificate/);
  });

  it("marks server certificate verification failures for refetch", () => {
    for (const code of [
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      "CERT_HAS_EXPIRED",
      "ERR_TLS_CERT_ALTNAME_INVALID",
    ]) {
      const c = classifyFailure(withCause(Code.Unavailable, nodeError(code)));
      assert.equal(c.disposition, "server-certificate", code);
      assert.match(c.failure, new RegExp(code));
    }
  });

  it("bounds UNKNOWN without a transport cause (header assert, aggregator exception)", () => {
    const c = classifyFailure(
      new ConnectError("Exception calling application: AssertionError", Code.Unknown),
    );
    assert.equal(c.disposition, "retry-bounded");
    assert.match(c.failure, /Exception calling application/);
  });

  it("retries a browser fetch that failed at the network level", () => {
    const e = withCause(Code.Unknown, new TypeError("Failed to fetch"));
    assert.equal(classifyFailure(e).disposition, "retry");
  });

  it("accepts non-Connect errors", () => {
    assert.equal(classifyFailure(nodeError("ECONNRESET")).disposition, "retry");
    assert.equal(classifyFailure("a string").disposition, "retry-bounded");
  });

  it("retries a stream the peer reset with CANCEL (not the caller's own abort)", () => {
    const c = classifyFailure(
      new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled),
    );
    assert.equal(c.disposition, "retry");
  });
});
