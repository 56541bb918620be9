// Shared fixtures for this package's specs: a temp PKI, a started aggregator, raw clients.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { encodeNamedTensor, type NamedTensor } from "@openfl-connect/core";
import { dataStreamChunks } from "@openfl-connect/core/internal";
import {
  Aggregator,
  DataStreamSchema,
  type MessageHeader,
  MessageHeaderSchema,
  TaskResultsSchema,
} from "@openfl-connect/core/protocol";
import {
  AGGREGATOR_UUID,
  FEDERATION_UUID,
} from "@openfl-connect/test-support/federation-constants";
import type { ReferenceAggregatorOptions } from "./aggregator-server.js";
import { silentLogger } from "./logger.js";
import { type CertificatePair, createTestPki, type TestPki } from "./pki.js";

export { AGGREGATOR_UUID, FEDERATION_UUID };

export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "openfl-ref-agg-"));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function makeTempPki(collaborators: readonly string[]): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), "openfl-ref-agg-pki-"));
  return createTestPki(dir, { collaborators });
}

export function startOptions(
  pki: TestPki,
  overrides: Partial<ReferenceAggregatorOptions> = {},
): ReferenceAggregatorOptions {
  return {
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    authorizedCollaborators: ["alice", "bob"],
    rounds: 2,
    initialModel: { w: { shape: [2], data: Float32Array.from([0, 0]) } },
    tensorWaitMs: 200,
    authFailureDelayMs: [0, 0],
    logger: silentLogger,
    tls: { rootCertificate: pki.caCert, certificate: pki.server.cert, privateKey: pki.server.key },
    ...overrides,
  };
}

export interface TestClient {
  readonly client: Client<typeof Aggregator>;
  readonly close: () => void;
}

/** A raw connect-node gRPC client over HTTP/2 with mutual TLS. */
export async function connectClient(
  url: string,
  caCert: string,
  identity: CertificatePair,
): Promise<TestClient> {
  const [ca, cert, key] = await Promise.all([
    readFile(caCert),
    readFile(identity.cert),
    readFile(identity.key),
  ]);
  const nodeOptions = { ca, cert, key };
  const sessionManager = new Http2SessionManager(url, {}, nodeOptions);
  const transport = createGrpcTransport({
    baseUrl: url,
    nodeOptions,
    sessionManager,
  });
  return { client: createClient(Aggregator, transport), close: () => sessionManager.abort() };
}

export function header(
  sender: string,
  overrides: Partial<Pick<MessageHeader, "receiver" | "federationUuid">> = {},
): MessageHeader {
  return create(MessageHeaderSchema, {
    sender,
    receiver: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    singleColCertCommonName: "",
    ...overrides,
  });
}

export interface ResultsInput {
  readonly sender: string;
  readonly round: number;
  readonly taskName: string;
  readonly dataSize: number;
  readonly tensors: readonly NamedTensor[];
}

/** Serializes TaskResults and sends it as OpenFL does: 2 MiB DataStream chunks. */
export async function sendResults(client: Client<typeof Aggregator>, input: ResultsInput) {
  const bytes = toBinary(
    TaskResultsSchema,
    create(TaskResultsSchema, {
      header: header(input.sender),
      roundNumber: input.round,
      taskName: input.taskName,
      dataSize: input.dataSize,
      tensors: [...input.tensors],
    }),
  );
  return client.sendLocalTaskResults(chunksOf(bytes));
}

async function* chunksOf(bytes: Uint8Array) {
  yield* dataStreamChunks(bytes);
}

export async function* emptyStream() {
  yield create(DataStreamSchema, { size: 0, npbytes: new Uint8Array(0) });
}

export function trained(name: string, round: number, values: readonly number[]): NamedTensor {
  return encodeNamedTensor(
    { shape: [values.length], data: values },
    { name, roundNumber: round, tags: ["trained"] },
  );
}

/** A reported 0-d metric tagged "metric" plus `extraTags` (e.g. "validate_agg"). */
export function metric(
  name: string,
  round: number,
  value: number,
  extraTags: readonly string[] = [],
): NamedTensor {
  return encodeNamedTensor(
    { shape: [], data: [value] },
    { name, roundNumber: round, tags: ["metric", ...extraTags], report: true },
  );
}
