import type { Http2Session } from "node:http2";
import { isIPv6 } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import type { Transport } from "@connectrpc/connect";
import { type UniversalClientFn, validateReadWriteMaxBytes } from "@connectrpc/connect/protocol";
import { createTransport } from "@connectrpc/connect/protocol-grpc";
import {
  createNodeHttpClient,
  Http2SessionManager,
  type NodeHttpClientOptions,
} from "@connectrpc/connect-node";
import {
  type AggregatorConnection,
  type AggregatorConnector,
  type PlatformFailure,
  wholeEnvelopes,
} from "@openfl-connect/core/internal";
import { dataStreamUploads } from "./datastream-upload.js";
import { diagnoseReset } from "./reset-diagnosis.js";
import {
  classifyWithCaHint,
  tlsConnectOptions,
  withRefetchedRootCertificate,
} from "./tls-connect-options.js";
import type { CheckedTls } from "./tls-material.js";
import { unaryCall } from "./unary-call.js";

/** OpenFL's gRPC message limit, both ways: 1 GiB. */
export const OPENFL_MAX_MESSAGE_BYTES = 1024 * 1024 * 1024;

export interface NodeConnectorSettings {
  /** Aggregator host name or IP address (OpenFL: agg_addr). */
  readonly host: string;
  readonly port: number;
  /** The name the aggregator's certificate must carry (a DNS or IP SAN); default `host`. */
  readonly serverName: string;
  /** Checked TLS material; undefined for clear-text h2c (useTls: false). */
  readonly tls: CheckedTls | undefined;
  readonly maxMessageBytes: number;
  readonly keepalive:
    | { readonly pingIntervalMs: number; readonly pingTimeoutMs?: number }
    | undefined;
  readonly connectTimeoutMs: number | undefined;
}

/** What connect-node's HTTP/2 client asks of a session manager (its type is not exported). */
type NodeHttp2ClientSessionManager = ReturnType<
  NonNullable<Extract<NodeHttpClientOptions, { httpVersion: "2" }>["sessionProvider"]>
>;

/**
 * HTTP/2 receive window of each stream and of the connection. Node's default (64 KiB, the
 * protocol's) makes a large download wait for a WINDOW_UPDATE every few dozen KiB.
 */
const RECEIVE_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * The session manager, with the connection's receive window raised on each new session (Node
 * has no connect option for it; a stream's window is a SETTINGS value, set above).
 */
function withReceiveWindow(manager: Http2SessionManager): NodeHttp2ClientSessionManager {
  const raised = new WeakSet<Http2Session>();
  return {
    authority: manager.authority,
    notifyResponseByteRead: (stream) => manager.notifyResponseByteRead(stream),
    async request(method, path, headers, options) {
      const stream = await manager.request(method, path, headers, options);
      const session = stream.session;
      if (session && !raised.has(session)) {
        raised.add(session);
        session.setLocalWindowSize(RECEIVE_WINDOW_BYTES);
      }
      return stream;
    },
  };
}

/** Opens gRPC channels (HTTP/2 sessions) for the core client. One job: build transports. */
export class NodeConnector implements AggregatorConnector {
  readonly target: string;
  #settings: NodeConnectorSettings;

  constructor(settings: NodeConnectorSettings) {
    this.#settings = settings;
    this.target = `${hostInUrl(settings.host)}:${settings.port}`;
  }

  /**
   * Node's reading of a failure, with the CA bundle's hint when the chain did not verify. An
   * arrow function: core calls it unbound.
   */
  readonly classifyPlatformFailure = (error: unknown): PlatformFailure | undefined =>
    classifyWithCaHint(error, this.#settings.tls);

  open(): AggregatorConnection {
    const s = this.#settings;
    const baseUrl = `${s.tls ? "https" : "http"}://${this.target}`;
    const tlsOptions = this.#tlsOptions();
    const sessionManager = new Http2SessionManager(
      baseUrl,
      {
        // No keepalive PINGs unless asked: grpcio servers answer a client that pings more
        // often than every 5 minutes with GOAWAY "too_many_pings".
        ...(s.keepalive ?? {}),
        ...(s.connectTimeoutMs !== undefined ? { connectTimeoutMs: s.connectTimeoutMs } : {}),
      },
      {
        settings: { initialWindowSize: RECEIVE_WINDOW_BYTES },
        // Our own TLS socket: http2.connect would send an IP address as the TLS server name
        // (SNI), which RFC 6066 forbids and Node warns about (DEP0123).
        ...(tlsOptions
          ? { createConnection: () => tlsConnect({ ...tlsOptions, host: s.host, port: s.port }) }
          : {}),
      },
    );
    const sessions = withReceiveWindow(sessionManager);
    const http2 = createNodeHttpClient({ httpVersion: "2", sessionProvider: () => sessions });
    const transport = grpcTransport(baseUrl, http2, s.maxMessageBytes);
    return {
      transport,
      close: async () => {
        sessionManager.abort();
      },
    };
  }

  /** Probes the aggregator when calls end in unexplained resets (see `diagnoseReset`). */
  diagnoseReset(signal?: AbortSignal): Promise<PlatformFailure | undefined> {
    const s = this.#settings;
    return diagnoseReset(
      {
        host: s.host,
        port: s.port,
        target: this.target,
        tls: this.#tlsOptions(),
        clientIdentity: s.tls?.clientIdentity,
      },
      signal,
    );
  }

  /**
   * Trusts a new root CA from now on: what OpenFL's refetch callback returns, a PEM file
   * path or PEM text.
   */
  useRootCertificate(rootCertificate: string): void {
    if (!this.#settings.tls) return;
    const tls = withRefetchedRootCertificate(this.#settings.tls, rootCertificate);
    this.#settings = { ...this.#settings, tls };
  }

  /** Options for tls.connect; undefined for clear text. */
  #tlsOptions(): ConnectionOptions | undefined {
    const { tls, serverName } = this.#settings;
    if (!tls) return undefined;
    return { ALPNProtocols: ["h2"], ...tlsConnectOptions(tls, serverName) };
  }
}

/** A host as a URL (and a message) writes it: an IPv6 address in brackets. */
function hostInUrl(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

/**
 * connect-node's gRPC transport (what `createGrpcTransport` builds), assembled from connect's
 * protocol building blocks around `http2` (connect-node's HTTP/2 client) for three reasons:
 * - a streaming call's response body reaches connect's envelope decoder one whole message per
 *   chunk (`wholeEnvelopes`): its decoder is quadratic in the chunks of one message (256 MiB: ~9 s
 *   instead of ~3 s). Drop this once connect-es decodes in linear time
 *   (docs/connect-envelope-decoder.md);
 * - uploads go out as framing plus views of the tensors' bytes (`dataStreamUploads`);
 * - unary responses (a downloaded tensor) are copied once, not twice (`unaryCall`).
 */
export function grpcTransport(
  baseUrl: string,
  http2: UniversalClientFn,
  maxMessageBytes: number,
): Transport {
  const uploads = dataStreamUploads(http2, maxMessageBytes);
  const httpClient: UniversalClientFn = async (request) => {
    const response = await uploads.httpClient(request);
    return { ...response, body: wholeEnvelopes(response.body, maxMessageBytes) };
  };
  const connectTransport = createTransport({
    baseUrl,
    httpClient,
    useBinaryFormat: true,
    interceptors: [uploads.interceptor],
    // OpenFL uses no gRPC compression. Advertising gzip would let a Connect server gzip
    // every tensor (measured: a 16 MiB download 4x slower).
    acceptCompression: [],
    sendCompression: null,
    ...validateReadWriteMaxBytes(maxMessageBytes, maxMessageBytes, undefined),
  });
  return {
    unary: unaryCall(baseUrl, http2, maxMessageBytes),
    stream: (...args) => connectTransport.stream(...args),
  };
}
