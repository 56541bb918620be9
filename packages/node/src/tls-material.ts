import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { CertificateLoadError } from "@openfl-connect/core";

/**
 * TLS material as PEM bytes: what the Node connector uses. `loadTlsFiles` reads it from the
 * files OpenFL's options name; a caller holding the PEM in memory (a secret store) passes it
 * directly. `sources` names where each came from, for messages (default "given as bytes").
 */
export interface TlsMaterial {
  /** CA bundle that signed the aggregator's certificate. Default: Node's public CAs. */
  readonly rootCertificate?: Uint8Array | undefined;
  /**
   * This collaborator's certificate, or a chain: its certificate first, then the CAs that
   * signed it (all presented to the aggregator, as grpcio does); its CN should be the
   * collaborator name.
   */
  readonly certificate?: Uint8Array | undefined;
  /** The certificate's unencrypted private key. Never printed. */
  readonly privateKey?: Uint8Array | undefined;
  readonly sources?: {
    readonly rootCertificate?: string;
    readonly certificate?: string;
    readonly privateKey?: string;
  };
}

/** A client certificate this close to its end gets a warning at construction. */
export const CERTIFICATE_EXPIRY_WARNING_DAYS = 14;

/** Parsed and checked material, ready for `tls.connect`. */
export interface CheckedTls {
  readonly ca?: Buffer;
  readonly clientIdentity?: ClientIdentity;
  /**
   * Said when the server's certificate cannot be chained to `ca`: set when `ca` is one
   * self-signed certificate, which is what a root CA given instead of OpenFL's
   * cert/cert_chain.crt (signing CA + root) looks like.
   */
  readonly caHint?: string;
}

/** The client certificate and key, and what messages say about them. */
export interface ClientIdentity {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The leaf certificate, e.g. for its dates when a connection is refused. */
  readonly leaf: X509Certificate;
  /** Where the certificate came from: a file path, or "(given as bytes)". */
  readonly source: string;
}

const BYTES_SOURCE = "(given as bytes)";

/**
 * Parses and checks the material: every certificate is X.509, the key parses and belongs to
 * the certificate, the certificate is valid now (an error) and for the next 14 days (a warning).
 */
export function checkTlsMaterial(
  material: TlsMaterial,
  options: {
    readonly requireClientAuth: boolean;
    readonly now?: Date;
    readonly warn: (message: string) => void;
  },
): CheckedTls {
  const source = (option: keyof NonNullable<TlsMaterial["sources"]>) =>
    material.sources?.[option] ?? BYTES_SOURCE;
  const roots =
    material.rootCertificate === undefined
      ? undefined
      : parseCertificates("rootCertificate", material.rootCertificate, source("rootCertificate"));
  const ca = roots?.pem;
  const caHint =
    roots !== undefined && roots.count === 1 && roots.leaf.subject === roots.leaf.issuer
      ? `rootCertificate ${source("rootCertificate")} holds one self-signed CA (${commonName(roots.leaf) ?? roots.leaf.subject}) and no intermediate: OpenFL's server certificates are signed by its signing CA, so give the workspace's cert/cert_chain.crt (signing CA + root CA)`
      : undefined;
  const caPart = { ...(ca ? { ca } : {}), ...(caHint ? { caHint } : {}) };
  if (!options.requireClientAuth) return caPart;
  if (material.certificate === undefined || material.privateKey === undefined) {
    const missing = material.certificate === undefined ? "certificate" : "privateKey";
    throw new CertificateLoadError(
      missing,
      "(not given)",
      "requireClientAuth is true (the default), so certificate and privateKey are required; pass requireClientAuth: false to connect without a client certificate",
    );
  }
  const certificate = parseCertificates("certificate", material.certificate, source("certificate"));
  const privateKey = parsePrivateKey("privateKey", material.privateKey, source("privateKey"));
  if (!certificate.leaf.checkPrivateKey(privateKey.key)) {
    // A chain in the wrong order: TLS presents the first certificate as this collaborator's.
    const at = certificate.all.findIndex((c) => c.checkPrivateKey(privateKey.key));
    throw new CertificateLoadError(
      "privateKey",
      source("privateKey"),
      // Never 0: the first certificate was just found not to match.
      at === -1
        ? `does not match the certificate in ${source("certificate")}`
        : `matches certificate ${at + 1} of the ${certificate.all.length} in ${source("certificate")}, not the first: put this collaborator's certificate first, then the CAs that signed it`,
    );
  }
  checkValidity(certificate.leaf, source("certificate"), options.now ?? new Date(), options.warn);
  return {
    ...caPart,
    clientIdentity: {
      cert: certificate.pem,
      key: privateKey.pem,
      leaf: certificate.leaf,
      source: source("certificate"),
    },
  };
}

/** Parses a certificate or a bundle; every CERTIFICATE block must be X.509. */
export function parseCertificates(
  option: string,
  bytes: Uint8Array,
  source: string,
): {
  readonly pem: Buffer;
  /** The first certificate: the one TLS presents as the holder's (a chain's leaf). */
  readonly leaf: X509Certificate;
  readonly all: readonly X509Certificate[];
  readonly count: number;
} {
  const pem = pemBuffer(option, bytes, source);
  const text = pem.toString("utf8");
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) {
    throw new CertificateLoadError(
      option,
      source,
      `PEM holds no CERTIFICATE block: ${whatPemHolds(text)}`,
    );
  }
  const parsed = blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new CertificateLoadError(
        option,
        source,
        "CERTIFICATE block is not a valid X.509 certificate",
        { cause: error },
      );
    }
  });
  return { pem, leaf: parsed[0] as X509Certificate, all: parsed, count: parsed.length };
}

/** What a PEM without certificates holds instead, and what to give. */
function whatPemHolds(text: string): string {
  const labels = [...new Set([...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]))];
  if (labels.includes("CERTIFICATE REQUEST") || labels.includes("NEW CERTIFICATE REQUEST")) {
    return "it is a certificate signing request (a .csr), not a certificate: the federation's CA signs it into one (OpenFL: fx collaborator certify), which is the .crt to give";
  }
  if (labels.some((l) => l?.includes("PRIVATE KEY")))
    return "it holds a private key (is it the key file?)";
  return `it holds ${labels.join(", ")}`;
}

/** Parses a private key. Never puts key material in an error message or its cause. */
export function parsePrivateKey(
  option: string,
  bytes: Uint8Array,
  source: string,
): { readonly pem: Buffer; readonly key: KeyObject } {
  const pem = pemBuffer(option, bytes, source);
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch (error) {
    throw new CertificateLoadError(
      option,
      source,
      pem.includes("ENCRYPTED")
        ? "private key is encrypted; give an unencrypted key"
        : "not a valid PEM private key",
      { cause: error instanceof Error ? new Error(error.message) : undefined },
    );
  }
}

/** The certificate's subject CN, for messages (e.g. "collaborator1"). */
export function commonName(certificate: X509Certificate): string | undefined {
  return cnOf(certificate.subject);
}

/** The certificate's issuer CN (or whole issuer), for messages. */
export function issuerName(certificate: X509Certificate): string {
  return cnOf(certificate.issuer) ?? certificate.issuer;
}

/** The CN of a distinguished name as Node prints it (one "KEY=value" per line). */
function cnOf(distinguishedName: string): string | undefined {
  return /(?:^|\n)CN=([^\n]+)/.exec(distinguishedName)?.[1];
}

function checkValidity(
  leaf: X509Certificate,
  source: string,
  now: Date,
  warn: (message: string) => void,
): void {
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  if (now < notBefore) {
    throw new CertificateLoadError(
      "certificate",
      source,
      `not valid yet: valid from ${notBefore.toISOString()} (now ${now.toISOString()}); check this machine's clock or wait`,
    );
  }
  if (now > notAfter) {
    throw new CertificateLoadError(
      "certificate",
      source,
      `expired on ${notAfter.toISOString()} (now ${now.toISOString()}); the aggregator will refuse it: get a new certificate signed by the federation's CA`,
    );
  }
  const daysLeft = (notAfter.getTime() - now.getTime()) / 86_400_000;
  if (daysLeft < CERTIFICATE_EXPIRY_WARNING_DAYS) {
    warn(
      `openfl-connect: certificate ${source} expires on ${notAfter.toISOString()} (in ${daysLeft.toFixed(1)} days); renew it before then or the aggregator will refuse this collaborator`,
    );
  }
}

function pemBuffer(option: string, bytes: Uint8Array, source: string): Buffer {
  if (!(bytes instanceof Uint8Array)) {
    throw new CertificateLoadError(option, source, `expected PEM bytes, got ${typeof bytes}`);
  }
  const pem = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!pem.includes("-----BEGIN ")) {
    throw new CertificateLoadError(option, source, "not PEM: no '-----BEGIN' line found");
  }
  return pem;
}
