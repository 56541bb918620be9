import {
  AggregatorClient,
  type AggregatorClientOptions,
  InvalidOptionError,
  MAX_TIMER_MS,
} from "@openfl-connect/core";
import {
  NodeConnector,
  type NodeConnectorSettings,
  OPENFL_MAX_MESSAGE_BYTES,
} from "./node-connector.js";
import { loadTlsFiles } from "./pem-files.js";
import { NodeRestConnector } from "./rest-connector.js";
import { type CheckedTls, checkTlsMaterial, commonName, type TlsMaterial } from "./tls-material.js";

/**
 * Options of the Node client: OpenFL's AggregatorGRPCClient parameters (camelCase) plus
 * the core client's options. PEM options are file paths, read and checked at construction;
 * `tls` takes the same material as bytes instead.
 */
export interface AggregatorGRPCClientOptions extends Omit<AggregatorClientOptions, "connector"> {
  /** Aggregator host name or IP (OpenFL: agg_addr). Also the TLS server name unless `serverName` is set. */
  readonly aggAddr: string;
  /** Aggregator port (OpenFL: agg_port). */
  readonly aggPort: number;
  /** Default true (OpenFL: use_tls). False sends everything in clear text and logs a warning. */
  readonly useTls?: boolean;
  /** Present a client certificate (mTLS). Default true (OpenFL: require_client_auth). */
  readonly requireClientAuth?: boolean;
  /** CA bundle (PEM path) that signed the aggregator's certificate. Default: Node's public CAs (OpenFL: root_certificate). */
  readonly rootCertificate?: string;
  /** This collaborator's certificate (PEM path), or a chain (its certificate first, then its CAs); its CN should equal collaboratorName (OpenFL: certificate). */
  readonly certificate?: string;
  /** The certificate's private key (PEM path, unencrypted) (OpenFL: private_key). */
  readonly privateKey?: string;
  /**
   * TLS material as PEM bytes (e.g. from a secret store), instead of rootCertificate,
   * certificate and privateKey file paths. Checked the same way at construction.
   */
  readonly tls?: TlsMaterial;
  /**
   * Name the aggregator's certificate must carry, if it differs from aggAddr (a DNS name, or
   * an IP address matched against the certificate's IP SANs). Default aggAddr.
   */
  readonly serverName?: string;
  /** Largest message either way, in bytes. Default 1 GiB, like OpenFL. */
  readonly maxMessageBytes?: number;
  /**
   * HTTP/2 keepalive PINGs. Default off, like OpenFL (grpcio servers answer pings more often
   * than every 5 minutes with GOAWAY "too_many_pings"); if set, keep pingIntervalMs >= 300000.
   */
  readonly keepalive?: { readonly pingIntervalMs: number; readonly pingTimeoutMs?: number };
  /** Time to establish a connection including the TLS handshake, in ms. Default 20000 (connect-node). */
  readonly connectTimeoutMs?: number;
  /** Where warnings go (plain text, never key material). Default console.warn. */
  readonly warn?: (message: string) => void;
  /**
   * "grpc" (default), or "rest": OpenFL's REST server (the plan's
   * network.settings.transport_protocol: rest), HTTPS JSON under /experimental/v1 over TLS 1.3,
   * with the same TLS material, identity, retries and resend buffer. `keepalive` is gRPC's.
   */
  readonly transportProtocol?: "grpc" | "rest";
}

/**
 * OpenFL's collaborator-side AggregatorGRPCClient for Node: gRPC over HTTP/2 with (m)TLS, or
 * OpenFL's REST transport with `transportProtocol: "rest"` (OpenFL: AggregatorRESTClient).
 */
export class AggregatorGRPCClient extends AggregatorClient {
  constructor(options: AggregatorGRPCClientOptions) {
    super({ ...options, connector: createConnector(options) });
  }
}

/** The connector of `options.transportProtocol`: gRPC's (the default) or REST's. */
export function createConnector(
  options: AggregatorGRPCClientOptions,
): NodeConnector | NodeRestConnector {
  const protocol = (options as { transportProtocol?: unknown } | null)?.transportProtocol;
  if (protocol === undefined || protocol === "grpc") return createNodeConnector(options);
  if (protocol !== "rest") {
    throw new InvalidOptionError("transportProtocol", '"grpc" or "rest"', protocol);
  }
  if (options.keepalive !== undefined) {
    throw new InvalidOptionError(
      "keepalive",
      "no keepalive with transportProtocol \"rest\" (HTTP/2 PINGs are gRPC's; OpenFL's REST server speaks HTTP/1.1)",
      options.keepalive,
    );
  }
  const { keepalive: _, ...settings } = connectorSettings(options);
  return new NodeRestConnector({ ...settings, identity: options });
}

/** Validates the transport options, loads the PEM files and builds the gRPC connector. */
export function createNodeConnector(options: AggregatorGRPCClientOptions): NodeConnector {
  return new NodeConnector(connectorSettings(options));
}

/** The transport options checked, the PEM files loaded and checked. */
function connectorSettings(options: AggregatorGRPCClientOptions): NodeConnectorSettings {
  if (typeof options !== "object" || options === null)
    throw new InvalidOptionError("options", "an object", options);
  const o = options;
  const warn = o.warn ?? ((message: string) => console.warn(message));
  if (typeof o.aggAddr !== "string" || o.aggAddr === "") {
    throw new InvalidOptionError("aggAddr", "a host name or IP address", o.aggAddr);
  }
  // Number.isInteger is false for anything but a number.
  if (!Number.isInteger(o.aggPort) || o.aggPort < 1 || o.aggPort > 65535) {
    throw new InvalidOptionError("aggPort", "a whole number from 1 to 65535", o.aggPort);
  }
  for (const name of ["useTls", "requireClientAuth"] as const) {
    if (o[name] !== undefined && typeof o[name] !== "boolean")
      throw new InvalidOptionError(name, "a boolean", o[name]);
  }
  const maxMessageBytes = o.maxMessageBytes ?? OPENFL_MAX_MESSAGE_BYTES;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes <= 0) {
    throw new InvalidOptionError(
      "maxMessageBytes",
      "a whole number of bytes > 0",
      o.maxMessageBytes,
    );
  }
  if (
    o.keepalive !== undefined &&
    !(typeof o.keepalive?.pingIntervalMs === "number" && o.keepalive.pingIntervalMs > 0)
  ) {
    throw new InvalidOptionError(
      "keepalive.pingIntervalMs",
      "a number of ms > 0",
      o.keepalive?.pingIntervalMs,
    );
  }
  // A timer: past MAX_TIMER_MS it would fire at once. The CLI's config check says the same.
  if (
    o.connectTimeoutMs !== undefined &&
    !(
      typeof o.connectTimeoutMs === "number" &&
      o.connectTimeoutMs >= 1 &&
      o.connectTimeoutMs <= MAX_TIMER_MS
    )
  ) {
    throw new InvalidOptionError(
      "connectTimeoutMs",
      `a number of ms from 1 to ${MAX_TIMER_MS}`,
      o.connectTimeoutMs,
    );
  }
  const useTls = o.useTls ?? true;
  if (!useTls) {
    warn(
      `openfl-connect: useTls is false: talking to ${o.aggAddr}:${o.aggPort} without TLS; identity and tensors travel in clear text. Use only for local tests.`,
    );
  }
  return {
    host: o.aggAddr,
    port: o.aggPort,
    serverName: o.serverName ?? o.aggAddr,
    tls: useTls ? checkedTls(o, warn) : undefined,
    maxMessageBytes,
    keepalive: o.keepalive,
    connectTimeoutMs: o.connectTimeoutMs,
  };
}

function checkedTls(o: AggregatorGRPCClientOptions, warn: (m: string) => void): CheckedTls {
  const fileOptions = (["rootCertificate", "certificate", "privateKey"] as const).filter(
    (name) => o[name] !== undefined,
  );
  if (o.tls !== undefined && fileOptions.length > 0) {
    throw new InvalidOptionError(
      "tls",
      `either tls (PEM bytes) or the file options, not both (also given: ${fileOptions.join(", ")})`,
      o.tls,
    );
  }
  const material = o.tls ?? loadTlsFiles(o);
  const checked = checkTlsMaterial(material, {
    requireClientAuth: o.requireClientAuth ?? true,
    warn,
  });
  const id = checked.clientIdentity;
  const cn = id ? commonName(id.leaf) : undefined;
  const expectedCn = o.singleColCertCommonName || o.collaboratorName;
  if (id && cn !== undefined && cn !== expectedCn) {
    warn(
      `openfl-connect: certificate ${id.source} has CN '${cn}' but the aggregator expects '${expectedCn}'; it will answer UNAUTHENTICATED.`,
    );
  }
  return checked;
}
