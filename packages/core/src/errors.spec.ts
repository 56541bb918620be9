import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import {
  AggregatorCallError,
  CertificateLoadError,
  HeaderMismatchError,
  InvalidOptionError,
  OpenFLClientError,
  TensorCodecError,
} from "./errors.js";

const failed = (code: Code, platform?: "connection") =>
  new AggregatorCallError("GetAggregatedTensor", code, "x", "ambiguous-budget", 3, {
    cause: undefined,
    platform,
  });

describe("AggregatorCallError.isServerException", () => {
  it("is true for the aggregator's own exception: UNKNOWN or INTERNAL with no transport cause", () => {
    assert.equal(failed(Code.Unknown).isServerException, true);
    assert.equal(failed(Code.Internal).isServerException, true);
  });

  it("is false for a transport failure, another code, or our own check of the answer", () => {
    assert.equal(failed(Code.Unknown, "connection").isServerException, false);
    assert.equal(failed(Code.Unauthenticated).isServerException, false);
    assert.equal(new HeaderMismatchError("Ping", "sender", "a", "b").isServerException, false);
  });
});

describe("error names and messages (what a log line shows)", () => {
  it("names each error class, so logs and `catch` by name tell them apart", () => {
    assert.equal(new OpenFLClientError("x").name, "OpenFLClientError");
    assert.equal(failed(Code.Unknown).name, "AggregatorCallError");
    assert.equal(new HeaderMismatchError("Ping", "sender", "a", "b").name, "HeaderMismatchError");
    assert.equal(new CertificateLoadError("key", "k.pem", "x").name, "CertificateLoadError");
    assert.equal(new InvalidOptionError("o", "e", 1).name, "InvalidOptionError");
    assert.equal(new TensorCodecError("x").name, "TensorCodecError");
  });

  it("AggregatorCallError says the call, attempts, reason and failure, and keeps its cause", () => {
    const cause = new Error("socket hang up");
    const e = new AggregatorCallError("GetTasks", Code.Unavailable, "refused", "max-attempts", 4, {
      cause,
      platform: "connection",
    });
    assert.equal(e.message, "GetTasks failed after 4 attempt(s) (max-attempts): refused");
    assert.equal(e.cause, cause);
    assert.equal(e.platform, "connection");
  });

  it("HeaderMismatchError names the field with both values quoted", () => {
    const e = new HeaderMismatchError("Ping", "receiver", "one", "two");
    assert.equal(e.message, `Ping: response header field 'receiver' is "two", expected "one"`);
    assert.equal(e.failure, `response header field 'receiver' is "two", expected "one"`);
  });

  it("CertificateLoadError names the option and the file", () => {
    const cause = new Error("ENOENT");
    const e = new CertificateLoadError("certificate", "/x/col.crt", "no such file", { cause });
    assert.equal(e.message, "certificate (/x/col.crt): no such file");
    assert.equal(e.cause, cause);
  });
});

describe("InvalidOptionError describes the value it got", () => {
  const got = (value: unknown) => new InvalidOptionError("o", "a thing", value).message;

  it("quotes strings, cut after 80 characters (exactly 80 kept whole)", () => {
    assert.equal(got("abc"), `option 'o': expected a thing, got "abc"`);
    const eighty = "x".repeat(80);
    assert.equal(got(eighty), `option 'o': expected a thing, got "${eighty}"`);
    assert.equal(got(`${eighty}y`), `option 'o': expected a thing, got "${eighty}…"`);
  });

  it("names undefined, null, numbers, booleans, functions and arrays", () => {
    assert.match(got(undefined), /got undefined$/);
    assert.match(got(null), /got object null$/);
    assert.match(got(42), /got number 42$/);
    assert.match(got(false), /got boolean false$/);
    assert.match(
      got(() => 1),
      /got a function$/,
    );
    assert.match(got([1, 2, 3]), /got an array of 3$/);
  });

  it("lists at most the first five keys of an object, never its values", () => {
    assert.match(got({ a: 1, b: "secret" }), /got an object \(a, b\)$/);
    assert.match(got({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }), /got an object \(a, b, c, d, e\)$/);
  });
});
