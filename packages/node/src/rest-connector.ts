import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { CollaboratorIdentity } from "@openfl-connect/core";
import {
  type AggregatorConnection,
  type AggregatorConnector,
  type PlatformFailure,
  requestHeader,
} from "@openfl-connect/core/internal";
import type { NodeConnectorSettings } from "./node-connector.js";
import { restTransport } from "./rest-transport.js";
import {
  classifyWithCaHint,
  tlsConnectOptions,
  withRefetchedRootCertificate,
} from "./tls-connect-options.js";

export interface RestConnectorSettings extends Omit<NodeConnectorSettings, "keepalive"> {
  /** Whose requests these are: the upload's identity headers (Sender, Receiver, ...). */
  readonly identity: CollaboratorIdentity;
}

/**
 * Opens "channels" to OpenFL's REST server (transport_protocol: rest): an HTTP agent each, over
 * TLS 1.3 (the only version OpenFL's server accepts) with the same TLS material as gRPC.
 * Closing one destroys its sockets, so calls on it fail, as on a closed gRPC channel.
 */
export class NodeRestConnector implements AggregatorConnector {
  readonly target: string;
  /** OpenFL's REST server acknowledges an upload with {"status": "success"}, no header. */
  readonly headerlessResponses: ReadonlySet<string> = new Set(["SendLocalTaskResults"]);
  #settings: RestConnectorSettings;

  constructor(settings: RestConnectorSettings) {
    this.#settings = settings;
    this.target = `${settings.host}:${settings.port}`;
  }

  /** An arrow function: core calls it unbound. */
  readonly classifyPlatformFailure = (error: unknown): PlatformFailure | undefined =>
    classifyWithCaHint(error, this.#settings.tls);

  open(): AggregatorConnection {
    const s = this.#settings;
    const agent = s.tls
      ? new HttpsAgent({
          keepAlive: true,
          ...tlsConnectOptions(s.tls, s.serverName),
          minVersion: "TLSv1.3",
        })
      : new HttpAgent({ keepAlive: true });
    const transport = restTransport({
      target: {
        host: s.host,
        port: s.port,
        agent,
        useTls: s.tls !== undefined,
        connectTimeoutMs: s.connectTimeoutMs,
      },
      maxMessageBytes: s.maxMessageBytes,
      header: requestHeader(s.identity),
    });
    return {
      transport,
      close: async () => {
        agent.destroy();
      },
    };
  }

  /** Trusts a new root CA from now on (OpenFL's refetch callback: a PEM path or PEM text). */
  useRootCertificate(rootCertificate: string): void {
    if (!this.#settings.tls) return;
    const tls = withRefetchedRootCertificate(this.#settings.tls, rootCertificate);
    this.#settings = { ...this.#settings, tls };
  }
}
