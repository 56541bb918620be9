// createXhrFetch runs on a scripted XMLHttpRequest (Node has none): each test plays the browser's
// part (load, error, timeout, abort, upload progress) and checks what the page's fetch sees.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { classifyFailure } from "@openfl-connect/core/internal";
import { Aggregator } from "@openfl-connect/core/protocol";
import { classifyBrowserFailure } from "./browser-failure.js";
import { createXhrFetch, parseResponseHeaders } from "./xhr-fetch.js";

/** Every test's own deadline, so that a hang fails naming the test. */
const deadline = { timeout: 10_000 };

/** A scripted XMLHttpRequest: records what the page did with it; the test fires its events. */
class ScriptedXhr {
  static made: ScriptedXhr[] = [];
  opened: [string, string] | undefined;
  responseType = "";
  readonly requestHeaders: [string, string][] = [];
  sent: unknown = "not sent";
  aborted = 0;
  status = 0;
  statusText = "";
  response: ArrayBuffer | null = null;
  responseHeaders = "";
  readonly upload: { onprogress: ((e: { loaded: number; total: number }) => void) | null } = {
    onprogress: null,
  };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  onabort: (() => void) | null = null;

  constructor() {
    ScriptedXhr.made.push(this);
  }
  open(method: string, url: string) {
    this.opened = [method, url];
  }
  setRequestHeader(name: string, value: string) {
    this.requestHeaders.push([name, value]);
  }
  send(body: unknown) {
    this.sent = body;
  }
  abort() {
    this.aborted++;
    this.onabort?.();
  }
  getAllResponseHeaders() {
    return this.responseHeaders;
  }
  /** The browser received the whole response. */
  load(status: number, statusText: string, body: Uint8Array, headers: string) {
    this.status = status;
    this.statusText = statusText;
    this.response = body.slice().buffer;
    this.responseHeaders = headers;
    this.onload?.();
  }
}

const lastXhr = () => {
  const xhr = ScriptedXhr.made.at(-1);
  assert.ok(xhr, "no XMLHttpRequest was made");
  return xhr;
};
/** A Headers' entries, in order. */
function entries(headers: Headers): [string, string][] {
  const out: [string, string][] = [];
  headers.forEach((value, name) => {
    out.push([name, value]);
  });
  return out;
}
/** Lets the promise callbacks run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe("createXhrFetch", () => {
  const original = Object.getOwnPropertyDescriptor(globalThis, "XMLHttpRequest");
  beforeEach(() => {
    ScriptedXhr.made = [];
    Object.defineProperty(globalThis, "XMLHttpRequest", {
      value: ScriptedXhr,
      configurable: true,
      writable: true,
    });
  });
  afterEach(() => {
    if (original) Object.defineProperty(globalThis, "XMLHttpRequest", original);
    else delete (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest;
  });

  it(
    "sends the method, URL, headers and body given, asking for the response as bytes",
    deadline,
    async () => {
      const body = Uint8Array.of(0, 0, 0, 0, 1, 7);
      const pending = createXhrFetch()("https://proxy/openfl.aggregator.Aggregator/Ping", {
        method: "POST",
        headers: { "content-type": "application/grpc-web+proto", authorization: "Bearer t" },
        body,
      });
      const xhr = lastXhr();
      assert.deepEqual(xhr.opened, ["POST", "https://proxy/openfl.aggregator.Aggregator/Ping"]);
      assert.equal(xhr.responseType, "arraybuffer");
      assert.deepEqual(xhr.requestHeaders, [
        ["authorization", "Bearer t"],
        ["content-type", "application/grpc-web+proto"],
      ]);
      assert.equal(xhr.sent, body);
      xhr.load(200, "OK", Uint8Array.of(1, 2), "content-type: application/grpc-web+proto\r\n");
      const response = await pending;
      assert.equal(response.status, 200);
      assert.equal(response.statusText, "OK");
      assert.equal(response.headers.get("content-type"), "application/grpc-web+proto");
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), Uint8Array.of(1, 2));
    },
  );

  it("takes the URL of a URL or a Request; GET and no body by default", deadline, async () => {
    const fetch = createXhrFetch();
    void fetch(new URL("https://proxy/a"));
    assert.deepEqual(lastXhr().opened, ["GET", "https://proxy/a"]);
    assert.equal(lastXhr().sent, null);
    void fetch(new Request("https://proxy/b"));
    assert.deepEqual(lastXhr().opened, ["GET", "https://proxy/b"]);
  });

  it("reports upload progress as the body leaves the browser", deadline, async () => {
    const progress: { loaded: number; total: number }[] = [];
    void createXhrFetch({ onUploadProgress: (p) => progress.push(p) })("https://proxy/u", {
      method: "POST",
      body: new Uint8Array(10),
    });
    const xhr = lastXhr();
    xhr.upload.onprogress?.({ loaded: 4, total: 10 });
    xhr.upload.onprogress?.({ loaded: 10, total: 10 });
    assert.deepEqual(progress, [
      { loaded: 4, total: 10 },
      { loaded: 10, total: 10 },
    ]);
  });

  it("listens to no upload progress without onUploadProgress", deadline, () => {
    void createXhrFetch()("https://proxy/u", { method: "POST", body: new Uint8Array(1) });
    assert.equal(lastXhr().upload.onprogress, null);
  });

  for (const event of ["onerror", "ontimeout"] as const) {
    it(
      `rejects like fetch() on a network failure (${event}): a TypeError the client retries`,
      deadline,
      async () => {
        const pending = createXhrFetch()("https://proxy/x", { method: "POST" });
        lastXhr()[event]?.();
        const error = await pending.catch((e: unknown) => e);
        assert.ok(error instanceof TypeError);
        assert.equal(
          error.message,
          "Failed to fetch https://proxy/x (network error or CORS refusal)",
        );
        const asConnect = new ConnectError("failed", Code.Unknown, undefined, undefined, error);
        assert.equal(classifyFailure(asConnect, classifyBrowserFailure).disposition, "retry");
      },
    );
  }

  it(
    "aborts the request when the signal aborts, rejecting with the signal's reason",
    deadline,
    async () => {
      const stop = new AbortController();
      const pending = createXhrFetch()("https://proxy/x", { signal: stop.signal });
      const reason = new Error("call cancelled");
      stop.abort(reason);
      assert.equal(lastXhr().aborted, 1);
      await assert.rejects(pending, (e) => e === reason);
    },
  );

  it("an abort without a signal is an AbortError", deadline, async () => {
    const pending = createXhrFetch()("https://proxy/x");
    lastXhr().abort();
    const error = await pending.catch((e: unknown) => e);
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, "AbortError");
    assert.equal(error.message, "The request was aborted");
  });

  it("sends nothing for an already aborted signal", deadline, async () => {
    const stop = new AbortController();
    const reason = new Error("gone");
    stop.abort(reason);
    await assert.rejects(
      createXhrFetch()("https://proxy/x", { signal: stop.signal }),
      (e) => e === reason,
    );
    assert.equal(ScriptedXhr.made.length, 0);
  });

  for (const end of ["load", "error", "abort"] as const) {
    it(`stops listening to the signal once the request ends (${end})`, deadline, async () => {
      const stop = new AbortController();
      const pending = createXhrFetch()("https://proxy/x", { signal: stop.signal }).catch(() => {});
      const xhr = lastXhr();
      if (end === "load") xhr.load(200, "OK", new Uint8Array(), "");
      else if (end === "error") xhr.onerror?.();
      else xhr.onabort?.();
      await pending;
      stop.abort();
      assert.equal(xhr.aborted, 0, "a finished request was aborted");
    });
  }

  it("carries a gRPC-web unary call end to end (connect-web over it)", deadline, async () => {
    const transport = createGrpcWebTransport({
      baseUrl: "https://proxy",
      useBinaryFormat: true,
      fetch: createXhrFetch(),
    });
    const pending = createClient(Aggregator, transport).ping({});
    while (ScriptedXhr.made.length === 0) await settle();
    // An empty PingResponse, then the trailer "grpc-status: 0".
    const trailer = new TextEncoder().encode("grpc-status: 0\r\n");
    const body = new Uint8Array(5 + 5 + trailer.byteLength);
    body[5] = 0x80;
    new DataView(body.buffer).setUint32(6, trailer.byteLength);
    body.set(trailer, 10);
    lastXhr().load(200, "OK", body, "content-type: application/grpc-web+proto\r\n");
    const response = await pending;
    assert.equal(response.header, undefined);
  });
});

describe("parseResponseHeaders", () => {
  it("reads name: value lines, trimmed, CRLF or LF, repeated names joined", deadline, () => {
    const headers = parseResponseHeaders(
      "content-type: application/grpc-web+proto\r\ngrpc-status:0\nx-a:  1 \r\nx-a: 2\r\n",
    );
    assert.deepEqual(entries(headers), [
      ["content-type", "application/grpc-web+proto"],
      ["grpc-status", "0"],
      ["x-a", "1, 2"],
    ]);
  });

  it("trims the space around a name", deadline, () => {
    assert.equal(parseResponseHeaders(" grpc-status : 0\r\n").get("grpc-status"), "0");
  });

  it("keeps a value with colons whole (split at the first colon)", deadline, () => {
    assert.equal(parseResponseHeaders("date: 12:30:00\r\n").get("date"), "12:30:00");
  });

  it(
    "skips lines without a name: no colon, or a colon first; a one-letter name is kept",
    deadline,
    () => {
      const headers = parseResponseHeaders("garbage\r\n: no name\r\nx: 1\r\n\r\n");
      assert.deepEqual(entries(headers), [["x", "1"]]);
    },
  );
});
