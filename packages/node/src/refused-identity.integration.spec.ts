// What a collaborator sees when the aggregator (the reference aggregator, a Node TLS server)
// will never accept it: each ends in an error that cannot heal, after at most 3 attempts, and
// names the likely cause. The same cases against OpenFL's real server (grpcio, which drops the
// connection without a TLS alert) are in packages/interop.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AggregatorCallError } from "@openfl-connect/core";
import { createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { BOUNDED_RETRY, cannotHealWithin } from "@openfl-connect/test-support/call-errors";
import {
  startTestFederation,
  type TestFederation,
} from "@openfl-connect/test-support/reference-federation";

describe("an identity the reference aggregator refuses", () => {
  let fed: TestFederation;
  before(async () => {
    fed = await startTestFederation();
  });
  after(() => fed.close());

  it("a client certificate from a foreign CA: cannot heal, within 3 attempts", async () => {
    const foreign = await createTestPki(join(fed.dir, "foreign"), { collaborators: ["one"] });
    const pair = foreign.collaborators.one;
    assert.ok(pair);
    const client = fed.client("one", {
      certificate: pair.cert,
      privateKey: pair.key,
      retry: BOUNDED_RETRY,
    });
    await assert.rejects(client.ping(), cannotHealWithin(3, /client certificate/));
  });

  it("no client certificate: cannot heal, within 3 attempts", async () => {
    const client = fed.client("one", {
      requireClientAuth: false,
      certificate: undefined,
      privateKey: undefined,
      retry: BOUNDED_RETRY,
    });
    await assert.rejects(client.ping(), cannotHealWithin(3, /client certificate/));
  });

  it("useTls: false against a TLS aggregator: says so, within 3 attempts", async () => {
    const client = fed.client("one", { useTls: false, retry: BOUNDED_RETRY });
    await assert.rejects(client.ping(), cannotHealWithin(3, /useTls is false.*speaks TLS/));
  });
});

describe("an aggregator addressed by IP address", () => {
  let fed: TestFederation;
  before(async () => {
    fed = await startTestFederation();
  });
  after(() => fed.close());

  it("sends no IP address as TLS server name (no DEP0123) and verifies the IP SAN", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => warnings.push(`${w.code}: ${w.message}`);
    process.on("warning", onWarning);
    try {
      // The test PKI's server certificate carries IP SAN 127.0.0.1.
      await fed.client("one", { aggAddr: "127.0.0.1" }).ping();
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    assert.deepEqual(
      warnings.filter((w) => w.startsWith("DEP0123")),
      [],
    );
  });

  it("still refuses a certificate without that IP address", async () => {
    const client = fed.client("one", {
      aggAddr: "127.0.0.1",
      serverName: "127.0.0.2",
      retry: BOUNDED_RETRY,
    });
    await assert.rejects(
      client.ping(),
      (e: unknown) =>
        e instanceof AggregatorCallError &&
        e.reason === "cannot-heal" &&
        /ERR_TLS_CERT_ALTNAME_INVALID/.test(e.message),
    );
  });
});
