import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { CertificateLoadError } from "@openfl-connect/core";

/** A PEM file read and parsed at construction, so that a bad file fails early and by name. */
export interface LoadedPem {
  readonly file: string;
  readonly pem: Buffer;
}

function readPemFile(option: string, file: unknown): Buffer {
  if (typeof file !== "string" || file === "") {
    throw new CertificateLoadError(option, String(file), "expected a path to a PEM file");
  }
  let contents: Buffer;
  try {
    contents = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem =
      code === "ENOENT"
        ? "file does not exist"
        : code === "EACCES"
          ? "file is not readable (permission denied)"
          : code === "EISDIR"
            ? "is a directory, not a file"
            : `cannot be read (${code ?? String(error)})`;
    throw new CertificateLoadError(option, file, problem, { cause: error });
  }
  if (!contents.includes("-----BEGIN ")) {
    throw new CertificateLoadError(option, file, "not PEM: no '-----BEGIN' line found");
  }
  return contents;
}

/** Reads certificates (one or a bundle) and checks each parses as X.509. */
export function loadCertificates(
  option: string,
  file: unknown,
): LoadedPem & { readonly first: X509Certificate } {
  const pem = readPemFile(option, file);
  const blocks = pem
    .toString("utf8")
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) {
    throw new CertificateLoadError(
      option,
      String(file),
      "PEM holds no CERTIFICATE block (is it a key?)",
    );
  }
  const parsed = blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new CertificateLoadError(
        option,
        String(file),
        "CERTIFICATE block is not a valid X.509 certificate",
        {
          cause: error,
        },
      );
    }
  });
  return { file: String(file), pem, first: parsed[0] as X509Certificate };
}

/** Reads a private key. Never puts key material in an error message. */
export function loadPrivateKey(
  option: string,
  file: unknown,
): LoadedPem & { readonly key: KeyObject } {
  const pem = readPemFile(option, file);
  try {
    return { file: String(file), pem, key: createPrivateKey(pem) };
  } catch (error) {
    const encrypted = pem.includes("ENCRYPTED");
    throw new CertificateLoadError(
      option,
      String(file),
      encrypted
        ? "private key is encrypted; give an unencrypted key"
        : "not a valid PEM private key",
      { cause: error instanceof Error ? new Error(error.message) : undefined },
    );
  }
}

/** The client certificate must belong to the private key, or every handshake would fail. */
export function checkKeyMatchesCertificate(
  certificate: ReturnType<typeof loadCertificates>,
  privateKey: ReturnType<typeof loadPrivateKey>,
): void {
  if (!certificate.first.checkPrivateKey(privateKey.key)) {
    throw new CertificateLoadError(
      "privateKey",
      privateKey.file,
      `does not match the certificate in ${certificate.file}`,
    );
  }
}

/** The certificate's subject CN, for messages (e.g. "collaborator1"). */
export function commonName(certificate: X509Certificate): string | undefined {
  return /(?:^|\n)CN=([^\n]+)/.exec(certificate.subject)?.[1];
}
