// Writes the Envoy (API v3) bootstrap for the dashboard's gRPC-web front door from an EnvoyInput.
// deploy/envoy/envoy.yaml is this function's output for deploy/envoy/envoy-input.yaml, and the
// browser tests and the demo run its output for their own input: one config, one generator.
// Why each setting is there: deploy/envoy/README.md ("What each part does").
import { Document, isMap, isSeq, type Node as YamlNode } from "yaml";
import type { CertificateKeyFiles, EdgeIdentity, EdgeLimits, EnvoyInput } from "./input.js";

/** The gRPC service the routes and RBAC rules name. */
export const AGGREGATOR_SERVICE = "/openfl.aggregator.Aggregator/";
export const UPLOAD_METHOD = `${AGGREGATOR_SERVICE}SendLocalTaskResults`;
export const INTEROP_METHOD = `${AGGREGATOR_SERVICE}InteropRelay`;
/** Where jwt_authn puts the verified payload (dynamic metadata of the jwt_authn filter). */
export const JWT_FILTER = "envoy.filters.http.jwt_authn";
export const JWT_PAYLOAD_KEY = "jwt_payload";
const JWKS_CLUSTER = "oidc_jwks";
const NO_IDENTITY_CLUSTER = "no_collaborator_identity";
/**
 * The methods a browser collaborator calls, and only these, are routed (an allow-list: any other
 * path under the service is 404 at the edge and never reaches the aggregator). InteropRelay is
 * added only when the input names tokens.interop_claim.
 */
export const ALLOWED_METHODS = [
  "Ping",
  "GetTasks",
  "GetAggregatedTensor",
  "SendLocalTaskResults",
] as const;
// Every body is held whole by the buffer filter before any of it goes upstream, 413 past its
// bound: a read's (real ones are under 1 KiB) up to limits.read_request_max_bytes, so a read
// cannot carry an upload's worth of bytes to the aggregator; an upload's up to
// limits.upload_max_bytes, because OpenFL's server reads an upload while holding its one upload
// lock: streamed through at a slow (or stalled) user's pace, it would hold every upload.
const BUFFER_FILTER = "envoy.filters.http.buffer";
const RATE_LIMIT_FILTER = "envoy.filters.http.local_ratelimit";
/** Distinct users (token `sub`s) the rate limiter keeps a bucket for at once (least recent out). */
const RATE_LIMITED_USERS = 10000;

/** The methods routed for `input`: the browser's four, and InteropRelay when enabled. */
export function routedMethods(input: Pick<EnvoyInput, "tokens">): readonly string[] {
  return input.tokens.interop_claim === undefined
    ? ALLOWED_METHODS
    : [...ALLOWED_METHODS, "InteropRelay"];
}

/** Methods whose body may be large (held up to upload_max_bytes, not read_request_max_bytes). */
const isLargeBodyMethod = (method: string) =>
  method === "SendLocalTaskResults" || method === "InteropRelay";

/** The upstream cluster that presents `collaborator`'s certificate. */
export function collaboratorCluster(collaborator: Pick<EdgeIdentity, "name">): string {
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
      " upload claim) -> local rate limit (per token sub) -> buffer (a body held whole before\n" +
      " it goes upstream: reads a few KiB, uploads up to limits.upload_max_bytes) -> router.",
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
  const listeners = [listener(input)];
  if (input.health !== undefined) listeners.push(healthListener(input.health));
  return {
    // Owner-only (0600): no browser page and no other local user can reach it. Outside the
    // connection cap, so the operator can still read stats while idle sockets fill it.
    admin: {
      address: { pipe: { path: input.admin.socket, mode: 0o600 } },
      ignore_global_conn_limit: true,
    },
    static_resources: { listeners, clusters },
    overload_manager: overloadManager(input.limits),
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

function downstreamTls(tls: CertificateKeyFiles): Record<string, unknown> {
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
                routedMethods(input).map((method) =>
                  collaboratorRoute(claim, c, method, input.limits),
                ),
              ),
              ...routedMethods(input).map(noIdentityRoute),
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
        rateLimitPerUser(input.limits),
        {
          // After authentication and RBAC: a body is held whole (reads: at most
          // limits.read_request_max_bytes; uploads: per route) before any of it goes upstream.
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

/** An upload's body is held whole too, up to limits.upload_max_bytes (the filter's is a read's). */
function uploadBuffer(method: string, limits: EdgeLimits): Record<string, unknown> {
  return isLargeBodyMethod(method)
    ? {
        typed_per_filter_config: {
          [BUFFER_FILTER]: {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute",
            buffer: { max_request_bytes: limits.upload_max_bytes },
          },
        },
      }
    : {};
}

/**
 * A token bucket per user (the verified token's `sub`), refilled every second. A request
 * past it gets 429 (which gRPC clients read as UNAVAILABLE, and retry after a back-off).
 * Tokens without a sub share one bucket.
 */
function rateLimitPerUser(limits: EdgeLimits): Record<string, unknown> {
  const bucket = (users: number) => ({
    max_tokens: limits.request_burst_per_user * users,
    tokens_per_fill: limits.requests_per_user_per_s * users,
    fill_interval: "1s",
  });
  const always = { default_value: { numerator: 100, denominator: "HUNDRED" } };
  return {
    name: RATE_LIMIT_FILTER,
    typed_config: {
      "@type":
        "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
      stat_prefix: "per_user",
      // The filter's own bucket is taken from by every request, each user's too: sized for
      // every user at once, so that only the per-user buckets below ever refuse.
      token_bucket: bucket(RATE_LIMITED_USERS),
      filter_enabled: always,
      filter_enforced: always,
      // An empty value: one bucket per distinct sub, made on first use.
      descriptors: [{ entries: [{ key: "sub" }], token_bucket: bucket(1) }],
      max_dynamic_descriptors: RATE_LIMITED_USERS,
      rate_limits: [
        {
          actions: [
            {
              metadata: {
                descriptor_key: "sub",
                metadata_key: {
                  key: JWT_FILTER,
                  path: [{ key: JWT_PAYLOAD_KEY }, { key: "sub" }],
                },
                source: "DYNAMIC",
                default_value: "(no sub)",
              },
            },
          ],
        },
      ],
    },
  };
}

function collaboratorRoute(
  claim: string,
  c: EdgeIdentity,
  method: string,
  limits: EdgeLimits,
): Record<string, unknown> {
  const largeBody = isLargeBodyMethod(method);
  return {
    name: `as_${c.name}_${method}`,
    match: {
      path: `${AGGREGATOR_SERVICE}${method}`,
      dynamic_metadata: [claimMatcher(claim, { string_match: { exact: c.claim } })],
    },
    route: {
      cluster: collaboratorCluster(c),
      // Uploads: no bound on the whole (1 GiB over a slow link), only on silence. Reads: both.
      timeout: largeBody ? "0s" : `${limits.read_timeout_s}s`,
      idle_timeout: `${limits.stream_idle_timeout_s}s`,
      max_stream_duration: { grpc_timeout_header_max: "0s" },
    },
    request_body_buffer_limit: largeBody ? limits.upload_max_bytes : limits.read_request_max_bytes,
    ...uploadBuffer(method, limits),
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
  const path = (exact: string) => ({ url_path: { path: { exact, ignore_case: true } } });
  const upload = path(UPLOAD_METHOD);
  const interop = path(INTEROP_METHOD);
  const needsClaim = (claim: string) => [
    { sourced_metadata: { metadata_matcher: claimMatcher(claim, { bool_match: true }) } },
  ];
  const interopClaim = input.tokens.interop_claim;
  return {
    name: "envoy.filters.http.rbac",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
      rules: {
        action: "ALLOW",
        policies: {
          // Read-only by default: any verified token, any path but the upload (unrouted paths
          // still reach the router, which answers 404).
          read: {
            permissions: [
              interopClaim === undefined
                ? { not_rule: upload }
                : { and_rules: { rules: [{ not_rule: upload }, { not_rule: interop }] } },
            ],
            principals: [{ any: true }],
          },
          upload: { permissions: [upload], principals: needsClaim(input.tokens.upload_claim) },
          ...(interopClaim === undefined
            ? {}
            : { interop: { permissions: [interop], principals: needsClaim(interopClaim) } }),
        },
      },
    },
  };
}

function collaboratorClusterConfig(input: EnvoyInput, c: EdgeIdentity): Record<string, unknown> {
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

/**
 * The readiness listener: GET /ready only (the health_check filter answers it: 200, or 503 once
 * Envoy drains); any other request 404. No route reaches the aggregator.
 */
function healthListener(health: NonNullable<EnvoyInput["health"]>): Record<string, unknown> {
  return {
    name: "readiness",
    address: { socket_address: { address: health.address, port_value: health.port } },
    per_connection_buffer_limit_bytes: 16384,
    filter_chains: [
      {
        filters: [
          {
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type":
                "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              stat_prefix: "readiness",
              codec_type: "HTTP1",
              request_headers_timeout: "5s",
              stream_idle_timeout: "5s",
              common_http_protocol_options: { idle_timeout: "10s" },
              route_config: {
                name: "readiness",
                virtual_hosts: [
                  {
                    name: "readiness",
                    domains: ["*"],
                    routes: [{ match: { prefix: "/" }, direct_response: { status: 404 } }],
                  },
                ],
              },
              http_filters: [
                {
                  name: "envoy.filters.http.health_check",
                  typed_config: {
                    "@type":
                      "type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck",
                    pass_through_mode: false,
                    headers: [
                      { name: ":path", string_match: { exact: "/ready" } },
                      { name: ":method", string_match: { exact: "GET" } },
                    ],
                  },
                },
                {
                  name: "envoy.filters.http.router",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                  },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

function overloadManager(limits: EdgeLimits): Record<string, unknown> {
  const heap = "envoy.resource_monitors.fixed_heap";
  const heapTrigger = (value: number) => [{ name: heap, threshold: { value } }];
  return {
    refresh_interval: "0.25s",
    // Memory is accounted per stream from 1 MiB, so the streams holding the most can be found.
    buffer_factory_config: { minimum_account_to_track_power_of_two: 20 },
    resource_monitors: [
      {
        name: "envoy.resource_monitors.global_downstream_max_connections",
        typed_config: {
          "@type":
            "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
          max_active_downstream_connections: limits.max_connections,
        },
      },
      {
        name: "envoy.resource_monitors.fixed_heap",
        typed_config: {
          "@type":
            "type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig",
          max_heap_size_bytes: limits.max_heap_bytes,
        },
      },
    ],
    actions: [
      // From 60 % of the heap, the streams holding the most memory (one user's piled-up
      // uploads) are reset first, more of them the fuller it gets; small calls go on.
      {
        name: "envoy.overload_actions.reset_high_memory_stream",
        triggers: [{ name: heap, scaled: { scaling_threshold: 0.6, saturation_threshold: 0.9 } }],
      },
      { name: "envoy.overload_actions.shrink_heap", triggers: heapTrigger(0.95) },
      { name: "envoy.overload_actions.stop_accepting_requests", triggers: heapTrigger(0.98) },
    ],
  };
}
