import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { AggregatorCallError, HeaderMismatchError } from "@openfl-connect/core";
import { classifyFailure } from "@openfl-connect/core/internal";
import {
  ResendStoreError,
  ResendStoreLockedError,
  ResendStoreQuotaError,
} from "@openfl-connect/web";
import { classifyBrowserFailure } from "@openfl-connect/web/internal";
import { describeError } from "./describe-error.js";

const context = { proxyUrl: "http://127.0.0.1:8080", origin: "http://127.0.0.1:4173" };

function callError(code: Code, cause: unknown = new ConnectError("x", code)) {
  return new AggregatorCallError("Ping", code, "x", "cannot-heal", 1, { cause });
}

describe("describeError", () => {
  it("gives field, expected and actual of a header mismatch and what to check", () => {
    const d = describeError(
      new HeaderMismatchError("Ping", "federation_uuid", "plan.yaml_a", "plan.yaml_b"),
      context,
    );
    assert.equal(d.kind, "header-mismatch");
    assert.match(d.summary, /'federation_uuid' is "plan.yaml_b", expected "plan.yaml_a"/);
    assert.match(d.summary, /federation uuid setting/);
  });

  it("explains a full storage quota: nothing sent, free storage, Start again", () => {
    const quota = new ResendStoreQuotaError("db", "round 0 task train (3 tensors, 96 bytes)", 96, {
      cause: new DOMException("full", "QuotaExceededError"),
    });
    const d = describeError(quota, context);
    assert.equal(d.kind, "storage");
    assert.match(
      d.summary,
      /no room left for this site .* \(96 bytes; storage quota used up\)\. Nothing was sent\./,
    );
    assert.equal(d.detail, quota.message);
    const other = describeError(
      new ResendStoreError("db", "cannot open IndexedDB database 'db'"),
      context,
    );
    assert.equal(other.kind, "storage");
    assert.match(other.summary, /cannot use the browser's storage \(IndexedDB\): cannot open/);
    const locked = describeError(new ResendStoreLockedError("db", 5000), context);
    assert.equal(locked.kind, "storage");
    assert.match(locked.summary, /already runs in another tab of this browser/);
  });

  it("explains UNAUTHENTICATED as a certificate CN / collaborator name problem", () => {
    const d = describeError(callError(Code.Unauthenticated), context);
    assert.equal(d.kind, "unauthenticated");
    assert.match(d.summary, /certificate CN must equal the collaborator name/);
  });

  it("an expired token: the summary and the detail line both name the access token, not the certificate", () => {
    // As the client builds it: the proxy's jwt_authn answer, classified by core.
    const cause = new ConnectError("Jwt is expired", Code.Unauthenticated);
    const failure = classifyFailure(cause).failure;
    const d = describeError(
      new AggregatorCallError("Ping", Code.Unauthenticated, failure, "cannot-heal", 1, { cause }),
      context,
    );
    assert.equal(d.kind, "unauthenticated");
    assert.match(d.summary, /The proxy did not accept your access token/);
    assert.match(d.detail, /the proxy did not accept the access token .*Jwt is expired/);
    assert.doesNotMatch(d.detail, /certificate CN/);
  });

  it("explains a fetch TypeError as the proxy being unreachable or CORS, naming the origin", () => {
    const cause = new ConnectError(
      "Failed to fetch",
      Code.Unknown,
      undefined,
      undefined,
      new TypeError("Failed to fetch"),
    );
    // Classified as the client does, with the web adapter's reading of the browser's failure.
    const seen = classifyFailure(cause, classifyBrowserFailure);
    const failed = new AggregatorCallError("Ping", seen.code, seen.failure, "max-attempts", 3, {
      cause,
      platform: seen.platform?.t,
    });
    const d = describeError(failed, context);
    assert.equal(d.kind, "proxy-unreachable");
    // Without the adapter's reading (another platform's failure), it is not the proxy.
    assert.notEqual(describeError(callError(Code.Unknown, cause), context).kind, d.kind);
    assert.match(d.summary, /http:\/\/127\.0\.0\.1:8080/);
    assert.match(d.summary, /allowed origins include http:\/\/127\.0\.0\.1:4173/);
  });

  it("explains PERMISSION_DENIED as the account lacking the upload permission or an identity", () => {
    const d = describeError(callError(Code.PermissionDenied), context);
    assert.equal(d.kind, "permission-denied");
    assert.match(d.summary, /upload permission/);
  });

  it("explains UNAVAILABLE as the aggregator being unreachable from the proxy", () => {
    assert.equal(
      describeError(callError(Code.Unavailable), context).kind,
      "aggregator-unreachable",
    );
  });

  it("tells the proxy's rate limit (Envoy's 429, read as UNAVAILABLE) from an unreachable aggregator", () => {
    // As the client reports it after Envoy's local_ratelimit answered (per-identity-limits.spec.ts).
    const limited = new AggregatorCallError(
      "Ping",
      Code.Unavailable,
      "aggregator unavailable: local_rate_limited",
      "max-attempts",
      3,
      { cause: new ConnectError("local_rate_limited", Code.Unavailable) },
    );
    const d = describeError(limited, context);
    assert.equal(d.kind, "rate-limited");
    assert.match(d.summary, /limiting how often your account calls/);
    assert.match(d.summary, /another tab or on another device/);
    assert.equal(
      describeError(
        new AggregatorCallError(
          "Ping",
          Code.Unavailable,
          "aggregator unavailable: no healthy upstream",
          "max-attempts",
          3,
          {
            cause: undefined,
          },
        ),
        context,
      ).kind,
      "aggregator-unreachable",
    );
  });

  it("explains UNKNOWN as the aggregator rejecting the request (OpenFL header asserts)", () => {
    const d = describeError(callError(Code.Unknown), context);
    assert.equal(d.kind, "aggregator-rejected");
    assert.match(d.summary, /federation uuid/);
  });

  it("keeps the message of anything else", () => {
    const d = describeError(new Error("Give the tensor's name."), context);
    assert.equal(d.kind, "other");
    assert.equal(d.detail, "Give the tensor's name.");
  });
});
