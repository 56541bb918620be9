// Test-only: puts certificate and key files where deploy/envoy/envoy.yaml expects them, under a
// temporary directory, so that `envoy --mode validate` (which opens every file a config names)
// can check the shipped config itself. Only paths under /etc/envoy/ move; each TLS certificate
// entry gets the test PKI's server pair (certificate and key must match), each trusted CA the
// test CA. A /etc/envoy/ file of any other kind is an error: the test must learn about it.
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { TestPki } from "@openfl-connect/reference-aggregator";
import { parse, stringify } from "yaml";

const DEPLOYED_ROOT = "/etc/envoy/";

export class ShippedConfigFileError extends Error {
  override name = "ShippedConfigFileError";
}

/** Writes the files and the config (paths rewritten into `workDir`); returns the config's path. */
export async function shippedConfigWithTestFiles(
  shippedYaml: string,
  workDir: string,
  pki: TestPki,
): Promise<string> {
  const config: unknown = parse(shippedYaml);
  const copies = new Map<string, string>();
  collect(config, pki, copies);
  const leftOver = new Set<string>();
  const moved = rewrite(config, workDir, copies, leftOver);
  if (leftOver.size > 0) {
    throw new ShippedConfigFileError(
      `deploy/envoy/envoy.yaml names ${[...leftOver].join(", ")}: neither a TLS certificate/key pair nor a trusted CA, so the check cannot provide it`,
    );
  }
  for (const [target, source] of copies) {
    const local = join(workDir, target);
    await mkdir(dirname(local), { recursive: true });
    await copyFile(source, local);
  }
  const file = join(workDir, "envoy.yaml");
  await writeFile(file, stringify(moved, { lineWidth: 0 }));
  return file;
}

type Node = Record<string, unknown>;

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function filenameOf(value: unknown): string | undefined {
  return isNode(value) && typeof value.filename === "string" ? value.filename : undefined;
}

/** Fills `copies` (deployed path -> test file) from TLS certificate entries and trusted CAs. */
function collect(value: unknown, pki: TestPki, copies: Map<string, string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collect(item, pki, copies);
    return;
  }
  if (!isNode(value)) return;
  const chain = filenameOf(value.certificate_chain);
  const key = filenameOf(value.private_key);
  if (chain?.startsWith(DEPLOYED_ROOT) && key?.startsWith(DEPLOYED_ROOT)) {
    copies.set(chain, pki.server.cert);
    copies.set(key, pki.server.key);
  }
  const ca = filenameOf(value.trusted_ca);
  if (ca?.startsWith(DEPLOYED_ROOT)) copies.set(ca, pki.caCert);
  for (const child of Object.values(value)) collect(child, pki, copies);
}

/** A copy of `value` with every /etc/envoy/ filename moved under `workDir`. */
function rewrite(
  value: unknown,
  workDir: string,
  copies: ReadonlyMap<string, string>,
  leftOver: Set<string>,
): unknown {
  if (Array.isArray(value)) return value.map((item) => rewrite(item, workDir, copies, leftOver));
  if (!isNode(value)) return value;
  const out: Node = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === "filename" && typeof child === "string" && child.startsWith(DEPLOYED_ROOT)) {
      if (!copies.has(child)) leftOver.add(child);
      out[key] = join(workDir, child);
    } else {
      out[key] = rewrite(child, workDir, copies, leftOver);
    }
  }
  return out;
}
