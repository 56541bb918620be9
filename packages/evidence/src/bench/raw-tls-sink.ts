// Child process: a raw TLS server (Node `tls`, same certificates and mTLS as the aggregator) to
// measure the practical limit. A request is 9 bytes: 'u' or 'd' + u64 length. 'u': reads that many
// bytes, then answers 1 byte. 'd': writes that many bytes. Prints {"ready": true, "port": N}.
import { readFileSync } from "node:fs";
import { createServer } from "node:tls";
import { testPkiPaths } from "@openfl-connect/reference-aggregator/pki";

const pki = testPkiPaths(process.env.BENCH_PKI_DIR ?? "", []);
const block = Buffer.alloc(1024 * 1024, 7);
const server = createServer(
  {
    ca: readFileSync(pki.caCert),
    cert: readFileSync(pki.server.cert),
    key: readFileSync(pki.server.key),
    requestCert: true,
    rejectUnauthorized: true,
  },
  (socket) => {
    let header = Buffer.alloc(0);
    let remaining = -1;
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      let data = chunk;
      if (remaining < 0) {
        header = Buffer.concat([header, data]);
        if (header.byteLength < 9) return;
        const op = String.fromCharCode(header[0] ?? 0);
        const length = Number(header.readBigUInt64BE(1));
        data = header.subarray(9);
        header = Buffer.alloc(0);
        if (op === "d") {
          void (async () => {
            for (let sent = 0; sent < length; sent += block.byteLength) {
              const piece = block.subarray(0, Math.min(block.byteLength, length - sent));
              if (!socket.write(piece)) await new Promise((r) => socket.once("drain", r));
            }
          })();
          return;
        }
        remaining = length;
      }
      remaining -= data.byteLength;
      if (remaining <= 0) {
        remaining = -1;
        socket.write(Buffer.of(1));
      }
    });
  },
);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
