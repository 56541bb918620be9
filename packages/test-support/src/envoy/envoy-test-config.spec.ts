// Unit tests of the Envoy test config and of the shipped deploy/envoy/envoy.yaml, both checked by
// Envoy itself (`envoy --mode validate`, .venv/bin/envoy from scripts/setup-python.sh).
import assert from "node:assert/strict";
import { createPublicKey, type JsonWebKey, verify } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createTestPki, type TestPki } from "@openfl-connect/reference-aggregator";
import { parse, stringify } from "yaml";
import { validateEnvoyConfig } from "./envoy-binary.js";
import {
  DEPLOYED_ENVOY_CONFIG,
  deployedEnvoyTestConfig,
  type EnvoyTestConfigOptions,
} from "./envoy-test-config.js";
import { shippedConfigWithTestFiles } from "./shipped-config-files.js";
import { createTestJwtKey, signJwt, testAccessToken } from "./test-jwt.js";

const work = mkdtempSync(join(tmpdir(), "envoy-config-spec-"));
const key = createTestJwtKey();

const OPTIONS: EnvoyTestConfigOptions = {
  adminPort: 40001,
  listenerPort: 40002,
  listenerTls: { cert: "/tmp/pki/server.crt", key: "/tmp/pki/server.key" },
  dashboardOrigin: "http://127.0.0.1:40003",
  aggregator: {
    address: "127.0.0.1",
    port: 40004,
    serverName: "localhost",
    caCert: "/tmp/pki/ca.crt",
    cert: "/tmp/pki/collaborators/dashboard.crt",
    key: "/tmp/pki/collaborators/dashboard.key",
  },
  jwks: key.jwks,
};

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, navigated and checked by the assertions.
type Node = Record<string, any>;

function hcmOf(config: Node): Node {
  return config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
}

describe("Envoy test config derived from deploy/envoy/envoy.yaml", () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it("replaces only deployment values and keeps the filter chain as shipped", async () => {
    const shipped = parse(readFileSync(DEPLOYED_ENVOY_CONFIG, "utf8")) as Node;
    const generated = await deployedEnvoyTestConfig(OPTIONS);
    const config = parse(generated.yaml) as Node;
    assert.deepEqual(config.admin.address.socket_address, {
      address: "127.0.0.1",
      port_value: 40001,
    });
    const listener = config.static_resources.listeners[0];
    assert.deepEqual(listener.address.socket_address, { address: "127.0.0.1", port_value: 40002 });
    assert.deepEqual(
      listener.filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificates,
      [
        {
          certificate_chain: { filename: "/tmp/pki/server.crt" },
          private_key: { filename: "/tmp/pki/server.key" },
        },
      ],
    );
    const hcm = hcmOf(config);
    const host = hcm.route_config.virtual_hosts[0];
    assert.deepEqual(host.domains, ["127.0.0.1:40002", "localhost:40002"]);
    assert.deepEqual(
      host.typed_per_filter_config["envoy.filters.http.cors"].allow_origin_string_match,
      [{ exact: "http://127.0.0.1:40003" }],
    );
    assert.deepEqual(host.routes, hcmOf(shipped).route_config.virtual_hosts[0].routes);
    assert.deepEqual(
      hcm.http_filters.map((f: Node) => f.name),
      hcmOf(shipped).http_filters.map((f: Node) => f.name),
    );

    const provider = Object.values(
      hcm.http_filters.find((f: Node) => f.name === "envoy.filters.http.jwt_authn").typed_config
        .providers,
    )[0] as Node;
    const shippedProvider = Object.values(
      hcmOf(shipped).http_filters.find((f: Node) => f.name === "envoy.filters.http.jwt_authn")
        .typed_config.providers,
    )[0] as Node;
    assert.equal(provider.remote_jwks, undefined);
    assert.deepEqual(JSON.parse(provider.local_jwks.inline_string), key.jwks);
    assert.equal(provider.issuer, shippedProvider.issuer);
    assert.deepEqual(provider.audiences, shippedProvider.audiences);
    assert.equal(provider.forward, false);
    assert.equal(provider.require_expiration, true);
    assert.equal(generated.issuer, shippedProvider.issuer);
    assert.equal(generated.audience, shippedProvider.audiences[0]);
    assert.equal(generated.proxyUrl, "https://127.0.0.1:40002");

    const clusters = config.static_resources.clusters as Node[];
    assert.deepEqual(
      clusters.map((c) => c.name),
      ["openfl_aggregator"],
      "the JWKS cluster is gone",
    );
    const upstream = clusters[0] as Node;
    assert.deepEqual(
      upstream.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address,
      {
        address: "127.0.0.1",
        port_value: 40004,
      },
    );
    const tls = upstream.transport_socket.typed_config;
    assert.equal(tls.sni, "localhost");
    assert.deepEqual(tls.common_tls_context.validation_context.trusted_ca, {
      filename: "/tmp/pki/ca.crt",
    });
    assert.deepEqual(tls.common_tls_context.validation_context.match_typed_subject_alt_names, [
      { san_type: "DNS", matcher: { exact: "localhost" } },
    ]);
    assert.deepEqual(tls.common_tls_context.tls_certificates, [
      {
        certificate_chain: { filename: "/tmp/pki/collaborators/dashboard.crt" },
        private_key: { filename: "/tmp/pki/collaborators/dashboard.key" },
      },
    ]);
    assert.deepEqual(
      upstream.typed_extension_protocol_options,
      shipped.static_resources.clusters[0].typed_extension_protocol_options,
    );
    assert.deepEqual(config.overload_manager, shipped.overload_manager);
    assert.doesNotMatch(
      generated.yaml,
      /\/etc\/envoy|dashboard\.example\.org|aggregator\.example\.org/,
    );
  });

  it("drops listener TLS only when asked (plaintext)", async () => {
    const generated = await deployedEnvoyTestConfig({ ...OPTIONS, listenerTls: "plaintext" });
    const config = parse(generated.yaml) as Node;
    assert.equal(config.static_resources.listeners[0].filter_chains[0].transport_socket, undefined);
    assert.equal(generated.proxyUrl, "http://127.0.0.1:40002");
  });

  // Envoy's own check (envoy --mode validate): schema, extensions, and the files each config
  // names, so it runs on a real test PKI. Without .venv/bin/envoy this fails, never skips.
  describe("checked by Envoy 1.40 (envoy --mode validate)", () => {
    let pki: TestPki;
    let real: EnvoyTestConfigOptions;
    before(async () => {
      pki = await createTestPki(join(work, "pki"), { collaborators: ["dashboard"] });
      const pair = pki.collaborators.dashboard;
      assert.ok(pair);
      real = {
        ...OPTIONS,
        listenerTls: { cert: pki.server.cert, key: pki.server.key },
        aggregator: { ...OPTIONS.aggregator, caCert: pki.caCert, cert: pair.cert, key: pair.key },
      };
    });

    for (const listener of ["tls", "plaintext"] as const) {
      it(`accepts the generated test config (${listener} listener)`, async () => {
        const file = join(work, `envoy-test-${listener}.yaml`);
        const listenerTls = listener === "plaintext" ? "plaintext" : real.listenerTls;
        writeFileSync(file, (await deployedEnvoyTestConfig({ ...real, listenerTls })).yaml);
        const result = validateEnvoyConfig(file);
        assert.equal(result.ok, true, result.output);
      });
    }

    it("accepts the shipped deploy/envoy/envoy.yaml with test files at the paths it names", async () => {
      const dir = join(work, "shipped");
      const file = await shippedConfigWithTestFiles(
        readFileSync(DEPLOYED_ENVOY_CONFIG, "utf8"),
        dir,
        pki,
      );
      assert.match(
        readFileSync(file, "utf8"),
        new RegExp(`${dir}/etc/envoy/openfl/cert_chain.crt`),
      );
      const result = validateEnvoyConfig(file);
      assert.equal(result.ok, true, result.output);
    });

    it("refuses a shipped config naming an /etc/envoy/ file it cannot provide", async () => {
      const yaml =
        "admin:\n  access_log:\n    - typed_config: { path: x, filename: /etc/envoy/x.lua }\n";
      await assert.rejects(
        shippedConfigWithTestFiles(yaml, join(work, "odd"), pki),
        (error: Error) =>
          error.name === "ShippedConfigFileError" && error.message.includes("/etc/envoy/x.lua"),
      );
    });

    it("rejects a misspelt field (the check is not vacuous)", async () => {
      const file = join(work, "envoy-test-broken.yaml");
      const { yaml } = await deployedEnvoyTestConfig(real);
      writeFileSync(file, yaml.replace("local_jwks:", "local_jwk:"));
      const result = validateEnvoyConfig(file);
      assert.equal(result.ok, false);
      assert.match(result.output, /local_jwk/);
    });

    it("rejects a deprecated field (VirtualHost.cors), which Envoy itself only warns about", async () => {
      const file = join(work, "envoy-test-deprecated.yaml");
      const config = parse((await deployedEnvoyTestConfig(real)).yaml) as Node;
      const host = hcmOf(config).route_config.virtual_hosts[0];
      host.cors = { allow_origin_string_match: [{ exact: "http://127.0.0.1:40003" }] };
      writeFileSync(file, stringify(config));
      const result = validateEnvoyConfig(file);
      assert.equal(result.ok, false);
      assert.match(result.output, /VirtualHost\.cors/);
    });

    it("rejects a config whose certificate file is missing", async () => {
      const file = join(work, "envoy-test-missing-cert.yaml");
      writeFileSync(file, (await deployedEnvoyTestConfig(OPTIONS)).yaml);
      const result = validateEnvoyConfig(file);
      assert.equal(result.ok, false);
      assert.match(result.output, /\/tmp\/pki\//);
    });
  });
});

describe("test JWT signer", () => {
  it("signs ES256 tokens that verify with the published JWKS key", () => {
    const token = testAccessToken(key, "https://issuer.test", "openfl-dashboard");
    const [header, payload, signature] = token.split(".") as [string, string, string];
    assert.deepEqual(JSON.parse(Buffer.from(header, "base64url").toString()), {
      alg: "ES256",
      typ: "JWT",
      kid: key.kid,
    });
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    assert.equal(claims.iss, "https://issuer.test");
    assert.equal(claims.aud, "openfl-dashboard");
    assert.ok(claims.exp > Date.now() / 1000 + 3000);
    const publicKey = createPublicKey({ key: key.jwks.keys[0] as JsonWebKey, format: "jwk" });
    const ok = verify(
      "sha256",
      Buffer.from(`${header}.${payload}`),
      { key: publicKey, dsaEncoding: "ieee-p1363" },
      Buffer.from(signature, "base64url"),
    );
    assert.equal(ok, true);
    assert.equal(Buffer.from(signature, "base64url").length, 64);
  });

  it("produces a different signature for different claims", () => {
    const now = 1_700_000_000;
    const a = signJwt(key, { iss: "i", aud: "a", sub: "s", exp: now });
    const b = signJwt(key, { iss: "i", aud: "a", sub: "s", exp: now + 1 });
    assert.notEqual(a.split(".")[1], b.split(".")[1]);
  });
});
