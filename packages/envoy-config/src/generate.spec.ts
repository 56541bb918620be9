import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import {
  ALLOWED_METHODS,
  collaboratorCluster,
  envoyConfigObject,
  generateEnvoyConfig,
  routedMethods,
} from "./generate.js";
import {
  checkEnvoyInput,
  DEFAULT_EDGE_LIMITS,
  type EnvoyInput,
  EnvoyInputError,
  parseEnvoyInput,
} from "./input.js";

const READ_REQUEST_MAX_BYTES = DEFAULT_EDGE_LIMITS.read_request_max_bytes;

const deployDir = resolve(import.meta.dirname, "../../../deploy/envoy");
const INPUT_FILE = resolve(deployDir, "envoy-input.yaml");
const inputText = readFileSync(INPUT_FILE, "utf8");
const input = parseEnvoyInput(inputText, "deploy/envoy/envoy-input.yaml");

// biome-ignore lint/suspicious/noExplicitAny: generated config, navigated by the assertions.
type Node = Record<string, any>;
const config = envoyConfigObject(input) as Node;
const hcm: Node = config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
const filter = (name: string): Node => hcm.http_filters.find((f: Node) => f.name === name);

describe("deploy/envoy/envoy.yaml", () => {
  it("is the generator's output for deploy/envoy/envoy-input.yaml (not edited by hand)", () => {
    const shipped = readFileSync(resolve(deployDir, "envoy.yaml"), "utf8");
    assert.equal(shipped, generateEnvoyConfig(input, "deploy/envoy/envoy-input.yaml"));
  });
});

describe("generated Envoy config", () => {
  it("maps each collaborator claim value to its own cluster, with that collaborator's certificate", () => {
    const routes: Node[] = hcm.route_config.virtual_hosts[0].routes;
    const methods = ALLOWED_METHODS.length;
    assert.equal(routes.length, (input.collaborators.length + 1) * methods);
    input.collaborators.forEach((c, i) => {
      const route = routes[i * methods] as Node;
      assert.equal(route.route.cluster, collaboratorCluster(c));
      assert.deepEqual(route.match.dynamic_metadata, [
        {
          filter: "envoy.filters.http.jwt_authn",
          path: [{ key: "jwt_payload" }, { key: "openfl_collaborator" }],
          value: { string_match: { exact: c.claim } },
        },
      ]);
      const cluster = config.static_resources.clusters.find(
        (k: Node) => k.name === collaboratorCluster(c),
      );
      assert.deepEqual(cluster.transport_socket.typed_config.common_tls_context.tls_certificates, [
        {
          certificate_chain: { filename: c.certificate },
          private_key: { filename: c.private_key },
        },
      ]);
    });
  });

  it("bounds what one user can make the edge hold, from limits (defaults when the file has none)", () => {
    const chain = config.static_resources.listeners[0].filter_chains[0];
    assert.equal(chain.transport_socket_connect_timeout, "10s");
    assert.equal(hcm.common_http_protocol_options.idle_timeout, "60s");
    assert.equal(hcm.stream_idle_timeout, "120s");
    const routes: Node[] = hcm.route_config.virtual_hosts[0].routes;
    const ping = routes.find((r) => r.name === `as_${input.collaborators[0]?.name}_Ping`) as Node;
    const upload = routes.find(
      (r) => r.name === `as_${input.collaborators[0]?.name}_SendLocalTaskResults`,
    ) as Node;
    assert.deepEqual([ping.route.timeout, ping.route.idle_timeout], ["120s", "120s"]);
    assert.deepEqual([upload.route.timeout, upload.route.idle_timeout], ["0s", "120s"]);
    for (const c of input.collaborators) {
      const cluster = config.static_resources.clusters.find(
        (k: Node) => k.name === collaboratorCluster(c),
      );
      assert.deepEqual(cluster.circuit_breakers.thresholds[0].max_requests, 4, c.name);
      assert.deepEqual(cluster.circuit_breakers.thresholds[0].max_pending_requests, 4, c.name);
    }
    const short = envoyConfigObject({ ...input, limits: { ...input.limits, read_timeout_s: 7 } });
    const shortHcm = (short as Node).static_resources.listeners[0].filter_chains[0].filters[0]
      .typed_config;
    assert.equal(shortHcm.route_config.virtual_hosts[0].routes[0].route.timeout, "7s");
  });

  it("puts the admin interface on an owner-only Unix socket, never a TCP port, outside the connection cap", () => {
    assert.deepEqual(config.admin, {
      address: { pipe: { path: "/run/envoy/admin.sock", mode: 0o600 } },
      ignore_global_conn_limit: true,
    });
  });

  it("routes exactly the four methods a browser calls, by exact path (an allow-list: the rest is 404)", () => {
    const routes: Node[] = hcm.route_config.virtual_hosts[0].routes;
    const paths = new Set(routes.map((r) => r.match.path));
    assert.deepEqual([...paths].sort(), [
      "/openfl.aggregator.Aggregator/GetAggregatedTensor",
      "/openfl.aggregator.Aggregator/GetTasks",
      "/openfl.aggregator.Aggregator/Ping",
      "/openfl.aggregator.Aggregator/SendLocalTaskResults",
    ]);
    assert.ok(
      routes.every((r) => r.match.prefix === undefined && r.match.safe_regex === undefined),
    );
  });

  it("holds every body whole before it goes upstream: reads up to 64 KiB, uploads up to upload_max_bytes (413 past them)", () => {
    const buffer = hcm.http_filters.find((f: Node) => f.name === "envoy.filters.http.buffer");
    assert.equal(buffer.typed_config.max_request_bytes, READ_REQUEST_MAX_BYTES);
    const names = hcm.http_filters.map((f: Node) => f.name);
    assert.ok(
      names.indexOf("envoy.filters.http.rbac") < names.indexOf("envoy.filters.http.buffer"),
    );
    assert.equal(names.at(-1), "envoy.filters.http.router");
    for (const route of hcm.route_config.virtual_hosts[0].routes as Node[]) {
      if (route.match.dynamic_metadata === undefined) continue;
      const upload = route.match.path.endsWith("/SendLocalTaskResults");
      const perRoute = route.typed_per_filter_config?.["envoy.filters.http.buffer"];
      assert.equal(perRoute?.disabled, undefined, route.name);
      const bound = upload ? DEFAULT_EDGE_LIMITS.upload_max_bytes : READ_REQUEST_MAX_BYTES;
      assert.equal(
        perRoute?.buffer?.max_request_bytes ?? READ_REQUEST_MAX_BYTES,
        bound,
        route.name,
      );
      assert.equal(route.request_body_buffer_limit, bound, route.name);
    }
  });

  it("gives each user (token sub) its own token bucket, after RBAC and before the body is held", () => {
    const names = hcm.http_filters.map((f: Node) => f.name);
    const at = names.indexOf("envoy.filters.http.local_ratelimit");
    assert.ok(names.indexOf("envoy.filters.http.rbac") < at);
    assert.ok(at < names.indexOf("envoy.filters.http.buffer"));
    const limiter = filter("envoy.filters.http.local_ratelimit").typed_config;
    const bucket = {
      max_tokens: DEFAULT_EDGE_LIMITS.request_burst_per_user,
      tokens_per_fill: DEFAULT_EDGE_LIMITS.requests_per_user_per_s,
      fill_interval: "1s",
    };
    assert.deepEqual(limiter.descriptors, [{ entries: [{ key: "sub" }], token_bucket: bucket }]);
    assert.deepEqual(limiter.rate_limits[0].actions[0].metadata.metadata_key, {
      key: "envoy.filters.http.jwt_authn",
      path: [{ key: "jwt_payload" }, { key: "sub" }],
    });
    assert.equal(limiter.filter_enforced.default_value.numerator, 100);
  });

  it("sheds the streams holding the most memory first, and caps connections, from limits", () => {
    const overload = config.overload_manager;
    const actions = overload.actions.map((a: Node) => a.name);
    assert.equal(actions[0], "envoy.overload_actions.reset_high_memory_stream");
    assert.ok(overload.buffer_factory_config.minimum_account_to_track_power_of_two <= 20);
    const monitors = Object.fromEntries(
      overload.resource_monitors.map((m: Node) => [m.name, m.typed_config]),
    );
    assert.equal(
      monitors["envoy.resource_monitors.global_downstream_max_connections"]
        .max_active_downstream_connections,
      DEFAULT_EDGE_LIMITS.max_connections,
    );
    assert.equal(
      monitors["envoy.resource_monitors.fixed_heap"].max_heap_size_bytes,
      DEFAULT_EDGE_LIMITS.max_heap_bytes,
    );
  });

  it("answers readiness on its own listener, GET /ready only, with no route upstream", () => {
    const health = config.static_resources.listeners[1];
    assert.deepEqual(health.address.socket_address, { address: "0.0.0.0", port_value: 8081 });
    const manager = health.filter_chains[0].filters[0].typed_config;
    const check = manager.http_filters[0].typed_config;
    assert.equal(check.pass_through_mode, false);
    assert.deepEqual(check.headers[0], { name: ":path", string_match: { exact: "/ready" } });
    assert.deepEqual(
      manager.route_config.virtual_hosts[0].routes.map((r: Node) => r.direct_response?.status),
      [404],
    );
    const { health: _, ...without } = input;
    assert.equal((envoyConfigObject(without) as Node).static_resources.listeners.length, 1);
  });

  it("sends tokens that map to no collaborator to a route RBAC denies, whose cluster has no endpoints", () => {
    const last: Node = hcm.route_config.virtual_hosts[0].routes.at(-1);
    assert.equal(last.match.dynamic_metadata, undefined);
    const rules = last.typed_per_filter_config["envoy.filters.http.rbac"].rbac.rules;
    assert.equal(rules.action, "DENY");
    const cluster = config.static_resources.clusters.find(
      (k: Node) => k.name === last.route.cluster,
    );
    assert.deepEqual(cluster.load_assignment.endpoints, []);
  });

  it("reads tokens from the Authorization header only and exposes the payload as metadata", () => {
    const provider = filter("envoy.filters.http.jwt_authn").typed_config.providers.dashboard_oidc;
    assert.deepEqual(provider.from_headers, [{ name: "authorization", value_prefix: "Bearer " }]);
    assert.equal(provider.from_params, undefined);
    assert.equal(provider.payload_in_metadata, "jwt_payload");
    assert.equal(provider.clear_route_cache, true);
    assert.equal(provider.forward, false);
  });

  it("lets only tokens with the upload claim call SendLocalTaskResults (RBAC after jwt_authn)", () => {
    const names = hcm.http_filters.map((f: Node) => f.name);
    assert.ok(
      names.indexOf("envoy.filters.http.rbac") > names.indexOf("envoy.filters.http.jwt_authn"),
    );
    const { policies } = filter("envoy.filters.http.rbac").typed_config.rules;
    assert.deepEqual(policies.upload.principals, [
      {
        sourced_metadata: {
          metadata_matcher: {
            filter: "envoy.filters.http.jwt_authn",
            path: [{ key: "jwt_payload" }, { key: "openfl_upload" }],
            value: { bool_match: true },
          },
        },
      },
    ]);
    assert.deepEqual(policies.read.permissions, [{ not_rule: policies.upload.permissions[0] }]);
  });

  it("routes InteropRelay only when tokens.interop_claim is set, and then only for tokens whose claim is true", () => {
    assert.deepEqual(routedMethods(input), ALLOWED_METHODS);
    const enabled = { ...input, tokens: { ...input.tokens, interop_claim: "openfl_interop" } };
    const on = envoyConfigObject(enabled) as Node;
    const onHcm = on.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    const paths = onHcm.route_config.virtual_hosts[0].routes.map((r: Node) => r.match.path);
    assert.ok(paths.includes("/openfl.aggregator.Aggregator/InteropRelay"));
    const rbac = onHcm.http_filters.find((f: Node) => f.name === "envoy.filters.http.rbac");
    const { policies } = rbac.typed_config.rules;
    assert.deepEqual(policies.interop.principals[0].sourced_metadata.metadata_matcher.path, [
      { key: "jwt_payload" },
      { key: "openfl_interop" },
    ]);
    assert.deepEqual(policies.read.permissions[0].and_rules.rules[1], {
      not_rule: policies.interop.permissions[0],
    });
    assert.deepEqual(policies.read.permissions[0].and_rules.rules[0], {
      not_rule: policies.upload.permissions[0],
    });
    // Without the claim set there is no interop policy: the path is simply not routed (404).
    const { policies: off } = filter("envoy.filters.http.rbac").typed_config.rules;
    assert.equal(off.interop, undefined);
  });

  it("logs the token's sub and the collaborator identity for every request", () => {
    const format = hcm.access_log[0].typed_config.log_format.json_format;
    assert.equal(format.sub, "%DYNAMIC_METADATA(envoy.filters.http.jwt_authn:jwt_payload:sub)%");
    assert.equal(format.upstream_cluster, "%UPSTREAM_CLUSTER%");
    assert.equal(format.path, "%PATH(NQ)%", "never the query string");
  });

  it("has a JWKS cluster only for a remote JWKS", () => {
    const names = (c: Node) => c.static_resources.clusters.map((k: Node) => k.name);
    assert.ok(names(config).includes("oidc_jwks"));
    const local = envoyConfigObject({
      ...input,
      tokens: { ...input.tokens, jwks: { local: '{"keys":[{}]}' } },
    });
    assert.ok(!names(local as Node).includes("oidc_jwks"));
  });
});

describe("generator input", () => {
  const raw = () => parse(inputText) as Node;
  const fails = (change: (r: Node) => void, message: RegExp) => {
    const r = raw();
    change(r);
    assert.throws(
      () => checkEnvoyInput(r, "in.yaml"),
      (e: Error) => e instanceof EnvoyInputError && message.test(e.message),
    );
  };

  it("names the field, what it expected and what it got", () => {
    fails((r) => {
      r.listener.port = "8443";
    }, /^in\.yaml: listener\.port: expected a port number 1\.\.65535, got "8443"$/);
    fails((r) => {
      r.collaborators = [];
    }, /collaborators: expected a non-empty list/);
    fails((r) => {
      r.collaborators[1].claim = r.collaborators[0].claim;
    }, /collaborators\[\]\.claim: expected unique values, got "alice"/);
    fails((r) => {
      r.collaborators[0].name = "Alice Smith";
    }, /collaborators\[0\]\.name: expected lower-case/);
    fails((r) => {
      r.collaborators[0].certificate = "col.crt";
    }, /collaborators\[0\]\.certificate: expected an absolute file path/);
    fails((r) => {
      r.tokens.upload_claim = r.tokens.collaborator_claim;
    }, /tokens\.upload_claim: expected a claim other than collaborator_claim/);
    fails((r) => {
      r.tokens.jwks = { remote: { uri: "http://idp/certs", ca_certificate: "/ca" } };
    }, /tokens\.jwks\.remote\.uri: expected an https:\/\/ URL/);
    fails((r) => {
      r.dashboard_origin = "https://dashboard.example.org/app";
    }, /dashboard_origin: expected an origin/);
    fails((r) => {
      r.listener.tsl = "none";
    }, /listener\.tsl: expected one of the keys/);
  });

  it("refuses a limit that is not a whole number of at least 1, naming it", () => {
    fails((r) => {
      r.limits = { stream_idle_timeout_s: 0 };
    }, /limits\.stream_idle_timeout_s: expected a whole number >= 1, got 0/);
    fails((r) => {
      r.limits = { idle: 5 };
    }, /limits\.idle: expected one of the keys/);
    fails((r) => {
      r.limits = { upload_max_bytes: 2 ** 31 };
    }, /limits\.upload_max_bytes: expected at most 1207959552 \(OpenFL's largest message/);
  });

  it("refuses an interop claim that is another claim, and a health port that is the listener's", () => {
    fails((r) => {
      r.tokens.interop_claim = r.tokens.upload_claim;
    }, /tokens\.interop_claim: expected a claim other than collaborator_claim and upload_claim/);
    fails((r) => {
      r.health.port = r.listener.port;
    }, /health\.port: expected a port other than listener\.port, got 8443/);
  });

  it("refuses a TCP admin interface, saying why, and a relative socket path", () => {
    fails((r) => {
      r.admin = { address: "127.0.0.1", port: 9901 };
    }, /admin: expected \{ socket: <absolute path> \} \(a Unix socket only Envoy's user may open; a TCP admin port can be reached by every local process and by pages in a local browser\)/);
    fails((r) => {
      r.admin = { socket: "admin.sock" };
    }, /admin\.socket: expected an absolute file path/);
  });

  it("reports YAML syntax errors and repeated keys with the file name", () => {
    assert.throws(
      () => parseEnvoyInput("a: [", "in.yaml"),
      /^EnvoyInputError: in\.yaml: not valid YAML/,
    );
    assert.throws(
      () => parseEnvoyInput(`${inputText}\nadmin: { address: 0.0.0.0, port: 9901 }\n`, "in.yaml"),
      /in\.yaml: not valid YAML: Map keys must be unique/,
    );
  });

  it("accepts the shipped input as it is", () => {
    const checked: EnvoyInput = checkEnvoyInput(raw(), "in.yaml");
    assert.deepEqual(checked, input);
  });
});
