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

  it("gives up at once on OpenFL's texts for requests that cannot succeed, saying what they mean", () => {
    const cases: [string, RegExp][] = [
      [
        "Exception calling application: Receiver in request header does not match aggregator UUID. Expected: aggregator_plan.yaml_aaaa1111, Actual: aggregator_plan.yaml_bbbb2222",
        /^the aggregator runs another plan .*Expected: aggregator_plan\.yaml_aaaa1111, Actual: aggregator_plan\.yaml_bbbb2222/,
      ],
      [
        "Exception calling application: Federation UUID in request header does not match. Expected: plan.yaml_aaaa1111, Actual: plan.yaml_bbbb2222",
        /^the aggregator runs another plan \(its federation uuid/,
      ],
      [
        "Exception calling application: Sender in request header is not authorized. Expected: one of ['col1'], Actual: col9",
        /^this collaborator is not an authorised collaborator/,
      ],
      [
        "Exception calling application: Aggregator does not have an aggregated tensor for TensorKey(tensor_name='w', origin='aggregator_x', round_number=0, report=False, tags=('model',))",
        /^the aggregator does not hold this tensor \(it waited 60 s/,
      ],
    ];
    for (const [text, pattern] of cases) {
      const c = classifyFailure(new ConnectError(text, Code.Unknown));
      assert.equal(c.disposition, "cannot-heal", text);
      assert.match(c.failure, pattern);
    }
    // Any other UNKNOWN stays ambiguous.
    assert.equal(
      classifyFailure(new ConnectError("Exception calling application: boom", Code.Unknown))
        .disposition,
      "retry-bounded",
    );
  });

  it("tells an aggregator that does not list this collaborator from a CN that differs from the sender", () => {
    const unlisted = classifyFailure(
      new ConnectError(
        "Invalid collaborator. CN: |col9| collaborator_common_name: |col9|",
        Code.Unauthenticated,
      ),
    );
    assert.equal(unlisted.disposition, "cannot-heal");
    assert.match(
      unlisted.failure,
      /does not list collaborator 'col9' as authorised \(its plan\/cols\.yaml\); its certificate CN matches/,
    );
    const mismatch = classifyFailure(
      new ConnectError(
        "Invalid collaborator. CN: |col1| collaborator_common_name: |col9|",
        Code.Unauthenticated,
      ),
    );
    assert.match(mismatch.failure, /certificate CN vs sender/);
  });
});

describe("classifyFailure of OpenFL's REST refusals (HTTP 401, read as UNAUTHENTICATED)", () => {
  const cases: [string, RegExp][] = [
    [
      "Header receiver mismatch. Expected: aggregator_a, Got: aggregator_b",
      /^the aggregator runs another plan \(its aggregator uuid differs from ours\): Unauthenticated Header receiver mismatch/,
    ],
    [
      "Federation UUID mismatch",
      /^the aggregator runs another plan \(its federation uuid differs from ours\): Unauthenticated Federation UUID mismatch$/,
    ],
    [
      "Unauthorized collaborator",
      /^this collaborator is not an authorised collaborator of the federation \(cols\.yaml\)/,
    ],
    [
      "Single col cert CN mismatch. Expected: , Got: shared",
      /^the aggregator's single_col_cert_common_name differs from ours/,
    ],
  ];
  for (const [text, pattern] of cases) {
    it(`"${text.slice(0, 32)}..." cannot heal and says what it means`, () => {
      const c = classifyFailure(new ConnectError(text, Code.Unauthenticated));
      assert.equal(c.disposition, "cannot-heal");
      assert.match(c.failure, pattern);
    });
  }

  it("another 401 text keeps the identity gloss", () => {
    const c = classifyFailure(
      new ConnectError("Collaborator validation failed", Code.Unauthenticated),
    );
    assert.equal(c.disposition, "cannot-heal");
    assert.match(c.failure, /certificate CN vs sender/);
  });

  it("the same texts under UNKNOWN stay ambiguous (they are the REST server's 401 only)", () => {
    const c = classifyFailure(new ConnectError("Federation UUID mismatch", Code.Unknown));
    assert.equal(c.disposition, "retry-bounded");
  });
});

describe("classifyFailure says what failed, in the words a log line shows", () => {
  const failure = (error: unknown, platform?: PlatformFailure) =>
    classifyFailure(error, platform && reads(platform)).failure;

  it("names transient failures by what they mean", () => {
    assert.equal(
      failure(new ConnectError("down", Code.Unavailable)),
      "aggregator unavailable: down",
    );
    assert.equal(
      failure(new ConnectError("slow", Code.DeadlineExceeded)),
      "call stalled past its deadline: slow",
    );
    assert.equal(failure(new ConnectError("rst", Code.Canceled)), "stream reset by the peer: rst");
  });

  it("names an ambiguous failure by its gRPC code", () => {
    assert.equal(failure(new ConnectError("boom", Code.Internal)), "Internal: boom");
    assert.equal(failure(new ConnectError("huh", Code.Aborted)), "Aborted: huh");
  });

  it("prefixes the platform's reading to the transport's detail", () => {
    const detail = new ConnectError("unable to verify", Code.Unavailable);
    assert.equal(
      failure(detail, { t: "server-certificate", failure: "server certificate not trusted" }),
      "server certificate not trusted: unable to verify",
    );
  });

  it("blames the access token only for UNAUTHENTICATED, not for another code with the same text", () => {
    const denied = classifyFailure(new ConnectError("Jwt is expired", Code.PermissionDenied));
    assert.equal(
      denied.failure,
      "the aggregator denied permission: PermissionDenied Jwt is expired",
    );
  });

  it("attaches the platform's reading only when there is one", () => {
    assert.equal("platform" in classifyFailure(new ConnectError("x", Code.Unavailable)), false);
    const seen: PlatformFailure = { t: "connection", failure: "connection refused" };
    assert.deepEqual(classifyFailure(new Error("x"), reads(seen)).platform, seen);
  });
});
