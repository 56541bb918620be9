import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Paths of one PEM certificate and its PEM private key. */
export interface CertificatePair {
  readonly cert: string;
  readonly key: string;
}

/** A test-time PKI on disk: one CA, one server certificate, collaborator certificates. */
export interface TestPki {
  readonly dir: string;
  /** The CA certificate: OpenFL's root_certificate on both sides. */
  readonly caCert: string;
  readonly caKey: string;
  /** Server certificate: CN "localhost", SAN from `serverHosts`, extendedKeyUsage serverAuth. */
  readonly server: CertificatePair;
  /** Collaborator certificates by name: CN = the name, extendedKeyUsage clientAuth + serverAuth. */
  readonly collaborators: Record<string, CertificatePair>;
}

export interface TestPkiOptions {
  /** Collaborator names to issue certificates for (each becomes a certificate's CN). */
  readonly collaborators: readonly string[];
  /**
   * Host names and IP addresses written into the server certificate's subjectAltName.
   * Default ["localhost", "127.0.0.1"].
   */
  readonly serverHosts?: readonly string[];
  /** Validity of every certificate in days. Default 30. */
  readonly days?: number;
}

const DEFAULT_SERVER_HOSTS = ["localhost", "127.0.0.1"] as const;
const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const CONFIG_FILE = "openssl.cnf";

/** The fixed layout of a PKI directory; `createTestPki` and `ensureTestPki` both use it. */
export function testPkiPaths(dir: string, collaborators: readonly string[]): TestPki {
  return {
    dir,
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    server: { cert: join(dir, "server.crt"), key: join(dir, "server.key") },
    collaborators: Object.fromEntries(
      collaborators.map((name) => [name, collaboratorPaths(dir, checkName(name))]),
    ),
  };
}

/**
 * Creates a fresh PKI in `dir` with the `openssl` CLI: an EC P-256 CA, a server certificate
 * and one certificate per collaborator. Keys are written with mode 0600. Call it on a second
 * directory for an independent CA (wrong-CA tests).
 */
export async function createTestPki(dir: string, options: TestPkiOptions): Promise<TestPki> {
  await mkdir(join(dir, "collaborators"), { recursive: true });
  const pki = testPkiPaths(dir, []);
  await writeFile(
    join(dir, CONFIG_FILE),
    opensslConfig(options.serverHosts ?? DEFAULT_SERVER_HOSTS, options.days ?? 30),
  );
  await newKey(pki.caKey);
  await openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    pki.caKey,
    "-subj",
    `/CN=openfl-connect test CA ${randomBytes(4).toString("hex")}`,
    "-days",
    String(options.days ?? 30),
    "-sha256",
    "-set_serial",
    serial(),
    "-config",
    join(dir, CONFIG_FILE),
    "-extensions",
    "ca_ext",
    "-out",
    pki.caCert,
  ]);
  await issue(pki, "localhost", pki.server, "server_ext");
  await Promise.all(options.collaborators.map((name) => issueCollaborator(pki, name)));
  return pki;
}

/**
 * Reuses the PKI in `dir` when it has a CA and a server certificate (issuing only missing
 * collaborator certificates), else creates one with `createTestPki`.
 */
export async function ensureTestPki(dir: string, options: TestPkiOptions): Promise<TestPki> {
  const existing = testPkiPaths(dir, []);
  const present = await allExist([
    existing.caCert,
    existing.caKey,
    existing.server.cert,
    existing.server.key,
    join(dir, CONFIG_FILE),
  ]);
  if (!present) return createTestPki(dir, options);
  for (const name of options.collaborators) {
    const paths = collaboratorPaths(dir, checkName(name));
    if (await allExist([paths.cert, paths.key])) existing.collaborators[name] = paths;
    else await issueCollaborator(existing, name);
  }
  return existing;
}

/**
 * Issues (or re-issues) a collaborator certificate signed by the PKI's CA, records it in
 * `pki.collaborators` and returns its paths. The CN is `name`, which must be lower case
 * (OpenFL lower-cases collaborator common names).
 */
export async function issueCollaborator(
  pki: TestPki,
  name: string,
  options: { readonly validity?: CertificateValidity } = {},
): Promise<CertificatePair> {
  const pair = collaboratorPaths(pki.dir, checkName(name));
  await mkdir(join(pki.dir, "collaborators"), { recursive: true });
  await issue(pki, name, pair, "client_ext", options.validity);
  pki.collaborators[name] = pair;
  return pair;
}

/** An explicit validity window, e.g. one that ended yesterday (expired-certificate tests). */
export interface CertificateValidity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

async function issue(
  pki: TestPki,
  commonName: string,
  pair: CertificatePair,
  extensions: "server_ext" | "client_ext",
  validity?: CertificateValidity,
): Promise<void> {
  const config = join(pki.dir, CONFIG_FILE);
  const csr = `${pair.cert}.csr`;
  await newKey(pair.key);
  await openssl([
    "req",
    "-new",
    "-key",
    pair.key,
    "-subj",
    `/CN=${commonName}`,
    "-config",
    config,
    "-out",
    csr,
  ]);
  try {
    if (validity) {
      await signWithDates(pki, csr, pair.cert, extensions, validity);
      return;
    }
    await openssl([
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      pki.caCert,
      "-CAkey",
      pki.caKey,
      "-set_serial",
      serial(),
      "-days",
      await configDays(config),
      "-sha256",
      "-extfile",
      config,
      "-extensions",
      extensions,
      "-out",
      pair.cert,
    ]);
  } finally {
    await rm(csr, { force: true });
  }
}

/**
 * `openssl x509 -req` only takes a number of days from now; `openssl ca` takes explicit start and
 * end dates, so it signs certificates that are already expired or not yet valid.
 */
async function signWithDates(
  pki: TestPki,
  csr: string,
  out: string,
  extensions: "server_ext" | "client_ext",
  validity: CertificateValidity,
): Promise<void> {
  const work = await mkdtemp(join(pki.dir, "ca-"));
  try {
    const caConfig = join(work, "ca.cnf");
    await writeFile(join(work, "index.txt"), "");
    await writeFile(join(work, "serial"), `${randomBytes(15).toString("hex")}\n`);
    await writeFile(
      caConfig,
      [
        "[ca]",
        "default_ca = test_ca",
        "[test_ca]",
        `database = ${join(work, "index.txt")}`,
        `new_certs_dir = ${work}`,
        `serial = ${join(work, "serial")}`,
        "default_md = sha256",
        "policy = any_name",
        "unique_subject = no",
        "[any_name]",
        "commonName = supplied",
        "",
      ].join("\n"),
    );
    await openssl([
      "ca",
      "-batch",
      "-notext",
      "-config",
      caConfig,
      "-cert",
      pki.caCert,
      "-keyfile",
      pki.caKey,
      "-in",
      csr,
      "-startdate",
      opensslDate(validity.notBefore),
      "-enddate",
      opensslDate(validity.notAfter),
      "-extfile",
      join(pki.dir, CONFIG_FILE),
      "-extensions",
      extensions,
      "-out",
      out,
    ]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** YYYYMMDDHHMMSSZ (UTC), as `openssl ca -startdate/-enddate` take it. */
function opensslDate(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
}

async function newKey(path: string): Promise<void> {
  // Create the file 0600 first so the key is never readable by others, even briefly.
  await writeFile(path, "", { mode: 0o600 });
  await openssl([
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    path,
  ]);
  await chmod(path, 0o600);
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`, {
      cause: error,
    });
  }
}

function opensslConfig(serverHosts: readonly string[], days: number): string {
  const altNames = serverHosts.map((host, i) =>
    isIP(host) ? `IP.${i + 1} = ${host}` : `DNS.${i + 1} = ${host}`,
  );
  return [
    `# openfl-connect test PKI; days = ${days}`,
    "[req]",
    "distinguished_name = dn",
    "prompt = no",
    "[dn]",
    "CN = unused",
    "[ca_ext]",
    "basicConstraints = critical, CA:true",
    "keyUsage = critical, keyCertSign, cRLSign",
    "subjectKeyIdentifier = hash",
    "[server_ext]",
    "basicConstraints = critical, CA:false",
    "keyUsage = critical, digitalSignature, keyEncipherment",
    "extendedKeyUsage = serverAuth",
    "subjectAltName = @server_alt_names",
    "subjectKeyIdentifier = hash",
    "authorityKeyIdentifier = keyid",
    "[server_alt_names]",
    ...altNames,
    "[client_ext]",
    "basicConstraints = critical, CA:false",
    "keyUsage = critical, digitalSignature, keyEncipherment",
    "extendedKeyUsage = clientAuth, serverAuth",
    "subjectKeyIdentifier = hash",
    "authorityKeyIdentifier = keyid",
    "",
  ].join("\n");
}

async function configDays(config: string): Promise<string> {
  const match = /days = (\d+)/.exec(await readFile(config, "utf8"));
  return match?.[1] ?? "30";
}

function collaboratorPaths(dir: string, name: string): CertificatePair {
  return {
    cert: join(dir, "collaborators", `${name}.crt`),
    key: join(dir, "collaborators", `${name}.key`),
  };
}

function checkName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new Error(
      `collaborator name '${name}' must be lower case letters, digits, '.', '_' or '-' (it becomes a certificate CN and a file name)`,
    );
  }
  return name;
}

function serial(): string {
  return `0x${randomBytes(15).toString("hex")}`;
}

async function allExist(paths: readonly string[]): Promise<boolean> {
  try {
    await Promise.all(paths.map((p) => access(p)));
    return true;
  } catch {
    return false;
  }
}

/** Where a test federation's aggregator listens and who it is. */
export interface TestEndpoint {
  readonly port: number;
  readonly aggregatorUuid: string;
  readonly federationUuid: string;
}

/**
 * The client options (as the Node client and the collaborator config name them) for
 * collaborator `name` of a test PKI, talking to an aggregator on localhost over mTLS.
 */
export function collaboratorConnection(pki: TestPki, name: string, endpoint: TestEndpoint) {
  const pair = pki.collaborators[name];
  return {
    aggAddr: "localhost",
    aggPort: endpoint.port,
    aggregatorUuid: endpoint.aggregatorUuid,
    federationUuid: endpoint.federationUuid,
    collaboratorName: name,
    rootCertificate: pki.caCert,
    certificate: pair?.cert,
    privateKey: pair?.key,
  };
}
