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

describe("classifyNodeFailure: every TLS alert about our client certificate, every server certificate code", () => {
  // OpenSSL's texts as Node reports them (TLS 1.3 and 1.2 alerts from the server).
  for (const message of [
    "error:0A00045C:SSL routines::tlsv13 alert certificate required",
    "error:0A000412:SSL routines::sslv3 alert bad certificate",
    "error:0A000418:SSL routines::tlsv1 alert unknown ca",
    "error:0A000416:SSL routines::sslv3 alert certificate unknown",
    "error:0A000415:SSL routines::sslv3 alert certificate expired",
    "error:0A000414:SSL routines::sslv3 alert certificate revoked",
    "error:0A000419:SSL routines::tlsv1 alert access denied",
    "error:0A000410:SSL routines::sslv3 alert handshake failure",
    "error:0A000410:SSL routines::SSLV3 ALERT HANDSHAKE FAILURE",
  ]) {
    it(`reads "${message}" as this collaborator's certificate refused (cannot heal)`, () => {
      const alert = nodeError("ERR_SSL_ALERT", message);
      assert.deepEqual(classifyNodeFailure(withCause(Code.Unavailable, alert)), {
        t: "client-certificate-refused",
        failure: "the aggregator rejected this collaborator's TLS client certificate",
      });
      assert.equal(disposition(withCause(Code.Unavailable, alert)), "cannot-heal");
    });
  }

  it("finds the alert text deep in a cause chain, and ahead of a connection code beside it", () => {
    const alert = new Error("error:0A000418:SSL routines::tlsv1 alert unknown ca");
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET", cause: alert });
    assert.equal(
      classifyNodeFailure(withCause(Code.Unknown, reset))?.t,
      "client-certificate-refused",
    );
  });

  it("other alerts and certificate words without an alert are not a refused client certificate", () => {
    for (const message of [
      "error:0A00042E:SSL routines::tlsv1 alert protocol version",
      "error:0A000438:SSL routines::tlsv1 alert internal error",
      "certificate required",
      "unknown ca",
    ]) {
      assert.equal(classifyNodeFailure(nodeError("ERR_SSL_X", message)), undefined, message);
      assert.deepEqual(classifyNodeFailure(nodeError("ECONNRESET", message)), {
        t: "connection",
        failure: "connection failed (ECONNRESET)",
      });
    }
  });

  for (const code of [
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "CERT_HAS_EXPIRED",
    "CERT_NOT_YET_VALID",
    "CERT_SIGNATURE_FAILURE",
    "CERT_UNTRUSTED",
    "CERT_REJECTED",
    "ERR_TLS_CERT_ALTNAME_INVALID",
  ]) {
    it(`reads ${code} as the aggregator's certificate not verifying`, () => {
      assert.deepEqual(classifyNodeFailure(withCause(Code.Unavailable, nodeError(code))), {
        t: "server-certificate",
        failure: `the aggregator's TLS certificate did not verify (${code})`,
      });
    });
  }

  it("a server certificate code wins over an alert text and a connection code in the same chain", () => {
    const alert = nodeError("ERR_SSL_ALERT", "sslv3 alert bad certificate");
    const verify = Object.assign(nodeError("CERT_HAS_EXPIRED"), { cause: alert });
    const reset = Object.assign(nodeError("ECONNRESET"), { cause: verify });
    assert.equal(classifyNodeFailure(reset)?.t, "server-certificate");
  });

  it("an unknown code, or a code that is not a string, says nothing", () => {
    assert.equal(classifyNodeFailure(nodeError("ERR_SOMETHING_ELSE")), undefined);
    assert.equal(classifyNodeFailure(Object.assign(new Error("x"), { code: 104 })), undefined);
    assert.equal(classifyNodeFailure(undefined), undefined);
  });
});
