// Shared fixture: a reference aggregator over real mTLS on 127.0.0.1 with a fresh test PKI,
// Node clients for its collaborators, and a record of every result the aggregator accepted
// or ignored (to check "exactly once").
import { copyFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Float32Tensor } from "@openfl-connect/core";
import { AggregatorGRPCClient, type AggregatorGRPCClientOptions } from "@openfl-connect/node";
import type {
  AggregatorLogger,
  ReferenceAggregator,
  ReferenceAggregatorOptions,
} from "@openfl-connect/reference-aggregator";
import {
  collaboratorConnection,
  createTestPki,
  type TestPki,
} from "@openfl-connect/reference-aggregator/pki";

import {
  AGGREGATOR_UUID,
  FEDERATION_UUID,
} from "@openfl-connect/test-support/federation-constants";
import {
  createFederationDir,
  startReferenceAggregator,
} from "@openfl-connect/test-support/reference-federation";

export { AGGREGATOR_UUID, FEDERATION_UUID };

/** One accepted TaskResults, as the aggregator decoded it. */
export interface Arrival {
  readonly collaborator: string;
  readonly round: number;
  readonly taskName: string;
  /** SHA-256 of each tensor's data_bytes, by tensor name. */
  readonly sha256: Readonly<Record<string, string>>;
}

export interface Federation {
  readonly dir: string;
  readonly pki: TestPki;
  readonly aggregator: ReferenceAggregator;
  readonly port: number;
  /** Every accepted result, in arrival order. */
  readonly arrivals: readonly Arrival[];
  /** Resends the aggregator ignored as duplicates of an accepted (task, collaborator, round). */
  readonly ignoredDuplicates: number;
  /** A client for `name`, talking to `port` (default the aggregator's); overrides win. */
  client(name: string, overrides?: Partial<AggregatorGRPCClientOptions>): AggregatorGRPCClient;
  /**
   * Restarts the aggregator (same port, same state) with a server certificate from a brand-new
   * CA; it still trusts the old CA for client certificates. Returns the new CA's path.
   */
  rotateServerCa(): Promise<string>;
  close(): Promise<void>;
}

export interface FederationOptions {
  readonly collaborators: readonly string[];
  readonly tasks?: readonly string[];
  readonly rounds?: number;
  readonly initialModel?: Readonly<Record<string, Float32Tensor>>;
  readonly aggregator?: Partial<ReferenceAggregatorOptions>;
}

export async function startFederation(options: FederationOptions): Promise<Federation> {
  const { dir, pki } = await createFederationDir("openfl-evidence-", options.collaborators);
  // The aggregator reads these paths on every start(); rotateServerCa() rewrites them.
  const serverTls = {
    rootCertificate: join(dir, "server-trusts.pem"),
    certificate: join(dir, "server.crt"),
    privateKey: join(dir, "server.key"),
  };
  await copyFile(pki.caCert, serverTls.rootCertificate);
  await copyFile(pki.server.cert, serverTls.certificate);
  await copyFile(pki.server.key, serverTls.privateKey);

  const arrivals: Arrival[] = [];
  let ignoredDuplicates = 0;
  const logger: AggregatorLogger = (_level, message) => {
    if (message.startsWith("already has results")) ignoredDuplicates++;
  };
  const { aggregator, port } = await startReferenceAggregator(pki, {
    authorizedCollaborators: options.collaborators,
    rounds: options.rounds ?? 1,
    tasks: options.tasks ?? ["train"],
    initialModel: options.initialModel ?? {
      "dense.weight": { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
    },
    tls: serverTls,
    tensorWaitMs: 2000,
    logger,
    ...options.aggregator,
  });
  aggregator.state.onResults((record) => {
    arrivals.push({
      collaborator: record.collaborator,
      round: record.round,
      taskName: record.taskName,
      sha256: Object.fromEntries(record.tensors.map((t) => [t.name, t.sha256])),
    });
  });
  const clients: AggregatorGRPCClient[] = [];
  let rotations = 0;
  return {
    dir,
    pki,
    aggregator,
    port,
    arrivals,
    get ignoredDuplicates() {
      return ignoredDuplicates;
    },
    client(name, overrides = {}) {
      const client = new AggregatorGRPCClient({
        ...collaboratorConnection(pki, name, {
          port,
          aggregatorUuid: AGGREGATOR_UUID,
          federationUuid: FEDERATION_UUID,
        }),
        retry: { intervalMs: 20 },
        warn: () => {},
        ...overrides,
      });
      clients.push(client);
      return client;
    },
    async rotateServerCa() {
      rotations++;
      const next = await createTestPki(join(dir, `pki-rotated-${rotations}`), {
        collaborators: [],
      });
      await aggregator.stop();
      await copyFile(next.server.cert, serverTls.certificate);
      await copyFile(next.server.key, serverTls.privateKey);
      await aggregator.start();
      return next.caCert;
    },
    async close() {
      await Promise.all(clients.map((c) => c.disconnect()));
      await aggregator.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
