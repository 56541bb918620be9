import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CertificateLoadError, InvalidOptionError } from "@openfl-connect/core";
import {
  collaboratorConnection,
  createTestPki,
  issueCollaborator,
  type TestPki,
} from "@openfl-connect/reference-aggregator/pki";
import { BOUNDED_RETRY, cannotHealWithin } from "@openfl-connect/test-support/call-errors";
import {
  startTestFederation,
  type TestFederation,
} from "@openfl-connect/test-support/reference-federation";
import {
  AggregatorGRPCClient,
  type AggregatorGRPCClientOptions,
  createNodeConnector,
} from "./aggregator-grpc-client.js";
import { checkTlsMaterial, commonName } from "./tls-material.js";

const DAY_MS = 86_400_000;
let dir: string;
let pki: TestPki;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "openfl-tls-material-"));
  pki = await createTestPki(join(dir, "pki"), { collaborators: ["one"] });
});
after(() => rm(dir, { recursive: true, force: true }));

/** Options for collaborator "one" of the test PKI; never connected (construction only). */
function options(overrides: Partial<AggregatorGRPCClientOptions>): AggregatorGRPCClientOptions {
  const endpoint = { port: 50051, aggregatorUuid: "aggregator_fed", federationUuid: "fed" };
  return { ...collaboratorConnection(pki, "one", endpoint), warn: () => {}, ...overrides };
}

async function certificateValid(name: string, fromDays: number, toDays: number) {
  const now = Date.now();
  return issueCollaborator(pki, name, {
    validity: {
      notBefore: new Date(now + fromDays * DAY_MS),
      notAfter: new Date(now + toDays * DAY_MS),
    },
  });
}

describe("client certificate dates are checked at construction", () => {
  it("an expired certificate is an error naming the file and the date it expired", async () => {
    const old = await certificateValid("expired", -30, -1);
    assert.throws(
      () => new AggregatorGRPCClient(options({ certificate: old.cert, privateKey: old.key })),
      (e: unknown) =>
        e instanceof CertificateLoadError &&
        e.option === "certificate" &&
        e.file === old.cert &&
        /expired on \d{4}-\d\d-\d\dT/.test(e.problem),
    );
  });

  it("a certificate not valid yet is an error naming the file and when it starts", async () => {
    const future = await certificateValid("future", 2, 30);
    assert.throws(
      () => new AggregatorGRPCClient(options({ certificate: future.cert, privateKey: future.key })),
      (e: unknown) =>
        e instanceof CertificateLoadError &&
        e.file === future.cert &&
        /not valid yet: valid from/.test(e.problem),
    );
  });

  it("a certificate expiring within 14 days is a warning naming the file and the date", async () => {
    const soon = await certificateValid("soon", -1, 3);
    const warnings: string[] = [];
    new AggregatorGRPCClient(
      options({
        collaboratorName: "soon",
        certificate: soon.cert,
        privateKey: soon.key,
        warn: (m) => warnings.push(m),
      }),
    );
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.ok(warnings[0]?.includes(soon.cert));
    assert.match(warnings[0] ?? "", /expires on .* \(in [23]\.\d days\)/);
  });

  it("a certificate valid for longer than 14 days gives no warning", () => {
    const warnings: string[] = [];
    new AggregatorGRPCClient(options({ warn: (m) => warnings.push(m) }));
    assert.deepEqual(warnings, []);
  });
});

describe("PEM content where a file path belongs is refused without echoing it", () => {
  const keyText = () => readFileSync(pki.collaborators.one?.key ?? "", "utf8");

  for (const [what, value] of [
    ["PEM text (inline YAML)", () => keyText()],
    ["a Buffer", () => Buffer.from(keyText())],
  ] as const) {
    it(`privateKey given as ${what}`, () => {
      const secret = keyText().split("\n")[1] ?? "";
      assert.ok(secret.length > 20);
      assert.throws(
        () => new AggregatorGRPCClient(options({ privateKey: value() as unknown as string })),
        (e: unknown) => {
          assert.ok(e instanceof CertificateLoadError);
          assert.equal(e.option, "privateKey");
          assert.match(e.message, /this looks like PEM content; give a file path/);
          for (let c: unknown = e; c instanceof Error; c = c.cause) {
            assert.ok(!c.message.includes(secret), "no key material in the error or its causes");
            assert.ok(!String(c.stack).includes(secret), "nor in a stack");
          }
          return true;
        },
      );
    });
  }
});

describe("TLS material as bytes (the `tls` option)", () => {
  const bytes = () => ({
    rootCertificate: readFileSync(pki.caCert),
    certificate: readFileSync(pki.collaborators.one?.cert ?? ""),
    privateKey: readFileSync(pki.collaborators.one?.key ?? ""),
  });
  const noFiles = { rootCertificate: undefined, certificate: undefined, privateKey: undefined };

  it("is accepted in place of the file options", () => {
    new AggregatorGRPCClient(options({ ...noFiles, tls: bytes() }));
  });

  it("gets the same checks, naming the material as given as bytes", () => {
    const other = readFileSync(pki.caCert);
    assert.throws(
      () =>
        new AggregatorGRPCClient(options({ ...noFiles, tls: { ...bytes(), certificate: other } })),
      (e: unknown) =>
        e instanceof CertificateLoadError &&
        e.option === "privateKey" &&
        /\(given as bytes\).*does not match the certificate/.test(e.message),
    );
  });

  it("is refused together with the file options, naming both", () => {
    assert.throws(
      () => new AggregatorGRPCClient(options({ tls: bytes() })),
      (e: unknown) =>
        e instanceof InvalidOptionError &&
        e.option === "tls" &&
        /rootCertificate, certificate, privateKey/.test(e.message),
    );
  });
});

describe("certificate files that are something else are named for what they are", () => {
  it("a certificate signing request (.csr) given as the certificate says so, and what to give", () => {
    const csr = join(dir, "one.csr");
    execFileSync("openssl", [
      "req",
      "-new",
      "-key",
      pki.collaborators.one?.key ?? "",
      "-subj",
      "/CN=one",
      "-out",
      csr,
    ]);
    assert.throws(
      () => new AggregatorGRPCClient(options({ certificate: csr })),
      (e: unknown) =>
        e instanceof CertificateLoadError &&
        /one\.csr.*certificate signing request \(a \.csr\), not a certificate.*fx collaborator certify/.test(
          e.message,
        ),
    );
  });

  it("a key given as the certificate is named as a key", () => {
    assert.throws(
      () => new AggregatorGRPCClient(options({ certificate: pki.collaborators.one?.key })),
      /it holds a private key \(is it the key file\?\)/,
    );
  });

  it("a lone self-signed root CA as rootCertificate adds the cert_chain.crt hint to a chain that does not verify", () => {
    const connector = createNodeConnector(options({}));
    const unverified = Object.assign(new Error("unable to get local issuer certificate"), {
      code: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    });
    const seen = connector.classifyPlatformFailure(unverified);
    assert.equal(seen?.t, "server-certificate");
    assert.match(
      seen?.failure ?? "",
      /holds one self-signed CA .* give the workspace's cert\/cert_chain\.crt/,
    );
    // Another failure of the server's certificate (its name) gets no such hint.
    const altname = Object.assign(new Error("Hostname/IP does not match"), {
      code: "ERR_TLS_CERT_ALTNAME_INVALID",
    });
    assert.doesNotMatch(connector.classifyPlatformFailure(altname)?.failure ?? "", /cert_chain/);
    // A bundle of two certificates (a chain) is not a lone root.
    const chain = join(dir, "chain.crt");
    writeFileSync(chain, readFileSync(pki.server.cert, "utf8") + readFileSync(pki.caCert, "utf8"));
    const withChain = createNodeConnector(options({ rootCertificate: chain }));
    assert.doesNotMatch(withChain.classifyPlatformFailure(unverified)?.failure ?? "", /cert_chain/);
  });
});

/**
 * A certificate for collaborator `name` signed by an intermediate CA that `ca` signed (as a
 * federation whose signing CA sits under its root issues them). Returns the files: the leaf
 * alone, leaf + intermediate (what a chain file holds), the same reversed, and the key.
 */
function chainedCertificate(ca: TestPki, name: string, into: string) {
  const file = (n: string) => join(into, n);
  writeFileSync(
    file("ext.cnf"),
    [
      "[ca]",
      "basicConstraints=critical,CA:TRUE",
      "keyUsage=critical,keyCertSign,cRLSign",
      "[leaf]",
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=clientAuth,serverAuth",
      "",
    ].join("\n"),
  );
  const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  const issue = (subject: string, out: string, signer: [string, string], ext: string) => {
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", file(`${out}.key`)]);
    openssl([
      "req",
      "-new",
      "-key",
      file(`${out}.key`),
      "-subj",
      subject,
      "-out",
      file(`${out}.csr`),
    ]);
    openssl([
      "x509",
      "-req",
      "-in",
      file(`${out}.csr`),
      "-CA",
      signer[0],
      "-CAkey",
      signer[1],
      "-set_serial",
      String(Date.now()),
      "-days",
      "30",
      "-sha256",
      "-extfile",
      file("ext.cnf"),
      "-extensions",
      ext,
      "-out",
      file(`${out}.crt`),
    ]);
  };
  issue("/CN=openfl-connect test signing CA", "signing", [ca.caCert, ca.caKey], "ca");
  issue(`/CN=${name}`, name, [file("signing.crt"), file("signing.key")], "leaf");
  const leaf = readFileSync(file(`${name}.crt`), "utf8");
  const signing = readFileSync(file("signing.crt"), "utf8");
  writeFileSync(file("chain.crt"), leaf + signing);
  writeFileSync(file("reversed.crt"), signing + leaf);
  return {
    leaf: file(`${name}.crt`),
    chain: file("chain.crt"),
    reversed: file("reversed.crt"),
    key: file(`${name}.key`),
  };
}

describe("a certificate file holding a chain (the collaborator's certificate, then its CA)", () => {
  let chained: ReturnType<typeof chainedCertificate>;
  before(async () => {
    const into = join(dir, "chain");
    await mkdir(into);
    chained = chainedCertificate(pki, "one", into);
  });

  it("is accepted: the whole chain is presented, the CN and dates read from the first certificate", () => {
    const warnings: string[] = [];
    const checked = checkTlsMaterial(
      { certificate: readFileSync(chained.chain), privateKey: readFileSync(chained.key) },
      { requireClientAuth: true, warn: (m) => warnings.push(m) },
    );
    assert.deepEqual(checked.clientIdentity?.cert, readFileSync(chained.chain));
    assert.equal(checked.clientIdentity && commonName(checked.clientIdentity.leaf), "one");
    assert.deepEqual(warnings, []);
    // Through the client's options, with no CN warning either.
    const clientWarnings: string[] = [];
    new AggregatorGRPCClient(
      options({
        certificate: chained.chain,
        privateKey: chained.key,
        warn: (m) => clientWarnings.push(m),
      }),
    );
    assert.deepEqual(clientWarnings, []);
  });

  it("in the wrong order (CA first) is refused, saying to put the collaborator's certificate first", () => {
    assert.throws(
      () =>
        new AggregatorGRPCClient(
          options({ certificate: chained.reversed, privateKey: chained.key }),
        ),
      (e: unknown) =>
        e instanceof CertificateLoadError &&
        e.option === "privateKey" &&
        e.file === chained.key &&
        e.problem.includes(
          `matches certificate 2 of the 2 in ${chained.reversed}, not the first`,
        ) &&
        /put this collaborator's certificate first/.test(e.problem),
    );
  });

  it("a key that matches none of the chain's certificates is refused as not matching", () => {
    assert.throws(
      () =>
        new AggregatorGRPCClient(
          options({ certificate: chained.chain, privateKey: pki.collaborators.one?.key }),
        ),
      (e: unknown) =>
        e instanceof CertificateLoadError &&
        e.problem === `does not match the certificate in ${chained.chain}`,
    );
  });
});

describe("a chain reaches the aggregator whole", () => {
  let fed: TestFederation;
  let chained: ReturnType<typeof chainedCertificate>;
  before(async () => {
    fed = await startTestFederation();
    const into = join(fed.dir, "chain");
    await mkdir(into);
    chained = chainedCertificate(fed.pki, "one", into);
  });
  after(() => fed.close());

  it("an aggregator trusting only the root CA accepts a certificate signed by its signing CA, given as a chain", async () => {
    const client = fed.client("one", {
      certificate: chained.chain,
      privateKey: chained.key,
      retry: BOUNDED_RETRY,
    });
    await client.ping();
  });

  it("the same certificate without its signing CA is refused by that aggregator: cannot heal, within 3 attempts", async () => {
    const client = fed.client("one", {
      certificate: chained.leaf,
      privateKey: chained.key,
      retry: BOUNDED_RETRY,
    });
    await assert.rejects(client.ping(), cannotHealWithin(3, /client certificate/));
  });
});

describe("the certificate's CN against the name the aggregator expects", () => {
  const warningsFor = (overrides: Partial<AggregatorGRPCClientOptions>) => {
    const warnings: string[] = [];
    new AggregatorGRPCClient(options({ ...overrides, warn: (m) => warnings.push(m) }));
    return warnings;
  };

  it("a CN other than collaboratorName is warned about, naming both (the aggregator will answer UNAUTHENTICATED)", () => {
    assert.deepEqual(warningsFor({ collaboratorName: "two" }), [
      `openfl-connect: certificate ${pki.collaborators.one?.cert} has CN 'one' but the aggregator expects 'two'; it will answer UNAUTHENTICATED.`,
    ]);
  });

  it("with singleColCertCommonName set (non-empty), the CN is checked against it instead", () => {
    assert.deepEqual(warningsFor({ collaboratorName: "two", singleColCertCommonName: "one" }), []);
    assert.match(
      warningsFor({ collaboratorName: "one", singleColCertCommonName: "shared" }).join("\n"),
      /has CN 'one' but the aggregator expects 'shared'/,
    );
    // Empty means not in single-certificate mode: collaboratorName counts.
    assert.deepEqual(warningsFor({ collaboratorName: "one", singleColCertCommonName: "" }), []);
  });
});
