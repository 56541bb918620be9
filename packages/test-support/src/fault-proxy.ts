// The one TCP relay of the test suites: between a client and the aggregator, it counts the bytes
// going to the server (so a test can act mid-transfer) and injects faults at chosen byte offsets:
// resets (RST), stalls (bytes stop flowing, the connection stays open) and corruption.
import { connect, createServer, type Server, type Socket } from "node:net";

export type Direction = "to-server" | "to-client";

/**
 * One fault. `atByte` counts bytes relayed in `direction` since the fault was armed, over
 * all connections; when it is reached the fault fires once:
 * - "reset": the bytes before the offset are relayed, then both sides get a TCP RST;
 * - "stall": the bytes before the offset are relayed, then nothing more in either direction
 *   until the client gives up on the connection;
 * - "corrupt": 16 bytes from the offset are inverted, then relaying goes on.
 */
export interface Fault {
  readonly kind: "reset" | "stall" | "corrupt";
  readonly direction: Direction;
  readonly atByte: number;
}

export interface FaultProxyOptions {
  /** Rewrites every chunk relayed (after faults), e.g. to answer garbage. Default: identity. */
  readonly transform?: (direction: Direction, chunk: Buffer) => Buffer;
  /** Told the bytes relayed towards the server so far, after each chunk. Default: nothing. */
  readonly onBytesToServer?: (total: number) => void;
}

export interface FaultProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections open now (client side). */
  readonly openConnections: number;
  /** Bytes relayed towards the server so far, over all connections. */
  readonly bytesToServer: number;
  /** Queues faults; each fires once, in order, counting from when it becomes the head. */
  arm(...faults: readonly Fault[]): void;
  /** Faults still waiting to fire. */
  readonly pending: number;
  /** Faults that fired, in order. */
  readonly fired: readonly Fault[];
  /** Drops the pending faults. */
  disarm(): void;
  /** Resets every open connection (both sides). */
  resetAll(): void;
  close(): Promise<void>;
}

interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  stalled: boolean;
}

export async function startFaultProxy(
  targetPort: number,
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  const links = new Set<Link>();
  const queue: Fault[] = [];
  const fired: Fault[] = [];
  let countedSinceArmed = 0;
  let connections = 0;
  let bytesToServer = 0;

  const destroyLink = (link: Link, reset: boolean) => {
    for (const s of [link.client, link.upstream]) {
      if (s.destroyed) continue;
      if (reset && typeof s.resetAndDestroy === "function" && s.readyState !== "opening") {
        s.resetAndDestroy();
      } else s.destroy();
    }
    links.delete(link);
  };

  /** Relays one chunk, applying the head fault when its offset falls inside the chunk. */
  const relay = (link: Link, direction: Direction, chunk: Buffer, to: Socket, from: Socket) => {
    if (link.stalled) return;
    if (direction === "to-server") {
      bytesToServer += chunk.byteLength;
      options.onBytesToServer?.(bytesToServer);
    }
    let out = chunk;
    const head = queue[0];
    if (head !== undefined && head.direction === direction) {
      const offsetInChunk = head.atByte - countedSinceArmed;
      if (offsetInChunk < chunk.byteLength) {
        const at = Math.max(0, offsetInChunk);
        queue.shift();
        fired.push(head);
        countedSinceArmed = 0;
        if (head.kind === "reset") {
          if (at > 0) to.write(chunk.subarray(0, at));
          destroyLink(link, true);
          return;
        }
        if (head.kind === "stall") {
          if (at > 0) to.write(chunk.subarray(0, at));
          link.stalled = true;
          return;
        }
        out = Buffer.from(chunk);
        for (let i = at; i < Math.min(at + 16, out.byteLength); i++) out[i] = (out[i] ?? 0) ^ 0xff;
      } else {
        countedSinceArmed += chunk.byteLength;
      }
    }
    if (options.transform) out = options.transform(direction, out);
    if (!to.write(out)) {
      from.pause();
      to.once("drain", () => from.resume());
    }
  };

  const server: Server = createServer((client) => {
    connections++;
    const upstream = connect(targetPort, "127.0.0.1");
    const link: Link = { client, upstream, stalled: false };
    links.add(link);
    client.on("data", (chunk: Buffer) => relay(link, "to-server", chunk, upstream, client));
    upstream.on("data", (chunk: Buffer) => relay(link, "to-client", chunk, client, upstream));
    for (const s of [client, upstream]) {
      s.on("error", () => destroyLink(link, false));
      s.on("close", () => destroyLink(link, false));
      s.on("end", () => {
        if (!link.stalled) (s === client ? upstream : client).end();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  return {
    port: address.port,
    get connections() {
      return connections;
    },
    get openConnections() {
      return links.size;
    },
    get bytesToServer() {
      return bytesToServer;
    },
    arm(...faults) {
      if (queue.length === 0) countedSinceArmed = 0;
      queue.push(...faults);
    },
    get pending() {
      return queue.length;
    },
    fired,
    disarm() {
      queue.length = 0;
      countedSinceArmed = 0;
    },
    resetAll() {
      for (const link of [...links]) destroyLink(link, true);
    },
    close() {
      for (const link of [...links]) destroyLink(link, false);
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
