import assert from "node:assert/strict";
import fs from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { CertificateLoadError } from "@openfl-connect/core";
import { createTestPki, type TestPki } from "@openfl-connect/reference-aggregator/pki";
import {
  AggregatorGRPCClient,
  type AggregatorGRPCClientOptions,
} from "./aggregator-grpc-client.js";
import { loadTlsFiles } from "./pem-files.js";

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

describe("loadTlsFiles: every way a path can be wrong is named", () => {
  const refusal = (option: string, file: string, problem: string) => (e: unknown) => {
    assert.ok(e instanceof CertificateLoadError, String(e));
    assert.deepEqual([e.option, e.file, e.problem], [option, file, problem]);
    return true;
  };

  it("an empty path, or a value that is not a path, is refused as such", () => {
    assert.throws(
      () => loadTlsFiles({ certificate: "" }),
      refusal("certificate", '""', "expected a path to a PEM file"),
    );
    assert.throws(
      () => loadTlsFiles({ privateKey: 5 as unknown as string }),
      refusal("privateKey", "number", "expected a path to a PEM file"),
    );
  });

  it("PEM text on one line (folded YAML) is refused as PEM content, never echoed", () => {
    const oneLine = "-----BEGIN CERTIFICATE----- MIIBszCCAVmgAwIBAgIU -----END CERTIFICATE-----";
    assert.throws(
      () => loadTlsFiles({ certificate: oneLine }),
      (e: unknown) => {
        refusal(
          "certificate",
          "(PEM content, not shown)",
          "this looks like PEM content; give a file path (or pass the bytes as the `tls` option)",
        )(e);
        assert.ok(!(e as Error).message.includes("MIIB"));
        return true;
      },
    );
  });

  it("a missing file keeps Node's error as the cause", () => {
    const missing = join(dir, "missing.crt");
    assert.throws(
      () => loadTlsFiles({ rootCertificate: missing }),
      (e: unknown) => {
        refusal("rootCertificate", missing, "file does not exist")(e);
        assert.equal(((e as Error).cause as NodeJS.ErrnoException).code, "ENOENT");
        return true;
      },
    );
  });

  it("a path through a file (ENOTDIR) says it cannot be read, with Node's code", () => {
    const through = join(pki.caCert, "x.crt");
    assert.throws(
      () => loadTlsFiles({ rootCertificate: through }),
      refusal("rootCertificate", through, "cannot be read (ENOTDIR)"),
    );
  });

  it("a file this user may not read says permission denied", async (t: TestContext) => {
    const locked = join(dir, "locked.key");
    await writeFile(locked, "-----BEGIN PRIVATE KEY-----\n");
    fs.chmodSync(locked, 0o000);
    if (process.getuid?.() === 0) {
      // Root reads every file, so the kernel never says EACCES to it: it is said here, as it
      // is to any other user reading a file mode 000.
      t.mock.method(fs, "readFileSync", (path: string) => {
        assert.equal(path, locked);
        throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), {
          code: "EACCES",
        });
      });
      syncBuiltinESMExports();
      t.after(() => {
        t.mock.restoreAll();
        syncBuiltinESMExports();
      });
    }
    assert.throws(
      () => loadTlsFiles({ privateKey: locked }),
      refusal("privateKey", locked, "file is not readable (permission denied)"),
    );
  });
});
