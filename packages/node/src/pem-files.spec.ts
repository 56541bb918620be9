import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CertificateLoadError } from "@openfl-connect/core";
import { createTestPki, type TestPki } from "@openfl-connect/reference-aggregator/pki";
import {
  AggregatorGRPCClient,
  type AggregatorGRPCClientOptions,
} from "./aggregator-grpc-client.js";

let dir: string;
let pki: TestPki;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "openfl-pem-"));
  pki = await createTestPki(join(dir, "pki"), { collaborators: ["one", "two"] });
});
after(() => rm(dir, { recursive: true, force: true }));

function options(
  overrides: Partial<AggregatorGRPCClientOptions> = {},
): AggregatorGRPCClientOptions {
  const one = pki.collaborators.one;
  assert.ok(one);
  return {
    aggAddr: "localhost",
    aggPort: 50051,
    aggregatorUuid: "aggregator_fed",
    federationUuid: "fed",
    collaboratorName: "one",
    rootCertificate: pki.caCert,
    certificate: one.cert,
    privateKey: one.key,
    warn: () => {},
    ...overrides,
  };
}

function assertCertificateError(
  fn: () => unknown,
  option: string,
  file: string,
  problem: RegExp,
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CertificateLoadError, `expected CertificateLoadError, got ${e}`);
    assert.equal(e.option, option);
    assert.equal(e.file, file);
    assert.match(e.problem, problem);
    assert.ok(e.message.includes(file), "the message names the file");
    return true;
  });
}

describe("certificate files are checked at construction", () => {
  it("accepts a matching certificate, key and CA", () => {
    new AggregatorGRPCClient(options());
  });

  it("names a missing file", () => {
    const missing = join(dir, "nope.crt");
    assertCertificateError(
      () => new AggregatorGRPCClient(options({ certificate: missing })),
      "certificate",
      missing,
      /does not exist/,
    );
  });

  it("names a file that is not PEM", async () => {
    const junk = join(dir, "junk.pem");
    await writeFile(junk, "hello");
    assertCertificateError(
      () => new AggregatorGRPCClient(options({ rootCertificate: junk })),
      "rootCertificate",
      junk,
      /not PEM/,
    );
  });

  it("names a key given where a certificate belongs", () => {
    const key = pki.collaborators.one?.key ?? "";
    assertCertificateError(
      () => new AggregatorGRPCClient(options({ certificate: key })),
      "certificate",
      key,
      /no CERTIFICATE block/,
    );
  });

  it("names a key that does not match its certificate, without printing the key", () => {
    const otherKey = pki.collaborators.two?.key ?? "";
    assert.throws(
      () => new AggregatorGRPCClient(options({ privateKey: otherKey })),
      (e: unknown) =>
        e instanceof CertificateLoadError &&
        e.file === otherKey &&
        /does not match the certificate/.test(e.problem) &&
        !e.message.includes("PRIVATE KEY"),
    );
  });

  it("names an unreadable directory given as a file", () => {
    assertCertificateError(
      () => new AggregatorGRPCClient(options({ privateKey: dir })),
      "privateKey",
      dir,
      /directory/,
    );
  });

  it("requires a client certificate unless requireClientAuth is false", () => {
    assert.throws(
      () => new AggregatorGRPCClient(options({ certificate: undefined })),
      /requireClientAuth/,
    );
    new AggregatorGRPCClient(
      options({ certificate: undefined, privateKey: undefined, requireClientAuth: false }),
    );
  });

  it("warns when the certificate CN is not the collaborator name", () => {
    const warnings: string[] = [];
    new AggregatorGRPCClient(options({ collaboratorName: "two", warn: (m) => warnings.push(m) }));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", /CN 'one'.*expects 'two'/);
  });

  it("warns, and does not read certificates, when TLS is explicitly off", () => {
    const warnings: string[] = [];
    new AggregatorGRPCClient(
      options({ useTls: false, certificate: "/missing", warn: (m) => warnings.push(m) }),
    );
    assert.match(warnings[0] ?? "", /without TLS/);
  });

  it("rejects a wrong port or address type, naming the option", () => {
    assert.throws(() => new AggregatorGRPCClient(options({ aggPort: 70000 })), /aggPort/);
    assert.throws(() => new AggregatorGRPCClient(options({ aggAddr: "" })), /aggAddr/);
    assert.throws(() => new AggregatorGRPCClient(options({ useTls: "yes" as never })), /useTls/);
  });
});
