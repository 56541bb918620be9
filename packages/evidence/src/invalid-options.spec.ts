// Every option of OpenFL's AggregatorGRPCClient (and ours) given a wrong type or value fails
// at construction with InvalidOptionError / CertificateLoadError naming the option.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CertificateLoadError, InvalidOptionError } from "@openfl-connect/core";
import { AggregatorGRPCClient, type AggregatorGRPCClientOptions } from "@openfl-connect/node";
import { createTestPki, type TestPki } from "@openfl-connect/reference-aggregator/pki";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "./federation.js";

describe("a wrong option fails at construction, naming the option", () => {
  let dir: string;
  let pki: TestPki;
  let otherPki: TestPki;
  let notPem: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "openfl-evidence-options-"));
    pki = await createTestPki(join(dir, "pki"), { collaborators: ["alpha"] });
    otherPki = await createTestPki(join(dir, "other"), { collaborators: ["alpha"] });
    notPem = join(dir, "not.pem");
    await writeFile(notPem, "hello");
  });

  after(() => rm(dir, { recursive: true, force: true }));

  const valid = (): AggregatorGRPCClientOptions => ({
    aggAddr: "localhost",
    aggPort: 50051,
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    collaboratorName: "alpha",
    rootCertificate: pki.caCert,
    certificate: pki.collaborators.alpha?.cert,
    privateKey: pki.collaborators.alpha?.key,
    warn: () => {},
  });

  it("the valid options construct a client (no connection is made)", () => {
    assert.ok(new AggregatorGRPCClient(valid()));
  });

  // [option as named in the error, the override, the OpenFL parameter it maps to]
  const invalid: [string, () => Record<string, unknown>, string][] = [
    ["aggAddr", () => ({ aggAddr: 42 }), "agg_addr"],
    ["aggAddr", () => ({ aggAddr: "" }), "agg_addr"],
    ["aggPort", () => ({ aggPort: "50051" }), "agg_port"],
    ["aggPort", () => ({ aggPort: 0 }), "agg_port"],
    ["aggPort", () => ({ aggPort: 70000 }), "agg_port"],
    ["aggPort", () => ({ aggPort: 1.5 }), "agg_port"],
    ["aggregatorUuid", () => ({ aggregatorUuid: 7 }), "aggregator_uuid"],
    ["aggregatorUuid", () => ({ aggregatorUuid: "" }), "aggregator_uuid"],
    ["federationUuid", () => ({ federationUuid: null }), "federation_uuid"],
    ["collaboratorName", () => ({ collaboratorName: undefined }), "collaborator_name"],
    ["collaboratorName", () => ({ collaboratorName: ["alpha"] }), "collaborator_name"],
    ["useTls", () => ({ useTls: "yes" }), "use_tls"],
    ["requireClientAuth", () => ({ requireClientAuth: 1 }), "require_client_auth"],
    [
      "singleColCertCommonName",
      () => ({ singleColCertCommonName: 3 }),
      "single_col_cert_common_name",
    ],
    [
      "refetchServerCertificate",
      () => ({ refetchServerCertificate: "/ca.crt" }),
      "refetch_server_cert_callback",
    ],
    [
      "enableAtomicConnections",
      () => ({ enableAtomicConnections: "true" }),
      "enable_atomic_connections",
    ],
    [
      "resendDataOnReconnection",
      () => ({ resendDataOnReconnection: 0 }),
      "resend_data_on_reconnection",
    ],
    ["retry", () => ({ retry: "fast" }), "-"],
    ["retry.intervalMs", () => ({ retry: { intervalMs: -1 } }), "client_reconnect_interval"],
    ["retry.intervalMs", () => ({ retry: { intervalMs: "1s" } }), "client_reconnect_interval"],
    ["retry.backoff", () => ({ retry: { backoff: "linear" } }), "-"],
    ["retry.maxAttempts", () => ({ retry: { maxAttempts: 0 } }), "-"],
    ["retry.maxElapsedMs", () => ({ retry: { maxElapsedMs: Number.NaN } }), "-"],
    ["retry.ambiguousFailureAttempts", () => ({ retry: { ambiguousFailureAttempts: 1.5 } }), "-"],
    ["retry.retryOnAnyError", () => ({ retry: { retryOnAnyError: "no" } }), "-"],
    ["retry.attemptTimeoutMs", () => ({ retry: { attemptTimeoutMs: 0 } }), "-"],
    ["uploadChunkBytes", () => ({ uploadChunkBytes: 0 }), "-"],
    ["uploadChunkBytes", () => ({ uploadChunkBytes: "2MiB" }), "-"],
    ["maxMessageBytes", () => ({ maxMessageBytes: -1 }), "-"],
    ["keepalive.pingIntervalMs", () => ({ keepalive: { pingIntervalMs: "x" } }), "-"],
    ["connectTimeoutMs", () => ({ connectTimeoutMs: 0 }), "-"],
    ["onRetry", () => ({ onRetry: 3 }), "-"],
    ["resendBuffer", () => ({ resendBuffer: {} }), "-"],
  ];
  for (const [option, override, openfl] of invalid) {
    it(`${option} = ${JSON.stringify(override()[Object.keys(override())[0] as string]) ?? "undefined"} (OpenFL: ${openfl}) -> InvalidOptionError`, () => {
      assert.throws(
        () =>
          new AggregatorGRPCClient({ ...valid(), ...override() } as AggregatorGRPCClientOptions),
        (e: unknown) =>
          e instanceof InvalidOptionError && e.option === option && e.message.includes(option),
      );
    });
  }

  // [option, what is wrong, the override]
  const badFiles: [string, string, () => Record<string, unknown>][] = [
    ["rootCertificate", "a number", () => ({ rootCertificate: 5 })],
    ["rootCertificate", "a missing file", () => ({ rootCertificate: join(dir, "missing.crt") })],
    ["rootCertificate", "a file that is not PEM", () => ({ rootCertificate: notPem })],
    ["rootCertificate", "a private key", () => ({ rootCertificate: pki.caKey })],
    ["certificate", "not given (mTLS on)", () => ({ certificate: undefined })],
    ["certificate", "a directory", () => ({ certificate: dir })],
    ["certificate", "a private key", () => ({ certificate: pki.collaborators.alpha?.key })],
    ["privateKey", "not given (mTLS on)", () => ({ privateKey: undefined })],
    ["privateKey", "a certificate", () => ({ privateKey: pki.collaborators.alpha?.cert })],
    ["privateKey", "another key", () => ({ privateKey: otherPki.collaborators.alpha?.key })],
  ];
  for (const [option, wrong, override] of badFiles) {
    it(`${option} = ${wrong} -> CertificateLoadError`, () => {
      assert.throws(
        () =>
          new AggregatorGRPCClient({ ...valid(), ...override() } as AggregatorGRPCClientOptions),
        (e: unknown) =>
          e instanceof CertificateLoadError && e.option === option && e.message.includes(option),
      );
    });
  }
});
