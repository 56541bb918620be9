import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { AggregatorWebClient } from "@openfl-connect/web";
import {
  ACCESS_TOKEN_KEY,
  bearerTokenInterceptor,
  InvalidAccessTokenError,
  loadAccessToken,
  normaliseAccessToken,
  saveAccessToken,
} from "./access-token.js";
import { describeError } from "./describe-error.js";

const JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl";

function memoryStorage() {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => {
      items.set(key, value);
    },
    removeItem: (key: string) => {
      items.delete(key);
    },
  };
}

/** A gRPC-web "proxy" that records request headers and answers as Envoy's jwt_authn does. */
function recordingProxy(answer: { grpcStatus: string; grpcMessage: string }) {
  const headers: Headers[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    headers.push(new Request(input, init).headers);
    return new Response(null, {
      status: 200,
      headers: {
        "content-type": "application/grpc-web+proto",
        "grpc-status": answer.grpcStatus,
        "grpc-message": answer.grpcMessage,
      },
    });
  };
  return { fetch, headers };
}

function client(fetch: typeof globalThis.fetch, token: string | undefined) {
  return new AggregatorWebClient({
    proxyUrl: "http://127.0.0.1:1",
    aggregatorUuid: "aggregator_plan.yaml_1",
    federationUuid: "plan.yaml_1",
    collaboratorName: "dashboard",
    retry: { intervalMs: 0, maxAttempts: 1 },
    fetch,
    interceptors: [bearerTokenInterceptor(token)],
  });
}

describe("dashboard access token", () => {
  it("is sent as 'authorization: Bearer <token>' on every call", async () => {
    const proxy = recordingProxy({ grpcStatus: "16", grpcMessage: "Jwt is missing" });
    const c = client(proxy.fetch, JWT);
    await assert.rejects(c.ping());
    await assert.rejects(c.getTasks());
    assert.ok(proxy.headers.length >= 2);
    for (const h of proxy.headers) assert.equal(h.get("authorization"), `Bearer ${JWT}`);
  });

  it("sends no authorization header when there is no token", async () => {
    for (const token of [undefined, "", "   "]) {
      const proxy = recordingProxy({ grpcStatus: "16", grpcMessage: "Jwt is missing" });
      await assert.rejects(client(proxy.fetch, token).ping());
      assert.equal(proxy.headers[0]?.get("authorization"), null);
    }
  });

  it("explains a token the proxy refused, without showing the token", async () => {
    const proxy = recordingProxy({ grpcStatus: "16", grpcMessage: "Jwt is expired" });
    const error = await client(proxy.fetch, JWT)
      .ping()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const described = describeError(error, { proxyUrl: "http://x", origin: "http://y" });
    assert.equal(described.kind, "unauthenticated");
    assert.match(described.summary, /access token/);
    assert.ok(!described.summary.includes(JWT) && !described.detail.includes(JWT));
  });

  it("keeps the certificate explanation for an UNAUTHENTICATED from the aggregator", () => {
    const described = describeError(
      new ConnectError("Invalid collaborator. CN: x", Code.Unauthenticated),
      { proxyUrl: "http://x", origin: "http://y" },
    );
    assert.equal(described.kind, "unauthenticated");
    assert.match(described.summary, /certificate CN must equal the collaborator name/);
  });

  it("is normalised: trimmed, a pasted 'Bearer ' prefix dropped", () => {
    assert.equal(normaliseAccessToken(`  ${JWT}\n`), JWT);
    assert.equal(normaliseAccessToken(`Bearer ${JWT}`), JWT);
    assert.equal(normaliseAccessToken(""), "");
  });

  it("rejects a token with spaces or line breaks inside, without echoing it", () => {
    for (const bad of ["abc def", "abc\r\nx-evil: 1", "a\u0000b"]) {
      assert.throws(
        () => normaliseAccessToken(bad),
        (e: unknown) => e instanceof InvalidAccessTokenError && !e.message.includes(bad),
      );
      assert.throws(() => bearerTokenInterceptor(bad), InvalidAccessTokenError);
    }
    const described = describeError(new InvalidAccessTokenError("bad token"), {
      proxyUrl: "",
      origin: "",
    });
    assert.equal(described.kind, "invalid-setting");
  });

  it("is kept in the storage it is given under its own key; empty removes it", () => {
    const session = memoryStorage();
    saveAccessToken(session, ` Bearer ${JWT} `);
    assert.deepEqual([...session.items], [[ACCESS_TOKEN_KEY, JWT]]);
    assert.equal(loadAccessToken(session), JWT);
    saveAccessToken(session, "");
    assert.equal(session.items.size, 0);
    assert.equal(loadAccessToken(session), "");
  });

  it("is kept by the page in sessionStorage, never localStorage", async () => {
    const { readFile } = await import("node:fs/promises");
    const main = await readFile(new URL("./main.ts", import.meta.url), "utf8");
    assert.match(main, /saveAccessToken\(sessionStorage,/);
    assert.doesNotMatch(main, /saveAccessToken\(localStorage|loadAccessToken\(localStorage/);
  });
});
