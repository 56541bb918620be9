// Writes the Envoy (API v3) bootstrap for the dashboard's gRPC-web front door from an EnvoyInput.
// deploy/envoy/envoy.yaml is this function's output for deploy/envoy/envoy-input.yaml, and the
// browser tests and the demo run its output for their own input: one config, one generator.
// Why each setting is there: deploy/envoy/README.md ("What each part does").
import { Document, isMap, isSeq, type Node as YamlNode } from "yaml";
import type { CollaboratorIdentity, EdgeLimits, EnvoyInput, TlsFiles } from "./input.js";

/** The gRPC service the routes and RBAC rules name. */
export const AGGREGATOR_SERVICE = "/openfl.aggregator.Aggregator/";
export const UPLOAD_METHOD = `${AGGREGATOR_SERVICE}SendLocalTaskResults`;
/** Where jwt_authn puts the verified payload (dynamic metadata of the jwt_authn filter). */
export const JWT_FILTER = "envoy.filters.http.jwt_authn";
export const JWT_PAYLOAD_KEY = "jwt_payload";
const JWKS_CLUSTER = "oidc_jwks";
const NO_IDENTITY_CLUSTER = "no_collaborator_identity";
/** OpenFL's largest message (1 GiB) + 128 MiB: a ceiling for any filter that buffers a body. */
const BODY_BUFFER_LIMIT = 1207959552;
/**
 * The methods a browser collaborator calls, and only these, are routed (an allow-list: any other
 * path under the service, InteropRelay included, is 404 at the edge and never reaches the
 * aggregator).
 */
export const ALLOWED_METHODS = [
  "Ping",
  "GetTasks",
  "GetAggregatedTensor",
  "SendLocalTaskResults",
] as const;
// A read's body (Ping, GetTasks, GetAggregatedTensor; real ones are under 1 KiB) is held whole by
// the buffer filter, up to limits.read_request_max_bytes, and answered 413 past it, so a read
// cannot carry an upload's worth of bytes to the aggregator. Uploads are not buffered (their
// bound is the aggregator's own).
const BUFFER_FILTER = "envoy.filters.http.buffer";

/** The upstream cluster that presents `collaborator`'s certificate. */
export function collaboratorCluster(collaborator: Pick<CollaboratorIdentity, "name">): string {
  return `collaborator_${collaborator.name}`;
}

/** The config as YAML text, with comments that point to the README. */
export function generateEnvoyConfig(input: EnvoyInput, generatedFrom: string): string {
  const doc = new Document(envoyConfigObject(input));
  doc.commentBefore = [
    ` Envoy (API v3) bootstrap: the gRPC-web front door between the openfl-connect dashboard and an`,
    ` OpenFL aggregator. GENERATED from ${generatedFrom} by packages/envoy-config`,
    ` (pnpm --filter @openfl-connect/envoy-config run generate); do not edit by hand.`,
    ``,
    `   browser --HTTPS, gRPC-web, Authorization: Bearer <token>--> Envoy --h2 + mTLS--> aggregator`,
    ``,
    ` Identity: each token's "${input.tokens.collaborator_claim}" claim picks exactly one collaborator`,
    ` certificate (one cluster per collaborator); a claim that maps to none gets 403. Any valid token`,
    ` may call Ping, GetTasks and GetAggregatedTensor; SendLocalTaskResults also needs the claim`,
    ` "${input.tokens.upload_claim}": true (RBAC). See deploy/envoy/README.md.`,
  ].join("\n");
  comment(
    doc,
    ["admin"],
    " Admin API can reconfigure or stop Envoy (and make it log tokens): a Unix socket only its\n" +
      " owner may open, never a TCP port.",
  );
  const hcm = [
    "static_resources",
    "listeners",
    0,
    "filter_chains",
    0,
    "filters",
    0,
    "typed_config",
  ];
  comment(
    doc,
    [...hcm, "route_config", "virtual_hosts", 0, "routes"],
    " One route per collaborator and allowed method (Ping, GetTasks, GetAggregatedTensor,\n" +
      " SendLocalTaskResults), chosen by the verified claim (jwt_authn's metadata), then a 403 for\n" +
      " tokens whose claim maps to no collaborator. No other path is routed (404): an allow-list.",
  );
  comment(
    doc,
    [...hcm, "http_filters"],
    " Order matters: gRPC-web -> CORS (answers preflights, adds CORS headers to every answer)\n" +
      " -> jwt_authn (token from the Authorization header only) -> RBAC (uploads need the\n" +
      " upload claim) -> buffer (a read's body held whole, at most 64 KiB; off for uploads)\n" +
      " -> router.",
  );
  comment(
    doc,
    ["static_resources", "clusters"],
    " One cluster per collaborator identity: the same aggregator, a different client certificate.",
  );
  return doc.toString({ lineWidth: 0 });
}

function comment(doc: Document, path: readonly (string | number)[], text: string): void {
  const node = doc.getIn(path, true) as YamlNode | undefined;
  if (node === undefined || !(isMap(node) || isSeq(node))) {
    throw new Error(`generator: no node at ${path.join(".")}`);
  }
  node.commentBefore = text;
}

/** The config as a plain object (what Envoy reads). */
export function envoyConfigObject(input: EnvoyInput): Record<string, unknown> {
  const clusters: unknown[] = input.collaborators.map((c) => collaboratorClusterConfig(input, c));
  clusters.push({
    name: NO_IDENTITY_CLUSTER,
    type: "STATIC",
    connect_timeout: "1s",
    load_assignment: { cluster_name: NO_IDENTITY_CLUSTER, endpoints: [] },
  });
  if ("remote" in input.tokens.jwks) clusters.push(jwksCluster(input.tokens.jwks.remote));
  return {
    // Owner-only (0600): no browser page and no other local user can reach it.
    admin: { address: { pipe: { path: input.admin.socket, mode: 0o600 } } },
    static_resources: {
      listeners: [listener(input)],
      clusters,
    },
    overload_manager: overloadManager(),
  };
}

function listener(input: EnvoyInput): Record<string, unknown> {
  const chain: Record<string, unknown> = { filters: [httpConnectionManager(input)] };
  if (input.listener.tls !== "none") {
    chain.transport_socket = downstreamTls(input.listener.tls);
    // A client that opens a connection and never finishes the handshake is closed.
    chain.transport_socket_connect_timeout = `${input.limits.tls_handshake_timeout_s}s`;
  }
  return {
    name: "dashboard_grpc_web",
    address: {
      socket_address: { address: input.listener.address, port_value: input.listener.port },
    },
    per_connection_buffer_limit_bytes: 1048576,
    filter_chains: [chain],
  };
}

function downstreamTls(tls: TlsFiles): Record<string, unknown> {
  return {
    name: "envoy.transport_sockets.tls",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: "TLSv1_2" },
        alpn_protocols: ["h2", "http/1.1"],
        tls_certificates: [certificatePair(tls.certificate, tls.private_key)],
      },
    },
  };
}

function certificatePair(certificate: string, privateKey: string): Record<string, unknown> {
  return { certificate_chain: { filename: certificate }, private_key: { filename: privateKey } };
}

/** Matches the verified token's `claim` against `value` (jwt_authn's dynamic metadata). */
function claimMatcher(claim: string, value: Record<string, unknown>): Record<string, unknown> {
  return { filter: JWT_FILTER, path: [{ key: JWT_PAYLOAD_KEY }, { key: claim }], value };
}

function httpConnectionManager(input: EnvoyInput): Record<string, unknown> {
  const claim = input.tokens.collaborator_claim;
  const metadata = (key: string) => `%DYNAMIC_METADATA(${JWT_FILTER}:${JWT_PAYLOAD_KEY}:${key})%`;
  return {
    name: "envoy.filters.network.http_connection_manager",
    typed_config: {
      "@type":
        "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
      stat_prefix: "dashboard_grpc_web",
      codec_type: "AUTO",
      use_remote_address: true,
      xff_num_trusted_hops: 0,
      normalize_path: true,
      merge_slashes: true,
      path_with_escaped_slashes_action: "REJECT_REQUEST",
      request_timeout: "0s",
      stream_idle_timeout: `${input.limits.stream_idle_timeout_s}s`,
      request_headers_timeout: "10s",
      common_http_protocol_options: {
        // A connection with no call in flight (also one that never sent a request) is closed.
        idle_timeout: `${input.limits.connection_idle_timeout_s}s`,
        headers_with_underscores_action: "REJECT_REQUEST",
      },
      http2_protocol_options: {
        max_concurrent_streams: 100,
        initial_stream_window_size: 4194304,
        initial_connection_window_size: 16777216,
      },
      // Audit: who (the token's sub) acted as which collaborator (claim and cluster used).
      // Never the token itself, nor the query string (path without query).
      access_log: [
        {
          name: "envoy.access_loggers.stdout",
          typed_config: {
            "@type":
              "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
            log_format: {
              json_format: {
                time: "%START_TIME%",
                method: "%REQ(:METHOD)%",
                path: "%PATH(NQ)%",
                status: "%RESPONSE_CODE%",
                flags: "%RESPONSE_FLAGS%",
                details: "%RESPONSE_CODE_DETAILS%",
                sub: metadata("sub"),
                collaborator_claim: metadata(claim),
                upstream_cluster: "%UPSTREAM_CLUSTER%",
                bytes_received: "%BYTES_RECEIVED%",
                bytes_sent: "%BYTES_SENT%",
                duration_ms: "%DURATION%",
                client: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
              },
            },
          },
        },
      ],
      route_config: {
        name: "openfl_routes",
        virtual_hosts: [
          {
            name: "openfl_aggregator",
            domains: [...input.listener.domains],
            typed_per_filter_config: {
              "envoy.filters.http.cors": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
                allow_origin_string_match: [{ exact: input.dashboard_origin }],
                allow_methods: "POST, OPTIONS",
                allow_headers:
                  "content-type, x-grpc-web, x-user-agent, grpc-timeout, authorization",
                expose_headers: "grpc-status, grpc-message, grpc-status-details-bin",
                max_age: "7200",
                allow_credentials: false,
                forward_not_matching_preflights: false,
              },
            },
            routes: [
              ...input.collaborators.flatMap((c) =>
                ALLOWED_METHODS.map((method) => collaboratorRoute(claim, c, method, input.limits)),
              ),
              ...ALLOWED_METHODS.map(noIdentityRoute),
            ],
          },
        ],
      },
      http_filters: [
        {
          name: "envoy.filters.http.grpc_web",
          typed_config: {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb",
          },
        },
        {
          name: "envoy.filters.http.cors",
          typed_config: {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors",
          },
        },
        jwtAuthn(input),
        rbac(input),
        {
          // After authentication and RBAC: a read's body is held whole (at most
          // limits.read_request_max_bytes, else 413) before any of it goes upstream. Off for uploads.
          name: BUFFER_FILTER,
          typed_config: {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer",
            max_request_bytes: input.limits.read_request_max_bytes,
          },
        },
        {
          name: "envoy.filters.http.router",
          typed_config: {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
            suppress_envoy_headers: true,
          },
        },
      ],
    },
  };
}

/** Uploads are streamed, not held: the buffer filter is off on their routes. */
function uploadUnbuffered(method: string): Record<string, unknown> {
  return method === "SendLocalTaskResults"
    ? {
        typed_per_filter_config: {
          [BUFFER_FILTER]: {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute",
            disabled: true,
          },
        },
      }
    : {};
}

function collaboratorRoute(
  claim: string,
  c: CollaboratorIdentity,
  method: string,
  limits: EdgeLimits,
): Record<string, unknown> {
  const upload = method === "SendLocalTaskResults";
  return {
    name: `as_${c.name}_${method}`,
    match: {
      path: `${AGGREGATOR_SERVICE}${method}`,
      dynamic_metadata: [claimMatcher(claim, { string_match: { exact: c.claim } })],
    },
    route: {
      cluster: collaboratorCluster(c),
      // Uploads: no bound on the whole (1 GiB over a slow link), only on silence. Reads: both.
      timeout: upload ? "0s" : `${limits.read_timeout_s}s`,
      idle_timeout: `${limits.stream_idle_timeout_s}s`,
      max_stream_duration: { grpc_timeout_header_max: "0s" },
    },
    request_body_buffer_limit: upload ? BODY_BUFFER_LIMIT : limits.read_request_max_bytes,
    ...uploadUnbuffered(method),
  };
}

/**
 * Tokens whose claim maps to no collaborator: 403 from RBAC (denies everything on this route).
 * A route to a cluster, not a direct response, because the CORS filter answers preflights (which
 * carry no token, so they land here) only on routes with a route entry. The cluster has no
 * endpoints: should the RBAC override ever be lost, the answer is 503, never an identity.
 */
function noIdentityRoute(method: string): Record<string, unknown> {
  return {
    name: `no_collaborator_for_token_${method}`,
    match: { path: `${AGGREGATOR_SERVICE}${method}` },
    route: { cluster: NO_IDENTITY_CLUSTER },
    typed_per_filter_config: {
      "envoy.filters.http.rbac": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute",
        rbac: {
          rules: {
            action: "DENY",
            policies: {
              no_collaborator_for_token: {
                permissions: [{ any: true }],
                principals: [{ any: true }],
              },
            },
          },
        },
      },
    },
  };
}

function jwtAuthn(input: EnvoyInput): Record<string, unknown> {
  const { tokens } = input;
  const jwks =
    "local" in tokens.jwks
      ? { local_jwks: { inline_string: tokens.jwks.local } }
      : {
          remote_jwks: {
            http_uri: { uri: tokens.jwks.remote.uri, cluster: JWKS_CLUSTER, timeout: "5s" },
            cache_duration: "600s",
            async_fetch: {},
          },
        };
  return {
    name: JWT_FILTER,
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
      providers: {
        dashboard_oidc: {
          issuer: tokens.issuer,
          audiences: [tokens.audience],
          require_expiration: true,
          forward: false,
          clock_skew_seconds: 60,
          // The Authorization header only: without this, Envoy also reads ?access_token=, which
          // ends up in logs and browser history.
          from_headers: [{ name: "authorization", value_prefix: "Bearer " }],
          // The verified claims, for the routes (identity) and RBAC (uploads); then the route
          // is chosen again with them.
          payload_in_metadata: JWT_PAYLOAD_KEY,
          clear_route_cache: true,
          ...jwks,
        },
      },
      rules: [{ match: { prefix: "/" }, requires: { provider_name: "dashboard_oidc" } }],
      bypass_cors_preflight: true,
    },
  };
}

function rbac(input: EnvoyInput): Record<string, unknown> {
  const upload = { url_path: { path: { exact: UPLOAD_METHOD, ignore_case: true } } };
  return {
    name: "envoy.filters.http.rbac",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
      rules: {
        action: "ALLOW",
        policies: {
          // Read-only by default: any verified token, any path but the upload (unrouted paths
          // still reach the router, which answers 404).
          read: { permissions: [{ not_rule: upload }], principals: [{ any: true }] },
          upload: {
            permissions: [upload],
            principals: [
              {
                sourced_metadata: {
                  metadata_matcher: claimMatcher(input.tokens.upload_claim, { bool_match: true }),
                },
              },
            ],
          },
        },
      },
    },
  };
}

function collaboratorClusterConfig(
  input: EnvoyInput,
  c: CollaboratorIdentity,
): Record<string, unknown> {
  const name = collaboratorCluster(c);
  const { aggregator } = input;
  return {
    name,
    type: "STRICT_DNS",
    connect_timeout: "5s",
    // One identity per user, one cluster per identity: these bound how many of the aggregator's
    // handlers (OpenFL's server has 8 worker threads) one user can hold at once. Past them,
    // Envoy answers 503 (overflow) at once and nothing is forwarded.
    circuit_breakers: {
      thresholds: [
        {
          priority: "DEFAULT",
          max_requests: input.limits.max_calls_per_identity,
          max_pending_requests: input.limits.max_calls_per_identity,
          max_connections: 4,
        },
      ],
    },
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: [
            {
              endpoint: {
                address: {
                  socket_address: { address: aggregator.address, port_value: aggregator.port },
                },
              },
            },
          ],
        },
      ],
    },
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        common_http_protocol_options: { idle_timeout: "3600s" },
        // No connection_keepalive: grpcio servers answer frequent PINGs with GOAWAY.
        explicit_http_config: {
          http2_protocol_options: {
            initial_stream_window_size: 67108864,
            initial_connection_window_size: 134217728,
            max_concurrent_streams: 100,
          },
        },
      },
    },
    transport_socket: {
      name: "envoy.transport_sockets.tls",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        sni: aggregator.server_name,
        common_tls_context: {
          tls_params: { tls_minimum_protocol_version: "TLSv1_2" },
          alpn_protocols: ["h2"],
          tls_certificates: [certificatePair(c.certificate, c.private_key)],
          validation_context: {
            trusted_ca: { filename: aggregator.ca_certificate },
            match_typed_subject_alt_names: [
              { san_type: "DNS", matcher: { exact: aggregator.server_name } },
            ],
          },
        },
      },
    },
  };
}

function jwksCluster(remote: { uri: string; ca_certificate: string }): Record<string, unknown> {
  const url = new URL(remote.uri);
  const port = url.port === "" ? 443 : Number(url.port);
  return {
    name: JWKS_CLUSTER,
    type: "LOGICAL_DNS",
    connect_timeout: "5s",
    load_assignment: {
      cluster_name: JWKS_CLUSTER,
      endpoints: [
        {
          lb_endpoints: [
            {
              endpoint: {
                address: { socket_address: { address: url.hostname, port_value: port } },
              },
            },
          ],
        },
      ],
    },
    transport_socket: {
      name: "envoy.transport_sockets.tls",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        sni: url.hostname,
        common_tls_context: {
          validation_context: {
            trusted_ca: { filename: remote.ca_certificate },
            match_typed_subject_alt_names: [{ san_type: "DNS", matcher: { exact: url.hostname } }],
          },
        },
      },
    },
  };
}

function overloadManager(): Record<string, unknown> {
  const heapTrigger = (value: number) => [
    { name: "envoy.resource_monitors.fixed_heap", threshold: { value } },
  ];
  return {
    refresh_interval: "0.25s",
    resource_monitors: [
      {
        name: "envoy.resource_monitors.global_downstream_max_connections",
        typed_config: {
          "@type":
            "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
          max_active_downstream_connections: 10000,
        },
      },
      {
        name: "envoy.resource_monitors.fixed_heap",
        typed_config: {
          "@type":
            "type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig",
          max_heap_size_bytes: 4294967296,
        },
      },
    ],
    actions: [
      { name: "envoy.overload_actions.shrink_heap", triggers: heapTrigger(0.95) },
      { name: "envoy.overload_actions.stop_accepting_requests", triggers: heapTrigger(0.98) },
    ],
  };
}
