import type { SecureClientSessionOptions } from "node:http2";
import type { Transport } from "@connectrpc/connect";
import { type UniversalClientFn, validateReadWriteMaxBytes } from "@connectrpc/connect/protocol";
import { createTransport } from "@connectrpc/connect/protocol-grpc";
import { createNodeHttpClient, Http2SessionManager } from "@connectrpc/connect-node";
import {
  type AggregatorConnection,
  type AggregatorConnector,
  wholeEnvelopes,
} from "@openfl-connect/core/internal";
import { classifyNodeFailure } from "./node-failure.js";
import { loadCertificates } from "./pem-files.js";

/** OpenFL's gRPC message limit, both ways: 1 GiB. */
export const OPENFL_MAX_MESSAGE_BYTES = 1024 * 1024 * 1024;

export interface NodeConnectorSettings {
  readonly baseUrl: string;
  readonly target: string;
  /** TLS material for http2.connect; undefined for plaintext h2c. */
  readonly tls: SecureClientSessionOptions | undefined;
  readonly maxMessageBytes: number;
  readonly keepalive:
    | { readonly pingIntervalMs: number; readonly pingTimeoutMs?: number }
    | undefined;
  readonly connectTimeoutMs: number | undefined;
}

/** Opens gRPC channels (HTTP/2 sessions) for the core client. One job: build transports. */
export class NodeConnector implements AggregatorConnector {
  readonly target: string;
  readonly classifyPlatformFailure = classifyNodeFailure;
  #settings: NodeConnectorSettings;

  constructor(settings: NodeConnectorSettings) {
    this.#settings = settings;
    this.target = settings.target;
  }

  open(): AggregatorConnection {
    const s = this.#settings;
    const sessionManager = new Http2SessionManager(
      s.baseUrl,
      {
        // No keepalive PINGs unless asked: grpcio servers answer a client that pings more
        // often than every 5 minutes with GOAWAY "too_many_pings".
        ...(s.keepalive ?? {}),
        ...(s.connectTimeoutMs !== undefined ? { connectTimeoutMs: s.connectTimeoutMs } : {}),
      },
      s.tls ?? {},
    );
    const transport = grpcTransport(s.baseUrl, sessionManager, s.maxMessageBytes);
    return {
      transport,
      close: async () => {
        sessionManager.abort();
      },
    };
  }

  /** Trusts a new root CA (a PEM file path, as OpenFL's refetch callback returns) from now on. */
  useRootCertificate(rootCertificate: string): void {
    if (!this.#settings.tls) return;
    const ca = loadCertificates("rootCertificate (refetched)", rootCertificate).pem;
    this.#settings = { ...this.#settings, tls: { ...this.#settings.tls, ca } };
  }
}

/**
 * connect-node's gRPC transport (what `createGrpcTransport` builds), assembled from connect's
 * protocol building blocks so the response body reaches connect's envelope decoder one whole
 * message per chunk (`wholeEnvelopes`): its decoder is quadratic in the chunks of one message
 * (256 MiB: ~9 s instead of ~3 s). Drop this for `createGrpcTransport` once connect-es decodes
 * in linear time (docs/connect-envelope-decoder.md).
 */
function grpcTransport(
  baseUrl: string,
  sessionManager: Http2SessionManager,
  maxMessageBytes: number,
): Transport {
  const http2 = createNodeHttpClient({ httpVersion: "2", sessionProvider: () => sessionManager });
  const httpClient: UniversalClientFn = async (request) => {
    const response = await http2(request);
    return { ...response, body: wholeEnvelopes(response.body, maxMessageBytes) };
  };
  return createTransport({
    baseUrl,
    httpClient,
    useBinaryFormat: true,
    interceptors: [],
    // OpenFL uses no gRPC compression. Advertising gzip would let a Connect server gzip
    // every tensor (measured: a 16 MiB download 4x slower).
    acceptCompression: [],
    sendCompression: null,
    ...validateReadWriteMaxBytes(maxMessageBytes, maxMessageBytes, undefined),
  });
}
