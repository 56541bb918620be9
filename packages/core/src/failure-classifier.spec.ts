import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  causeChain,
  classifyFailure,
  isAccessTokenRefusal,
  type PlatformFailure,
} from "./failure-classifier.js";

/** A platform adapter that reads every failure the same way. */
const reads = (verdict: PlatformFailure) => () => verdict;

describe("classifyFailure by gRPC code", () => {
  // Every gRPC status, written out: what resending can heal (a transient failure), what it may
  // heal (ambiguous: bounded), what it cannot (the same request would fail the same way).
  const expected: [Code, string][] = [
    [Code.Canceled, "retry"],
    [Code.Unknown, "retry-bounded"],
    [Code.InvalidArgument, "cannot-heal"],
    [Code.DeadlineExceeded, "retry"],
    [Code.NotFound, "cannot-heal"],
    [Code.AlreadyExists, "cannot-heal"],
    [Code.PermissionDenied, "cannot-heal"],
    [Code.ResourceExhausted, "cannot-heal"],
    [Code.FailedPrecondition, "cannot-heal"],
    [Code.Aborted, "retry-bounded"],
    [Code.OutOfRange, "cannot-heal"],
    [Code.Unimplemented, "cannot-heal"],
    [Code.Internal, "retry-bounded"],
    [Code.Unavailable, "retry"],
    [Code.DataLoss, "cannot-heal"],
    [Code.Unauthenticated, "cannot-heal"],
  ];
  it("has a disposition for each of the 16 error codes (OK is not a failure)", () => {
    assert.equal(expected.length, 16);
    assert.deepEqual(
      expected.map(([code]) => [code, classifyFailure(new ConnectError("x", code)).disposition]),
      expected,
    );
  });

  it("retries UNAVAILABLE and deadlines", () => {
    assert.equal(classifyFailure(new ConnectError("down", Code.Unavailable)).disposition, "retry");
    assert.equal(
      classifyFailure(new ConnectError("slow", Code.DeadlineExceeded)).disposition,
      "retry",
    );
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

  it("bounds UNKNOWN without a transport cause (header assert, aggregator exception)", () => {
    const c = classifyFailure(
      new ConnectError("Exception calling application: AssertionError", Code.Unknown),
    );
    assert.equal(c.disposition, "retry-bounded");
    assert.match(c.failure, /Exception calling application/);
  });

  it("accepts non-Connect errors", () => {
    assert.equal(classifyFailure("a string").disposition, "retry-bounded");
  });

  it("retries a stream the peer reset with CANCEL (not the caller's own abort)", () => {
    const c = classifyFailure(
      new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled),
    );
    assert.equal(c.disposition, "retry");
  });
});

describe("classifyFailure with the platform adapter's reading", () => {
  it("a broken connection is retried whatever code it surfaced as", () => {
    const c = classifyFailure(
      new ConnectError("reset", Code.Unknown),
      reads({ t: "connection", failure: "connection failed (X)" }),
    );
    assert.deepEqual([c.disposition, c.failure], ["retry", "connection failed (X): reset"]);
  });

  it("a server certificate that did not verify waits for a refetch", () => {
    const c = classifyFailure(
      new ConnectError("tls", Code.Unavailable),
      reads({ t: "server-certificate", failure: "bad server cert" }),
    );
    assert.equal(c.disposition, "server-certificate");
  });

  it("a refused client certificate cannot heal, even when reported as Internal", () => {
    const c = classifyFailure(
      new ConnectError("alert", Code.Internal),
      reads({ t: "client-certificate-refused", failure: "refused" }),
    );
    assert.equal(c.disposition, "cannot-heal");
  });

  it("an UNAUTHENTICATED from a proxy's token check blames the access token, not the certificate", () => {
    for (const message of ["Jwt is expired", "Jwt is missing", "Jwks remote fetch is failed"]) {
      const c = classifyFailure(new ConnectError(message, Code.Unauthenticated));
      assert.equal(c.disposition, "cannot-heal");
      assert.equal(
        c.failure,
        `the proxy did not accept the access token (expired, missing, or not issued for it): Unauthenticated ${message}`,
      );
    }
    const aggregator = classifyFailure(new ConnectError("unknown sender", Code.Unauthenticated));
    assert.match(
      aggregator.failure,
      /^the aggregator did not accept this collaborator's identity \(certificate CN vs sender\)/,
    );
    assert.equal(isAccessTokenRefusal("jwtish"), false);
  });

  it("a code that cannot heal wins over a connection reading", () => {
    const c = classifyFailure(
      new ConnectError("who?", Code.Unauthenticated),
      reads({ t: "connection", failure: "connection failed" }),
    );
    assert.equal(c.disposition, "cannot-heal");
  });
});

describe("causeChain", () => {
  it("lists the error and its causes, outermost first, and stops at a cycle", () => {
    const inner = Object.assign(new Error("inner"), { code: "E1" });
    const outer = new Error("outer", { cause: inner });
    (inner as { cause?: unknown }).cause = outer;
    assert.deepEqual(
      causeChain(outer).map((c) => [c.message, c.code]),
      [
        ["outer", undefined],
        ["inner", "E1"],
      ],
    );
  });
});
