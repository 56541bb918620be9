// The generator's input file (deploy/envoy/envoy-input.yaml): everything that differs between
// deployments, and nothing else. parseEnvoyInput checks it field by field and names the field,
// what it expected and what it found, before any config is written.
import { parse } from "yaml";

/** A certificate and its key, as files Envoy reads (e.g. the listener's). */
export interface CertificateKeyFiles {
  /** PEM certificate chain file. */
  readonly certificate: string;
  /** PEM private key file (read by Envoy only). */
  readonly private_key: string;
}

/**
 * One collaborator identity the edge may present upstream, and the token claim value that
 * selects it (not core's CollaboratorIdentity, which is the message header's fields).
 */
export interface EdgeIdentity {
  /** The collaborator name: its certificate's CN, authorised in the federation (cols.yaml). */
  readonly name: string;
  /** The value of the token's collaborator claim that selects this identity. */
  readonly claim: string;
  /** Its collaborator certificate and key, signed by the federation's CA. */
  readonly certificate: string;
  readonly private_key: string;
}

export type JwksSource =
  /** The identity provider's JWKS over HTTPS, verified against `ca_certificate`. */
  | { readonly remote: { readonly uri: string; readonly ca_certificate: string } }
  /** A JWKS given inline (tests: a key made at test time). */
  | { readonly local: string };

/**
 * What one user can make the edge hold, each with a default (deploy/envoy/README.md, "Limits").
 * Seconds unless named otherwise.
 */
export interface EdgeLimits {
  /** A TLS handshake must finish within this, or the connection is closed. Default 10. */
  readonly tls_handshake_timeout_s: number;
  /** A connection with no call in flight is closed after this. Default 60. */
  readonly connection_idle_timeout_s: number;
  /**
   * A call that sends and receives nothing for this long is reset (a stalled upload). Default
   * 120: above OpenFL's up-to-60 s wait for an aggregated tensor, which sends nothing meanwhile.
   */
  readonly stream_idle_timeout_s: number;
  /** A read call (Ping, GetTasks, GetAggregatedTensor) ends after this in all. Default 120. */
  readonly read_timeout_s: number;
  /** Largest request body of a read call, bytes; past it 413 at the edge. Default 65536. */
  readonly read_request_max_bytes: number;
  /**
   * Calls one identity may have at the aggregator at once; past it 503 at the edge. Default 4:
   * OpenFL's server has 8 worker threads, so one user cannot hold them all.
   */
  readonly max_calls_per_identity: number;
  /**
   * Largest upload body, bytes; held whole at the edge before any of it goes upstream, 413 past
   * it. OpenFL's server reads an upload while holding its one upload lock, so an upload streamed
   * through at a slow user's pace would hold every collaborator's upload. Default 536870912.
   */
  readonly upload_max_bytes: number;
  /** Calls per second one user (the token's `sub`) may make; past it 429. Default 20. */
  readonly requests_per_user_per_s: number;
  /** Calls one user may make at once before the per-second rate applies. Default 400. */
  readonly request_burst_per_user: number;
  /** Connections Envoy accepts in all; past it new ones are closed at once. Default 10000. */
  readonly max_connections: number;
  /**
   * Envoy's heap, bytes. From 60 % of it the streams holding the most memory are reset first
   * (one user's piled-up uploads before others' small calls); at 98 % no new calls.
   * Default 4294967296.
   */
  readonly max_heap_bytes: number;
}

export const DEFAULT_EDGE_LIMITS: EdgeLimits = {
  tls_handshake_timeout_s: 10,
  connection_idle_timeout_s: 60,
  stream_idle_timeout_s: 120,
  read_timeout_s: 120,
  read_request_max_bytes: 65536,
  max_calls_per_identity: 4,
  upload_max_bytes: 536870912,
  requests_per_user_per_s: 20,
  request_burst_per_user: 400,
  max_connections: 10000,
  max_heap_bytes: 4294967296,
};

export interface EnvoyInput {
  /**
   * Envoy's admin interface, on a Unix socket only its owner may open (mode 0600): a TCP port,
   * even on loopback, can be reached by any local process and by pages in a local browser.
   */
  readonly admin: { readonly socket: string };
  readonly listener: {
    readonly address: string;
    readonly port: number;
    /** Host[:port] values browsers use to reach Envoy (the virtual host's domains). */
    readonly domains: readonly string[];
    /** The browser-facing server certificate, or "none" for plain HTTP (loopback tests only). */
    readonly tls: CertificateKeyFiles | "none";
  };
  /** The dashboard page's origin, the only one CORS allows. */
  readonly dashboard_origin: string;
  readonly aggregator: {
    readonly address: string;
    readonly port: number;
    /** SNI and the DNS SAN the aggregator's certificate must carry. */
    readonly server_name: string;
    /** The federation's CA chain (OpenFL workspace: cert/cert_chain.crt). */
    readonly ca_certificate: string;
  };
  readonly tokens: {
    readonly issuer: string;
    readonly audience: string;
    readonly jwks: JwksSource;
    /** Claim whose string value picks the collaborator identity, e.g. "openfl_collaborator". */
    readonly collaborator_claim: string;
    /** Claim that must be `true` for SendLocalTaskResults, e.g. "openfl_upload". */
    readonly upload_claim: string;
    /**
     * Claim that must be `true` for InteropRelay (OpenFL's interop mode). Absent (the default):
     * InteropRelay is not routed at all.
     */
    readonly interop_claim?: string;
  };
  readonly collaborators: readonly EdgeIdentity[];
  /**
   * A listener that answers only GET /ready (200 while Envoy serves, 503 while it drains), for
   * readiness probes; nothing else is reachable on it. Absent: no such listener.
   */
  readonly health?: { readonly address: string; readonly port: number };
  /** Optional in the file; each field defaults to DEFAULT_EDGE_LIMITS. */
  readonly limits: EdgeLimits;
}

export class EnvoyInputError extends Error {
  override name = "EnvoyInputError";
}

type Node = Record<string, unknown>;

/** Parses and checks the input file's text; `source` names it in errors. */
export function parseEnvoyInput(text: string, source: string): EnvoyInput {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new EnvoyInputError(`${source}: not valid YAML: ${(error as Error).message}`);
  }
  return checkEnvoyInput(raw, source);
}

/** Checks an already parsed input (the tests build one in code). */
export function checkEnvoyInput(raw: unknown, source: string): EnvoyInput {
  const r = new Reader(source);
  const root = r.object(raw, "");
  r.only(root, "", [
    "admin",
    "listener",
    "dashboard_origin",
    "aggregator",
    "tokens",
    "collaborators",
    "health",
    "limits",
  ]);

  const adminNode = r.object(root.admin, "admin");
  if ("address" in adminNode || "port" in adminNode) {
    r.fail(
      "admin",
      "{ socket: <absolute path> } (a Unix socket only Envoy's user may open; a TCP admin port can be reached by every local process and by pages in a local browser)",
      adminNode,
    );
  }
  r.only(adminNode, "admin", ["socket"]);
  const listenerNode = r.object(root.listener, "listener");
  r.only(listenerNode, "listener", ["address", "port", "domains", "tls"]);
  const aggregatorNode = r.object(root.aggregator, "aggregator");
  r.only(aggregatorNode, "aggregator", ["address", "port", "server_name", "ca_certificate"]);
  const tokensNode = r.object(root.tokens, "tokens");
  r.only(tokensNode, "tokens", [
    "issuer",
    "audience",
    "jwks",
    "collaborator_claim",
    "upload_claim",
    "interop_claim",
  ]);

  const tls =
    listenerNode.tls === "none" ? ("none" as const) : r.tlsFiles(listenerNode.tls, "listener.tls");
  const origin = r.string(root.dashboard_origin, "dashboard_origin");
  if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
    r.fail("dashboard_origin", "an origin such as https://dashboard.example.org (no path)", origin);
  }
  const collaboratorClaim = r.claimName(tokensNode.collaborator_claim, "tokens.collaborator_claim");
  const uploadClaim = r.claimName(tokensNode.upload_claim, "tokens.upload_claim");
  if (collaboratorClaim === uploadClaim) {
    r.fail("tokens.upload_claim", `a claim other than collaborator_claim`, uploadClaim);
  }
  const interopClaim =
    tokensNode.interop_claim === undefined
      ? undefined
      : r.claimName(tokensNode.interop_claim, "tokens.interop_claim");
  if (interopClaim !== undefined && [collaboratorClaim, uploadClaim].includes(interopClaim)) {
    r.fail(
      "tokens.interop_claim",
      "a claim other than collaborator_claim and upload_claim",
      interopClaim,
    );
  }

  const list: unknown = root.collaborators;
  if (!Array.isArray(list) || list.length === 0) {
    r.fail("collaborators", "a non-empty list", list);
  }
  const collaborators = (list as unknown[]).map((item, i): EdgeIdentity => {
    const at = `collaborators[${i}]`;
    const node = r.object(item, at);
    r.only(node, at, ["name", "claim", "certificate", "private_key"]);
    const name = r.string(node.name, `${at}.name`);
    // Becomes part of a cluster name and must equal a certificate CN OpenFL accepts.
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(name)) {
      r.fail(`${at}.name`, "lower-case letters, digits, '_', '.', '-'", name);
    }
    return {
      name,
      claim: r.string(node.claim, `${at}.claim`),
      certificate: r.path(node.certificate, `${at}.certificate`),
      private_key: r.path(node.private_key, `${at}.private_key`),
    };
  });
  r.unique(
    collaborators.map((c) => c.name),
    "collaborators[].name",
  );
  r.unique(
    collaborators.map((c) => c.claim),
    "collaborators[].claim",
  );

  return {
    admin: { socket: r.path(adminNode.socket, "admin.socket") },
    listener: {
      address: r.string(listenerNode.address, "listener.address"),
      port: r.port(listenerNode.port, "listener.port"),
      domains: r.strings(listenerNode.domains, "listener.domains"),
      tls,
    },
    dashboard_origin: origin,
    aggregator: {
      address: r.string(aggregatorNode.address, "aggregator.address"),
      port: r.port(aggregatorNode.port, "aggregator.port"),
      server_name: r.string(aggregatorNode.server_name, "aggregator.server_name"),
      ca_certificate: r.path(aggregatorNode.ca_certificate, "aggregator.ca_certificate"),
    },
    tokens: {
      issuer: r.string(tokensNode.issuer, "tokens.issuer"),
      audience: r.string(tokensNode.audience, "tokens.audience"),
      jwks: r.jwks(tokensNode.jwks, "tokens.jwks"),
      collaborator_claim: collaboratorClaim,
      upload_claim: uploadClaim,
      ...(interopClaim === undefined ? {} : { interop_claim: interopClaim }),
    },
    collaborators,
    ...(root.health === undefined ? {} : { health: readHealth(r, root.health, listenerNode.port) }),
    limits: readLimits(r, root.limits),
  };
}

function readHealth(r: Reader, value: unknown, listenerPort: unknown): EnvoyInput["health"] {
  const node = r.object(value, "health");
  r.only(node, "health", ["address", "port"]);
  const port = r.port(node.port, "health.port");
  if (port === listenerPort) r.fail("health.port", "a port other than listener.port", port);
  return { address: r.string(node.address, "health.address"), port };
}

function readLimits(r: Reader, value: unknown): EdgeLimits {
  if (value === undefined) return DEFAULT_EDGE_LIMITS;
  const node = r.object(value, "limits");
  const keys = Object.keys(DEFAULT_EDGE_LIMITS) as (keyof EdgeLimits)[];
  r.only(node, "limits", keys);
  const out: Record<string, number> = {};
  for (const key of keys) {
    const v = node[key];
    if (v === undefined) {
      out[key] = DEFAULT_EDGE_LIMITS[key];
    } else if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
      r.fail(`limits.${key}`, "a whole number >= 1", v);
    } else {
      out[key] = v;
    }
  }
  if (out.upload_max_bytes !== undefined && out.upload_max_bytes > BODY_CEILING_BYTES) {
    r.fail(
      "limits.upload_max_bytes",
      `at most ${BODY_CEILING_BYTES} (OpenFL's largest message, 1 GiB, + 128 MiB)`,
      out.upload_max_bytes,
    );
  }
  return out as unknown as EdgeLimits;
}

/** OpenFL's largest message (1 GiB) + 128 MiB: no body the edge holds needs more. */
export const BODY_CEILING_BYTES = 1207959552;

/** Field readers that throw EnvoyInputError("<source>: <field>: expected X, got Y"). */
class Reader {
  constructor(private readonly source: string) {}

  fail(field: string, expected: string, got: unknown): never {
    const shown = got === undefined ? "nothing" : JSON.stringify(got);
    throw new EnvoyInputError(
      `${this.source}: ${field || "(top level)"}: expected ${expected}, got ${shown}`,
    );
  }

  object(value: unknown, field: string): Node {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail(field, "a mapping", value);
    }
    return value as Node;
  }

  only(node: Node, field: string, keys: readonly string[]): void {
    for (const key of Object.keys(node)) {
      if (!keys.includes(key)) {
        this.fail(field ? `${field}.${key}` : key, `one of the keys ${keys.join(", ")}`, key);
      }
    }
  }

  string(value: unknown, field: string): string {
    if (typeof value !== "string" || value.trim() === "")
      this.fail(field, "a non-empty string", value);
    return value;
  }

  strings(value: unknown, field: string): string[] {
    if (!Array.isArray(value) || value.length === 0) this.fail(field, "a non-empty list", value);
    return value.map((v, i) => this.string(v, `${field}[${i}]`));
  }

  path(value: unknown, field: string): string {
    const path = this.string(value, field);
    if (!path.startsWith("/")) this.fail(field, "an absolute file path", path);
    return path;
  }

  port(value: unknown, field: string): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
      this.fail(field, "a port number 1..65535", value);
    }
    return value;
  }

  claimName(value: unknown, field: string): string {
    const name = this.string(value, field);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      this.fail(field, "a top-level claim name (letters, digits, '_')", name);
    }
    return name;
  }

  tlsFiles(value: unknown, field: string): CertificateKeyFiles {
    const node = this.object(value, field);
    this.only(node, field, ["certificate", "private_key"]);
    return {
      certificate: this.path(node.certificate, `${field}.certificate`),
      private_key: this.path(node.private_key, `${field}.private_key`),
    };
  }

  jwks(value: unknown, field: string): JwksSource {
    const node = this.object(value, field);
    if ("local" in node) {
      this.only(node, field, ["local"]);
      const text = this.string(node.local, `${field}.local`);
      let keys: unknown;
      try {
        keys = (JSON.parse(text) as { keys?: unknown }).keys;
      } catch {
        this.fail(`${field}.local`, "a JWKS as JSON text", "text that is not JSON");
      }
      if (!Array.isArray(keys) || keys.length === 0) {
        this.fail(`${field}.local`, 'a JWKS with a non-empty "keys" list', keys);
      }
      return { local: text };
    }
    this.only(node, field, ["remote"]);
    const remote = this.object(node.remote, `${field}.remote`);
    this.only(remote, `${field}.remote`, ["uri", "ca_certificate"]);
    const uri = this.string(remote.uri, `${field}.remote.uri`);
    if (!/^https:\/\/[^/\s:]+(:\d+)?\//.test(uri)) {
      this.fail(`${field}.remote.uri`, "an https:// URL with a path", uri);
    }
    return {
      remote: {
        uri,
        ca_certificate: this.path(remote.ca_certificate, `${field}.remote.ca_certificate`),
      },
    };
  }

  unique(values: readonly string[], field: string): void {
    const seen = new Set<string>();
    for (const value of values) {
      if (seen.has(value)) this.fail(field, "unique values", value);
      seen.add(value);
    }
  }
}
