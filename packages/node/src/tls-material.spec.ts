import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, X509Certificate } from "node:crypto";
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
import { CERTIFICATE_EXPIRY_WARNING_DAYS, checkTlsMaterial, commonName } from "./tls-material.js";

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
 * Issues certificates with openssl into `into`: `issue(subject, out, [caCert, caKey], ext)`
 * writes `<out>.key` and `<out>.crt`, with the extensions of section `ext` ("ca" or "leaf").
 */
function opensslIssuer(into: string) {
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
    return { cert: file(`${out}.crt`), key: file(`${out}.key`) };
  };
  return { file, issue };
}

/**
 * A certificate for collaborator `name` signed by an intermediate CA that `ca` signed (as a
 * federation whose signing CA sits under its root issues them). Returns the files: the leaf
 * alone, leaf + intermediate (what a chain file holds), the same reversed, the key, and the
 * intermediate (signing) CA.
 */
function chainedCertificate(ca: TestPki, name: string, into: string) {
  const { file, issue } = opensslIssuer(into);
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
    signingCa: file("signing.crt"),
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

describe("the cert_chain.crt hint, exactly when the CA bundle is one self-signed root", () => {
  let chained: ReturnType<typeof chainedCertificate>;
  before(async () => {
    // A signing CA under the test root (its chain is issued the same way as the one above).
    const into = join(dir, "hint");
    await mkdir(into);
    chained = chainedCertificate(pki, "one", into);
  });
  const verifyFailure = (code: string) =>
    Object.assign(new Error("unable to verify"), { code }) as Error;
  const caName = () =>
    /CN=([^\n]+)/.exec(new X509Certificate(readFileSync(pki.caCert)).subject)?.[1];

  for (const code of [
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  ]) {
    it(`${code}: the failure says what the bundle holds and what to give instead, naming the root's CN`, () => {
      const seen = createNodeConnector(options({})).classifyPlatformFailure(verifyFailure(code));
      assert.deepEqual(seen, {
        t: "server-certificate",
        failure: `the aggregator's TLS certificate did not verify (${code}); rootCertificate ${pki.caCert} holds one self-signed CA (${caName()}) and no intermediate: OpenFL's server certificates are signed by its signing CA, so give the workspace's cert/cert_chain.crt (signing CA + root CA)`,
      });
    });
  }

  it("no hint for a bundle that starts with the self-signed root and holds more, nor for one CA that is not self-signed", () => {
    const rootFirst = join(dir, "hint", "root-first.crt");
    writeFileSync(
      rootFirst,
      readFileSync(pki.caCert, "utf8") + readFileSync(chained.signingCa, "utf8"),
    );
    for (const bundle of [rootFirst, chained.signingCa]) {
      const seen = createNodeConnector(
        options({ rootCertificate: bundle }),
      ).classifyPlatformFailure(verifyFailure("UNABLE_TO_GET_ISSUER_CERT_LOCALLY"));
      assert.equal(
        seen?.failure,
        "the aggregator's TLS certificate did not verify (UNABLE_TO_GET_ISSUER_CERT_LOCALLY)",
        bundle,
      );
    }
  });
});

describe("checkTlsMaterial: what is missing or wrong is named exactly", () => {
  const one = () => ({
    certificate: readFileSync(pki.collaborators.one?.cert ?? ""),
    privateKey: readFileSync(pki.collaborators.one?.key ?? ""),
  });
  const check = (material: Parameters<typeof checkTlsMaterial>[0], now?: Date) => {
    const warnings: string[] = [];
    checkTlsMaterial(material, {
      requireClientAuth: true,
      warn: (m) => warnings.push(m),
      ...(now ? { now } : {}),
    });
    return warnings;
  };
  const refusal = (option: string, file: string, problem: string | RegExp) => (e: unknown) => {
    assert.ok(e instanceof CertificateLoadError, String(e));
    assert.equal(e.option, option);
    assert.equal(e.file, file);
    if (typeof problem === "string") assert.equal(e.problem, problem);
    else assert.match(e.problem, problem);
    return true;
  };
  const required =
    "requireClientAuth is true (the default), so certificate and privateKey are required; pass requireClientAuth: false to connect without a client certificate";

  it("a certificate without its key, or a key without its certificate: the missing one is named", () => {
    assert.throws(
      () => check({ certificate: one().certificate }),
      refusal("privateKey", "(not given)", required),
    );
    assert.throws(
      () => check({ privateKey: one().privateKey }),
      refusal("certificate", "(not given)", required),
    );
  });

  it("a key file that holds no key, and an encrypted key, are named as such without key material", () => {
    const encrypted = generateKeyPairSync("ec", {
      namedCurve: "prime256v1",
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: {
        type: "pkcs8",
        format: "pem",
        cipher: "aes-256-cbc",
        passphrase: "secret",
      },
    }).privateKey;
    for (const [key, problem] of [
      [
        Buffer.from("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
        "not a valid PEM private key",
      ],
      [Buffer.from(encrypted), "private key is encrypted; give an unencrypted key"],
    ] as const) {
      assert.throws(
        () => check({ certificate: one().certificate, privateKey: key }),
        (e: unknown) => {
          refusal("privateKey", "(given as bytes)", problem)(e);
          assert.ok((e as Error).cause instanceof Error, "Node's reason is kept as the cause");
          assert.ok(!String((e as Error).cause).includes("AAAA"));
          return true;
        },
      );
    }
  });

  it("a CERTIFICATE block that is not X.509 is named as such, Node's reason kept as the cause", () => {
    assert.throws(
      () =>
        check({
          ...one(),
          certificate: Buffer.from(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
          ),
        }),
      (e: unknown) => {
        refusal(
          "certificate",
          "(given as bytes)",
          "CERTIFICATE block is not a valid X.509 certificate",
        )(e);
        assert.ok((e as Error).cause instanceof Error);
        return true;
      },
    );
  });

  it("PEM that holds no certificate says what it holds instead", () => {
    const publicKey = generateKeyPairSync("ec", { namedCurve: "prime256v1" })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString();
    const ecParameters = execFileSync("openssl", ["ecparam", "-name", "prime256v1"]).toString();
    // What `openssl ecparam -genkey` writes without -noout: the parameters, then the key.
    const keyWithParameters = execFileSync("openssl", [
      "ecparam",
      "-name",
      "prime256v1",
      "-genkey",
    ]).toString();
    const csr = execFileSync("openssl", [
      "req",
      "-new",
      "-key",
      pki.collaborators.one?.key ?? "",
      "-subj",
      "/CN=one",
    ]).toString();
    for (const [pem, problem] of [
      [
        publicKey + ecParameters,
        "PEM holds no CERTIFICATE block: it holds PUBLIC KEY, EC PARAMETERS",
      ],
      [
        keyWithParameters,
        "PEM holds no CERTIFICATE block: it holds a private key (is it the key file?)",
      ],
      [
        csr.replaceAll("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"),
        /^PEM holds no CERTIFICATE block: it is a certificate signing request \(a \.csr\)/,
      ],
    ] as const) {
      assert.throws(
        () => check({ ...one(), certificate: Buffer.from(pem) }),
        refusal("certificate", "(given as bytes)", problem),
      );
    }
  });

  it("material that is not bytes (a string where PEM bytes belong) is refused naming its type", () => {
    assert.throws(
      () => check({ ...one(), certificate: "/path/to/one.crt" as unknown as Uint8Array }),
      refusal("certificate", "(given as bytes)", "expected PEM bytes, got string"),
    );
  });

  it("a certificate is valid from its first second to its last, both included", () => {
    const leaf = new X509Certificate(one().certificate);
    const notBefore = new Date(leaf.validFrom).getTime();
    const notAfter = new Date(leaf.validTo).getTime();
    assert.doesNotThrow(() => check(one(), new Date(notBefore)));
    assert.doesNotThrow(() => check(one(), new Date(notAfter)));
    assert.throws(
      () => check(one(), new Date(notBefore - 1)),
      refusal("certificate", "(given as bytes)", /^not valid yet: valid from /),
    );
    assert.throws(
      () => check(one(), new Date(notAfter + 1)),
      refusal("certificate", "(given as bytes)", /^expired on /),
    );
  });

  it(`the expiry warning starts when fewer than ${CERTIFICATE_EXPIRY_WARNING_DAYS} days are left`, () => {
    const notAfter = new Date(new X509Certificate(one().certificate).validTo).getTime();
    const edge = notAfter - CERTIFICATE_EXPIRY_WARNING_DAYS * DAY_MS;
    assert.deepEqual(check(one(), new Date(edge)), []);
    assert.match(check(one(), new Date(edge + 1)).join("\n"), /expires on .* \(in 14\.0 days\)/);
  });
});

describe("a client certificate without a CN", () => {
  it("gets no CN warning: there is no CN to compare with the collaborator name", async () => {
    const into = join(dir, "no-cn");
    await mkdir(into);
    const { issue } = opensslIssuer(into);
    const noCn = issue("/O=openfl-connect test", "no-cn", [pki.caCert, pki.caKey], "leaf");
    const warnings: string[] = [];
    new AggregatorGRPCClient(
      options({ certificate: noCn.cert, privateKey: noCn.key, warn: (m) => warnings.push(m) }),
    );
    assert.deepEqual(warnings, []);
  });
});

describe("the tls option together with file options", () => {
  it("is refused saying which file options were also given", () => {
    assert.throws(
      () =>
        new AggregatorGRPCClient(
          options({ privateKey: undefined, tls: { certificate: new Uint8Array(0) } }),
        ),
      (e: unknown) =>
        e instanceof InvalidOptionError &&
        e.option === "tls" &&
        e.expected ===
          "either tls (PEM bytes) or the file options, not both (also given: rootCertificate, certificate)",
    );
  });
});
