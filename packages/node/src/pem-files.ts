import { readFileSync } from "node:fs";
import { CertificateLoadError } from "@openfl-connect/core";
import type { TlsMaterial } from "./tls-material.js";

/** The file options of OpenFL's client: paths to PEM files. */
export interface TlsFiles {
  readonly rootCertificate?: string | undefined;
  readonly certificate?: string | undefined;
  readonly privateKey?: string | undefined;
}

/**
 * Reads the PEM files named by OpenFL's options into TLS material (bytes plus the file names
 * for messages). Each is only read here; `checkTlsMaterial` parses and checks them.
 */
export function loadTlsFiles(files: TlsFiles): TlsMaterial {
  const material: Record<string, Uint8Array> = {};
  const sources: Record<string, string> = {};
  for (const option of ["rootCertificate", "certificate", "privateKey"] as const) {
    const file = files[option];
    if (file === undefined) continue;
    material[option] = readPemFile(option, file);
    sources[option] = file;
  }
  return { ...material, sources };
}

/** Stands in for a value that must not be echoed (it may be a private key). */
export const PEM_CONTENT_LABEL = "(PEM content, not shown)";

/** Reads one PEM file, naming the option and the file in every error, never the contents. */
export function readPemFile(option: string, file: unknown): Buffer {
  if (looksLikePemContent(file)) {
    throw new CertificateLoadError(
      option,
      PEM_CONTENT_LABEL,
      "this looks like PEM content; give a file path (or pass the bytes as the `tls` option)",
    );
  }
  if (typeof file !== "string" || file === "") {
    throw new CertificateLoadError(
      option,
      typeof file === "string" ? '""' : typeof file,
      "expected a path to a PEM file",
    );
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
  return contents;
}

/** PEM text or bytes rather than a path (inline YAML, a Buffer, a refetch callback's answer). */
export function looksLikePemContent(value: unknown): boolean {
  if (value instanceof Uint8Array) return true;
  return typeof value === "string" && (value.includes("-----BEGIN") || value.includes("\n"));
}
