// Test helper: a TCP relay between a client and the aggregator that counts the bytes going
// to the server, so a test can act (stop the aggregator, cut connections) mid-transfer.
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpRelay {
  readonly port: number;
  /** Bytes relayed towards the server so far, over all connections. */
  readonly bytesToServer: number;
  /** Destroys every relayed connection (both sides), like a network reset. */
  resetAll(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(
  targetPort: number,
  onBytesToServer: (total: number) => void = () => {},
): Promise<TcpRelay> {
  let bytesToServer = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (chunk: Buffer) => {
      bytesToServer += chunk.byteLength;
      onBytesToServer(bytesToServer);
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("relay has no port");
  return {
    port: address.port,
    get bytesToServer() {
      return bytesToServer;
    },
    resetAll() {
      for (const s of sockets) s.destroy();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
