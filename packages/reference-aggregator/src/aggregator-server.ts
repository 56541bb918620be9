import { readFile } from "node:fs/promises";
import http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Aggregator } from "@openfl-connect/core/protocol";
import {
  type AggregatorServiceOptions,
  createAggregatorService,
  peerContextValues,
} from "./aggregator-service.js";
import { AggregatorState, type AggregatorStateOptions } from "./aggregator-state.js";
import { defaultLogger } from "./logger.js";

/** PEM file paths of the server's TLS identity (OpenFL: root_certificate, certificate, private_key). */
export interface ServerTlsFiles {
  /** CA that client certificates must chain to. */
  readonly rootCertificate: string;
  readonly certificate: string;
  readonly privateKey: string;
}

export interface ReferenceAggregatorOptions
  extends AggregatorStateOptions,
    AggregatorServiceOptions {
  /** Address to bind. Default "127.0.0.1" (OpenFL binds [::]). */
  readonly host?: string;
  /** Port; 0 picks a free one (read it from `start()`). Default 0. */
  readonly port?: number;
  /**
   * TLS files, read on every `start()` (so a test can rotate them and restart), or "insecure"
   * for plaintext HTTP/2 (OpenFL: use_tls=False; logs a warning).
   */
  readonly tls: ServerTlsFiles | "insecure";
  /** Demand and verify a client certificate. Default true (OpenFL: require_client_auth). */
  readonly requireClientAuth?: boolean;
}

/** 1 GiB: OpenFL's max send/receive message length. */
const MAX_MESSAGE_BYTES = 2 ** 30;

type Running = {
  readonly t: "running";
  readonly server: http2.Http2Server | http2.Http2SecureServer;
  readonly port: number;
};
type Lifecycle = { readonly t: "stopped" } | { readonly t: "starting" } | Running;

/**
 * An OpenFL-compatible aggregator over HTTP/2 (+ mutual TLS) built on connect-node.
 * The state survives `stop()`; `start()` again listens on the same port.
 */
export class ReferenceAggregator {
  readonly state: AggregatorState;
  private readonly options: ReferenceAggregatorOptions;
  private lifecycle: Lifecycle = { t: "stopped" };
  private boundPort: number;
  private connections = 0;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly sockets = new Set<Socket>();

  constructor(options: ReferenceAggregatorOptions) {
    this.options = options;
    this.state = new AggregatorState(options);
    this.boundPort = options.port ?? 0;
  }

  /** Connections accepted so far (TLS handshakes completed; TCP connections when insecure). */
  get connectionCount(): number {
    return this.connections;
  }

  /** The port last listened on (0 before the first start with port 0). */
  get port(): number {
    return this.boundPort;
  }

  /** "https://127.0.0.1:<port>" (or http:// when insecure). */
  get url(): string {
    const scheme = this.options.tls === "insecure" ? "http" : "https";
    const host = this.options.host ?? "127.0.0.1";
    return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${this.boundPort}`;
  }

  /** Starts listening. After a `stop()`, listens again on the same port. */
  async start(): Promise<{ port: number }> {
    if (this.lifecycle.t !== "stopped") throw new Error("ReferenceAggregator is already started");
    this.lifecycle = { t: "starting" };
    try {
      const server = await this.createServer();
      const port = await listen(server, this.options.host ?? "127.0.0.1", this.boundPort);
      this.boundPort = port;
      this.lifecycle = { t: "running", server, port };
      return { port };
    } catch (error) {
      this.lifecycle = { t: "stopped" };
      throw error;
    }
  }

  /** Stops listening and destroys open sessions, so in-flight calls fail and the port is free at once. */
  async stop(): Promise<void> {
    const current = this.lifecycle;
    if (current.t !== "running") return;
    this.lifecycle = { t: "stopped" };
    const closed = new Promise<void>((resolve) => current.server.close(() => resolve()));
    for (const session of this.sessions) session.destroy();
    for (const socket of this.sockets) socket.destroy();
    this.sessions.clear();
    this.sockets.clear();
    await closed;
  }

  private async createServer(): Promise<http2.Http2Server | http2.Http2SecureServer> {
    const handler = connectNodeAdapter({
      routes: (router) =>
        router.service(Aggregator, createAggregatorService(this.state, this.options)),
      contextValues: peerContextValues,
      readMaxBytes: MAX_MESSAGE_BYTES,
      writeMaxBytes: MAX_MESSAGE_BYTES,
      // Like OpenFL's server: no gRPC compression (gzip of tensors costs far more than it saves).
      acceptCompression: [],
    });
    const common = { maxSessionMemory: 1024 };
    let server: http2.Http2Server | http2.Http2SecureServer;
    if (this.options.tls === "insecure") {
      (this.options.logger ?? defaultLogger)(
        "warn",
        "serving without TLS: no encryption and no collaborator certificate checks",
      );
      server = http2.createServer(common, handler);
      server.on("connection", () => {
        this.connections++;
      });
    } else {
      const requireClientAuth = this.options.requireClientAuth ?? true;
      const [ca, cert, key] = await Promise.all([
        readFile(this.options.tls.rootCertificate),
        readFile(this.options.tls.certificate),
        readFile(this.options.tls.privateKey),
      ]);
      server = http2.createSecureServer(
        {
          ...common,
          ca,
          cert,
          key,
          requestCert: requireClientAuth,
          rejectUnauthorized: requireClientAuth,
          allowHTTP1: false,
        },
        handler,
      );
      server.on("secureConnection", () => {
        this.connections++;
      });
    }
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    server.on("session", (session: http2.ServerHttp2Session) => {
      this.sessions.add(session);
      session.once("close", () => this.sessions.delete(session));
    });
    return server;
  }
}

function listen(
  server: http2.Http2Server | http2.Http2SecureServer,
  host: string,
  port: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
