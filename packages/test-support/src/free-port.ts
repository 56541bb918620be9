// A TCP port on 127.0.0.1 that was free a moment ago, for a child process (Envoy) that needs its
// port written into its config before it starts. Another process may take it in between; the
// child then fails to bind and says so.
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
