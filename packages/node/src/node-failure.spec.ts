import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { classifyFailure } from "@openfl-connect/core/internal";
import { classifyNodeFailure } from "./node-failure.js";

function nodeError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

function withCause(code: Code, cause: Error, message = "failed"): ConnectError {
  const ce = new ConnectError(message, code);
  ce.cause = cause;
  return ce;
}

const disposition = (error: unknown) => classifyFailure(error, classifyNodeFailure).disposition;

describe("classifyNodeFailure", () => {
  // Every Node error code of a broken or refused connection, written out: each is retried.
  for (const code of [
    "ECONNRESET",
    "ECONNREFUSED",
    "ECONNABORTED",
    "EPIPE",
    "ETIMEDOUT",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "ENOTFOUND",
    "EAI_AGAIN",
    "ERR_HTTP2_GOAWAY_SESSION",
    "ERR_HTTP2_SESSION_ERROR",
    "ERR_HTTP2_STREAM_ERROR",
    "ERR_HTTP2_STREAM_CANCEL",
    "ERR_HTTP2_INVALID_SESSION",
    "ERR_HTTP2_INVALID_STREAM",
    "ERR_HTTP2_ERROR",
    "ERR_STREAM_DESTROYED",
    "ERR_STREAM_PREMATURE_CLOSE",
    "ERR_SOCKET_CLOSED",
  ]) {
    it(`retries ${code}, even when it surfaces as UNKNOWN`, () => {
      const c = classifyFailure(withCause(Code.Unknown, nodeError(code)), classifyNodeFailure);
      assert.deepEqual(
        [c.disposition, c.failure.startsWith(`connection failed (${code})`)],
        ["retry", true],
      );
    });
  }

  it("retries a reset reported as Aborted and a GOAWAY reported as Internal", () => {
    assert.equal(disposition(withCause(Code.Aborted, nodeError("ECONNRESET"))), "retry");
    assert.equal(
      disposition(withCause(Code.Internal, nodeError("ERR_HTTP2_GOAWAY_SESSION"))),
      "retry",
    );
  });

  it("finds the code deep in a cause chain", () => {
    const inner = nodeError("ECONNREFUSED");
    const mid = Object.assign(new Error("wrap"), { cause: inner });
    assert.equal(disposition(withCause(Code.Unknown, mid)), "retry");
  });

  it("does not retry a client certificate the server refused, even when reported as Internal", () => {
    const alert = nodeError(
      "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
      "error:0A00045C:SSL routines::tlsv13 alert certificate required",
    );
    const c = classifyFailure(withCause(Code.Internal, alert), classifyNodeFailure);
    assert.equal(c.disposition, "cannot-heal");
    assert.match(c.failure, /client certificate/);
  });

  it("marks server certificate verification failures for refetch", () => {
    for (const code of [
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      "CERT_HAS_EXPIRED",
      "ERR_TLS_CERT_ALTNAME_INVALID",
    ]) {
      const c = classifyFailure(withCause(Code.Unavailable, nodeError(code)), classifyNodeFailure);
      assert.equal(c.disposition, "server-certificate", code);
      assert.match(c.failure, new RegExp(code));
    }
  });

  it("reads a bare Node error too, and nothing into an error without a Node cause", () => {
    assert.equal(disposition(nodeError("ECONNRESET")), "retry");
    assert.equal(classifyNodeFailure(new ConnectError("x", Code.Unknown)), undefined);
  });
});
