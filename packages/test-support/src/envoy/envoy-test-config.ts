// Test-only: derives an Envoy config for the browser tests from the production one
// (deploy/envoy/envoy.yaml), replacing deployment values only:
//   - admin and listener: 127.0.0.1 and the given ports;
//   - listener TLS: the test PKI's server certificate (SAN localhost, 127.0.0.1), or none;
//   - virtual host domains: 127.0.0.1:<port> and localhost:<port>;
//   - CORS: exactly the dashboard's origin;
//   - cluster openfl_aggregator: the test aggregator's address/port, SNI and SAN name, the test
//     CA, and the test PKI's `dashboard` collaborator certificate and key;
//   - jwt_authn: the provider's remote JWKS becomes a local JWKS (the test key), and the JWKS
//     cluster goes; issuer, audiences and every other setting are kept.
// Everything else (filter order, timeouts, limits, routes, overload manager) is left as shipped,
// so the tests run the real config. Fails loudly if the shipped config's shape changed.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parse, stringify } from "yaml";
import type { JsonWebKeySet } from "./test-jwt.js";

/** deploy/envoy/envoy.yaml in this checkout. */
export const DEPLOYED_ENVOY_CONFIG = resolve(
  import.meta.dirname,
  "../../../../deploy/envoy/envoy.yaml",
);

export interface EnvoyTestConfigOptions {
  /** Admin interface port on 127.0.0.1. */
  readonly adminPort: number;
  /** The browser-facing listener's port on 127.0.0.1. */
  readonly listenerPort: number;
  /** PEM files of the listener's server certificate, or "plaintext" to drop listener TLS. */
  readonly listenerTls: { readonly cert: string; readonly key: string } | "plaintext";
  /** The dashboard page's origin, e.g. "http://127.0.0.1:4173" (the only CORS origin). */
  readonly dashboardOrigin: string;
  readonly aggregator: {
    /** Address Envoy connects to, e.g. "127.0.0.1". */
    readonly address: string;
    readonly port: number;
    /** SNI and the DNS SAN the aggregator's certificate must have, e.g. "localhost". */
    readonly serverName: string;
    /** PEM files: the federation CA, the dashboard collaborator's certificate and key. */
    readonly caCert: string;
    readonly cert: string;
    readonly key: string;
  };
  /** The keys jwt_authn accepts instead of the provider's remote JWKS. */
  readonly jwks: JsonWebKeySet;
}

export interface EnvoyTestConfig {
  /** The config, as YAML. */
  readonly yaml: string;
  /** The JWT provider's issuer and first audience, as the shipped config has them. */
  readonly issuer: string;
  readonly audience: string;
  /** "https://127.0.0.1:<port>" (or http:// with "plaintext"). */
  readonly proxyUrl: string;
}

export class EnvoyConfigShapeError extends Error {
  override name = "EnvoyConfigShapeError";
}

type Node = Record<string, unknown>;

/** Reads deploy/envoy/envoy.yaml and derives the test config from it. */
export async function deployedEnvoyTestConfig(
  options: EnvoyTestConfigOptions,
): Promise<EnvoyTestConfig> {
  return envoyTestConfig(await readFile(DEPLOYED_ENVOY_CONFIG, "utf8"), options);
}

/** Derives the test config from `shippedYaml` (the text of deploy/envoy/envoy.yaml). */
export function envoyTestConfig(
  shippedYaml: string,
  options: EnvoyTestConfigOptions,
): EnvoyTestConfig {
  const config = object(parse(shippedYaml), "(root)");

  const adminAddress = object(get(config, "admin.address.socket_address"), "admin address");
  adminAddress.address = "127.0.0.1";
  adminAddress.port_value = options.adminPort;

  const resources = object(config.static_resources, "static_resources");
  const listeners = array(resources.listeners, "static_resources.listeners");
  if (listeners.length !== 1) {
    throw new EnvoyConfigShapeError(`expected 1 listener, found ${listeners.length}`);
  }
  const listener = object(listeners[0], "listener");
  listener.address = { socket_address: { address: "127.0.0.1", port_value: options.listenerPort } };
  const chains = array(listener.filter_chains, "listener.filter_chains");
  if (chains.length !== 1) {
    throw new EnvoyConfigShapeError(`expected 1 filter chain, found ${chains.length}`);
  }
  const chain = object(chains[0], "filter chain");
  if (options.listenerTls === "plaintext") {
    delete chain.transport_socket;
  } else {
    const certificates = array(
      get(chain, "transport_socket.typed_config.common_tls_context.tls_certificates"),
      "listener tls_certificates",
    );
    certificates.splice(0, certificates.length, {
      certificate_chain: { filename: options.listenerTls.cert },
      private_key: { filename: options.listenerTls.key },
    });
  }

  const hcm = object(
    get(
      named(
        array(chain.filters, "filter chain filters"),
        "envoy.filters.network.http_connection_manager",
      ),
      "typed_config",
    ),
    "http_connection_manager",
  );
  const virtualHosts = array(get(hcm, "route_config.virtual_hosts"), "virtual_hosts");
  if (virtualHosts.length !== 1) {
    throw new EnvoyConfigShapeError(`expected 1 virtual host, found ${virtualHosts.length}`);
  }
  const host = object(virtualHosts[0], "virtual host");
  host.domains = [`127.0.0.1:${options.listenerPort}`, `localhost:${options.listenerPort}`];
  const cors = object(
    object(host.typed_per_filter_config, "virtual host typed_per_filter_config")[
      "envoy.filters.http.cors"
    ],
    "CORS policy",
  );
  array(cors.allow_origin_string_match, "CORS allow_origin_string_match");
  cors.allow_origin_string_match = [{ exact: options.dashboardOrigin }];

  const filters = array(hcm.http_filters, "http_filters");
  const jwt = object(named(filters, "envoy.filters.http.jwt_authn").typed_config, "jwt_authn");
  const providers = Object.entries(object(jwt.providers, "jwt_authn providers"));
  if (providers.length !== 1) {
    throw new EnvoyConfigShapeError(`expected 1 JWT provider, found ${providers.length}`);
  }
  const provider = object(providers[0]?.[1], "JWT provider");
  const remote = object(provider.remote_jwks, "JWT provider remote_jwks");
  const jwksCluster = get(remote, "http_uri.cluster");
  delete provider.remote_jwks;
  provider.local_jwks = { inline_string: JSON.stringify(options.jwks) };
  const issuer = provider.issuer;
  const audience = array(provider.audiences, "JWT provider audiences")[0];
  if (typeof issuer !== "string" || typeof audience !== "string") {
    throw new EnvoyConfigShapeError("the JWT provider needs an issuer and an audience");
  }

  const clusters = array(resources.clusters, "static_resources.clusters");
  const remaining = clusters.filter((c) => object(c, "cluster").name !== jwksCluster);
  if (remaining.length !== clusters.length - 1) {
    throw new EnvoyConfigShapeError(`the JWKS cluster ${String(jwksCluster)} is not defined`);
  }
  resources.clusters = remaining;
  const upstream = named(remaining, "openfl_aggregator");
  const endpoints = array(get(upstream, "load_assignment.endpoints"), "aggregator endpoints");
  const lbEndpoints = array(object(endpoints[0], "endpoint group").lb_endpoints, "lb_endpoints");
  if (endpoints.length !== 1 || lbEndpoints.length !== 1) {
    throw new EnvoyConfigShapeError("expected exactly 1 aggregator endpoint");
  }
  const socket = object(
    get(lbEndpoints[0], "endpoint.address.socket_address"),
    "aggregator address",
  );
  socket.address = options.aggregator.address;
  socket.port_value = options.aggregator.port;
  const upstreamTls = object(get(upstream, "transport_socket.typed_config"), "aggregator TLS");
  upstreamTls.sni = options.aggregator.serverName;
  const context = object(upstreamTls.common_tls_context, "aggregator common_tls_context");
  context.tls_certificates = [
    {
      certificate_chain: { filename: options.aggregator.cert },
      private_key: { filename: options.aggregator.key },
    },
  ];
  const validation = object(context.validation_context, "aggregator validation_context");
  validation.trusted_ca = { filename: options.aggregator.caCert };
  validation.match_typed_subject_alt_names = [
    { san_type: "DNS", matcher: { exact: options.aggregator.serverName } },
  ];

  const scheme = options.listenerTls === "plaintext" ? "http" : "https";
  return {
    yaml: `# Generated for the browser tests from deploy/envoy/envoy.yaml by packages/test-support/src/envoy/envoy-test-config.ts.\n${stringify(config, { lineWidth: 0 })}`,
    issuer,
    audience,
    proxyUrl: `${scheme}://127.0.0.1:${options.listenerPort}`,
  };
}

function object(value: unknown, what: string): Node {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new EnvoyConfigShapeError(`${what}: expected a mapping in deploy/envoy/envoy.yaml`);
  }
  return value as Node;
}

function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new EnvoyConfigShapeError(`${what}: expected a list in deploy/envoy/envoy.yaml`);
  }
  return value;
}

/** The value at a dotted path of mappings. */
function get(value: unknown, path: string): unknown {
  return path.split(".").reduce((node, key) => object(node, path)[key], value);
}

/** The list entry whose `name` is `name`. */
function named(list: readonly unknown[], name: string): Node {
  const found = list.find((item) => object(item, name).name === name);
  if (found === undefined) throw new EnvoyConfigShapeError(`no entry named ${name}`);
  return object(found, name);
}
