import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { classifyFailure } from "@openfl-connect/core/internal";
import { errorDescription, innermostRefusal, restFailure, restStatusCode } from "./rest-failure.js";

/** werkzeug's error page, as OpenFL's REST server answers abort(status, description). */
const page = (status: string, description: string) =>
  `<!doctype html>\n<html lang=en>\n<title>${status}</title>\n<h1>${status.slice(4)}</h1>\n<p>${description}</p>\n`;

describe("errorDescription", () => {
  it("reads werkzeug's <p> and unescapes it", () => {
    assert.equal(
      errorDescription(
        page("401 Unauthorized", "Expected: &lt;a&gt; &amp; &#x27;b&#x27; &quot;c&quot;"),
      ),
      `Expected: <a> & 'b' "c"`,
    );
  });
  it("keeps a body that is no error page, trimmed", () => {
    assert.equal(errorDescription("  upstream connect error \n"), "upstream connect error");
  });
});

describe("innermostRefusal", () => {
  it("a 401 re-aborted by _is_authorized: the inner text", () => {
    assert.deepEqual(innermostRefusal(401, "401 Unauthorized: Federation UUID mismatch"), {
      status: 401,
      detail: "Federation UUID mismatch",
      serverException: false,
    });
  });
  it("the upload route's 400 wrapping a 401: the 401", () => {
    assert.deepEqual(
      innermostRefusal(
        400,
        "Error processing task results: 401 Unauthorized: Header receiver mismatch. Expected: a, Got: b",
      ),
      {
        status: 401,
        detail: "Header receiver mismatch. Expected: a, Got: b",
        serverException: false,
      },
    );
  });
  it("the upload route's 400 wrapping its own 400: our request", () => {
    assert.deepEqual(
      innermostRefusal(
        400,
        "Error processing task results: 400 Bad Request: Invalid stream data length",
      ),
      { status: 400, detail: "Invalid stream data length", serverException: false },
    );
  });
  it("the upload route's 400 wrapping an exception of the aggregator", () => {
    assert.deepEqual(
      innermostRefusal(400, "Error processing task results: Named tensor w is not compressed"),
      { status: 400, detail: "Named tensor w is not compressed", serverException: true },
    );
  });
});

describe("restStatusCode", () => {
  const cases: [number, boolean, Code][] = [
    [400, false, Code.InvalidArgument],
    [400, true, Code.Unknown],
    [401, false, Code.Unauthenticated],
    [403, false, Code.PermissionDenied],
    [404, false, Code.Unimplemented],
    [405, false, Code.Unimplemented],
    [408, false, Code.Unavailable],
    [413, false, Code.ResourceExhausted],
    [418, false, Code.InvalidArgument],
    [429, false, Code.Unavailable],
    [500, false, Code.Unknown],
    [501, false, Code.Unimplemented],
    [502, false, Code.Unavailable],
    [503, false, Code.Unavailable],
    [504, false, Code.Unavailable],
    [507, false, Code.Unknown],
  ];
  for (const [status, serverException, code] of cases) {
    it(`${status}${serverException ? " (server exception)" : ""} -> ${Code[code]}`, () => {
      assert.equal(restStatusCode(status, serverException), code);
    });
  }
});

describe("restFailure, as core classifies it", () => {
  const classified = (status: number, description: string) =>
    classifyFailure(restFailure(status, "GET /experimental/v1/tasks", page("x", description)));

  it("a wrong federation cannot heal and says the aggregator runs another plan", () => {
    const c = classified(401, "401 Unauthorized: Federation UUID mismatch");
    assert.equal(c.disposition, "cannot-heal");
    assert.match(
      c.failure,
      /runs another plan .*Federation UUID mismatch \(HTTP 401 from GET \/experimental\/v1\/tasks\)/,
    );
  });
  it("an unlisted collaborator cannot heal and says cols.yaml", () => {
    const c = classified(401, "401 Unauthorized: Unauthorized collaborator");
    assert.equal(c.disposition, "cannot-heal");
    assert.match(c.failure, /not an authorised collaborator of the federation \(cols\.yaml\)/);
  });
  it("a wrong receiver on an upload (400 around 401) cannot heal", () => {
    const c = classified(
      400,
      "Error processing task results: 401 Unauthorized: Header receiver mismatch. Expected: a, Got: b",
    );
    assert.equal(c.disposition, "cannot-heal");
    assert.match(c.failure, /aggregator uuid differs.*\(HTTP 400 \(401\) from/);
  });
  it("an aggregator exception during an upload is ambiguous (bounded retries), as UNKNOWN over gRPC", () => {
    assert.equal(
      classified(400, "Error processing task results: boom").disposition,
      "retry-bounded",
    );
  });
  it("Flask's 500 is ambiguous", () => {
    assert.equal(
      classified(500, "The server encountered an internal error").disposition,
      "retry-bounded",
    );
  });
  it("a 503 from a proxy is transient", () => {
    assert.equal(classified(503, "no healthy upstream").disposition, "retry");
  });
  it("the interop relay's 501 cannot heal", () => {
    assert.equal(
      classified(501, "Interop relay is not enabled on this aggregator").disposition,
      "cannot-heal",
    );
  });
});
