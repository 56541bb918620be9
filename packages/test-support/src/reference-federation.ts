// Test fixture: a reference aggregator over real mTLS on 127.0.0.1 with a fresh PKI,
// and Node clients for its collaborators.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AggregatorGRPCClient, type AggregatorGRPCClientOptions } from "@openfl-connect/node";
import {
  ReferenceAggregator,
  type ReferenceAggregatorOptions,
  silentLogger,
} from "@openfl-connect/reference-aggregator";
import {
  collaboratorConnection,
  createTestPki,
  type TestPki,
} from "@openfl-connect/reference-aggregator/pki";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "./federation-constants.js";

export { AGGREGATOR_UUID, FEDERATION_UUID };

export interface TestFederation {
  readonly dir: string;
  readonly pki: TestPki;
  readonly aggregator: ReferenceAggregator;
  readonly port: number;
  /** A client for `name` with the federation's identity and certificates; overrides win. */
  client(name: string, overrides?: Partial<AggregatorGRPCClientOptions>): AggregatorGRPCClient;
  close(): Promise<void>;
}

/** A temp directory with a fresh test PKI (CA, server for localhost/127.0.0.1, collaborators). */
export async function createFederationDir(
  prefix: string,
  collaborators: readonly string[],
): Promise<{ dir: string; pki: TestPki }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const pki = await createTestPki(join(dir, "pki"), { collaborators: [...collaborators] });
  return { dir, pki };
}

/**
 * The one way the suites start a reference aggregator: the federation constants, `pki`'s
 * server certificate over mTLS, no delay on refused identities, silent. Options win.
 */
export async function startReferenceAggregator(
  pki: TestPki,
  options: Partial<ReferenceAggregatorOptions> &
    Pick<ReferenceAggregatorOptions, "authorizedCollaborators" | "initialModel">,
): Promise<{ aggregator: ReferenceAggregator; port: number }> {
  const aggregator = new ReferenceAggregator({
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    rounds: 2,
    tls: { rootCertificate: pki.caCert, certificate: pki.server.cert, privateKey: pki.server.key },
    authFailureDelayMs: [0, 0],
    logger: silentLogger,
    ...options,
  });
  const { port } = await aggregator.start();
  return { aggregator, port };
}

export async function startTestFederation(
  options: {
    collaborators?: readonly string[];
    aggregator?: Partial<ReferenceAggregatorOptions>;
  } = {},
): Promise<TestFederation> {
  const collaborators = options.collaborators ?? ["one", "two"];
  const { dir, pki } = await createFederationDir("openfl-federation-", [
    ...collaborators,
    "stranger",
  ]);
  const { aggregator, port } = await startReferenceAggregator(pki, {
    authorizedCollaborators: collaborators,
    tasks: ["train"],
    initialModel: { "dense.weight": { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) } },
    tensorWaitMs: 500,
    ...options.aggregator,
  });
  const endpoint = { port, aggregatorUuid: AGGREGATOR_UUID, federationUuid: FEDERATION_UUID };
  const clients: AggregatorGRPCClient[] = [];
  return {
    dir,
    pki,
    aggregator,
    port,
    client(name, overrides = {}) {
      const client = new AggregatorGRPCClient({
        ...collaboratorConnection(pki, name, endpoint),
        retry: { intervalMs: 50 },
        warn: () => {},
        ...overrides,
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.disconnect()));
      await aggregator.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
