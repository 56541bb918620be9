// Envoy's own check (`envoy --mode validate`, .venv/bin/envoy from scripts/setup-python.sh) of the
// shipped deploy/envoy/envoy.yaml and of the generator's output for a test input, plus the test
// JWT signer. Without Envoy these fail, never skip.
import assert from "node:assert/strict";
import { createPublicKey, type JsonWebKey, verify } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type EnvoyInput,
  envoyConfigObject,
  generateEnvoyConfig,
} from "@openfl-connect/envoy-config";
import { createTestPki, type TestPki } from "@openfl-connect/reference-aggregator";
import { stringify } from "yaml";
import { validateEnvoyConfig } from "./envoy-binary.js";
import { shippedConfigWithTestFiles } from "./shipped-config-files.js";
import {
  DEPLOYED_ENVOY_CONFIG,
  deployedEnvoyInput,
  type TestEnvoyInputOptions,
  testEnvoyInput,
} from "./test-envoy-input.js";
import { createTestJwtKey, signJwt } from "./test-jwt.js";

const work = mkdtempSync(join(tmpdir(), "envoy-validate-spec-"));
const key = createTestJwtKey();

// biome-ignore lint/suspicious/noExplicitAny: a generated config, navigated by the assertions.
type Node = Record<string, any>;

describe("envoy --mode validate", () => {
  let pki: TestPki;
  let shipped: EnvoyInput;
  let options: TestEnvoyInputOptions;
  before(async () => {
    pki = await createTestPki(join(work, "pki"), { collaborators: ["alice", "bob"] });
    shipped = await deployedEnvoyInput();
    const pair = (name: string) => {
      const found = pki.collaborators[name];
      assert.ok(found);
      return { name, claim: name, cert: found.cert, key: found.key };
    };
    options = {
      adminSocket: join(work, "envoy-admin.sock"),
      listenerPort: 40002,
      healthPort: 40005,
      interopClaim: "openfl_interop",
      listenerTls: { cert: pki.server.cert, key: pki.server.key },
      dashboardOrigin: "http://127.0.0.1:40003",
      aggregator: { port: 40004, caCert: pki.caCert },
      collaborators: [pair("alice"), pair("bob")],
      jwks: key.jwks,
    };
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const write = (name: string, text: string) => {
    const file = join(work, name);
    writeFileSync(file, text);
    return file;
  };

  for (const listener of ["tls", "plaintext"] as const) {
    it(`accepts the generator's output for a test input (${listener} listener)`, () => {
      const input = testEnvoyInput(shipped, {
        ...options,
        ...(listener === "plaintext" ? { listenerTls: "plaintext" as const } : {}),
      });
      const result = validateEnvoyConfig(
        write(`test-${listener}.yaml`, generateEnvoyConfig(input, "test")),
      );
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
    assert.match(readFileSync(file, "utf8"), new RegExp(`${dir}/etc/envoy/openfl/cert_chain.crt`));
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

  it("rejects a misspelt field (the check is not vacuous)", () => {
    const yaml = generateEnvoyConfig(testEnvoyInput(shipped, options), "test");
    const result = validateEnvoyConfig(
      write("broken.yaml", yaml.replace("local_jwks:", "local_jwk:")),
    );
    assert.equal(result.ok, false);
    assert.match(result.output, /local_jwk/);
  });

  it("rejects a deprecated field (VirtualHost.cors), which Envoy itself only warns about", () => {
    const config = envoyConfigObject(testEnvoyInput(shipped, options)) as Node;
    const host =
      config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config
        .virtual_hosts[0];
    host.cors = { allow_origin_string_match: [{ exact: "http://127.0.0.1:40003" }] };
    const result = validateEnvoyConfig(write("deprecated.yaml", stringify(config)));
    assert.equal(result.ok, false);
    assert.match(result.output, /VirtualHost\.cors/);
  });

  it("rejects a config whose certificate file is missing", () => {
    const input = testEnvoyInput(shipped, {
      ...options,
      aggregator: { ...options.aggregator, caCert: "/nonexistent/ca.crt" },
    });
    const result = validateEnvoyConfig(
      write("missing-cert.yaml", generateEnvoyConfig(input, "test")),
    );
    assert.equal(result.ok, false);
    assert.match(result.output, /\/nonexistent\/ca\.crt/);
  });
});

describe("test JWT signer", () => {
  it("signs ES256 tokens that verify with the published JWKS key", () => {
    const token = signJwt(key, {
      iss: "https://issuer.test",
      aud: "openfl-dashboard",
      sub: "u",
      exp: 2_000_000_000,
    });
    const [header, payload, signature] = token.split(".") as [string, string, string];
    assert.deepEqual(JSON.parse(Buffer.from(header, "base64url").toString()), {
      alg: "ES256",
      typ: "JWT",
      kid: key.kid,
    });
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    assert.equal(claims.iss, "https://issuer.test");
    assert.equal(claims.aud, "openfl-dashboard");
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
