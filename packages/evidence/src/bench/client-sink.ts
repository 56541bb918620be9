// Child process: the cheapest gRPC aggregator there can be, so that benchmark (e) measures the
// client alone. HTTP/2 + mTLS (same certificates as the aggregator); SendLocalTaskResults
// discards the request body and answers a canned response; GetAggregatedTensor answers a
// response serialized once at start-up holding a `bench<N>` tensor of N MiB (argv[2] = "1,16");
// Ping answers the canned header. Prints {"ready": true, "port": N}; stops on SIGTERM.
// Env BENCH_PKI_DIR: the test PKI.
import { randomFillSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { createSecureServer, type ServerHttp2Stream } from "node:http2";
import { create, type DescMessage, fromBinary, toBinary } from "@bufbuild/protobuf";
import { expectedResponseHeader } from "@openfl-connect/core/internal";
import {
  GetAggregatedTensorRequestSchema,
  GetAggregatedTensorResponseSchema,
  NamedTensorSchema,
  PingResponseSchema,
  SendLocalTaskResultsResponseSchema,
} from "@openfl-connect/core/protocol";
import { testPkiPaths } from "@openfl-connect/reference-aggregator/pki";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "../federation.js";
import { MiB } from "./bench-tasks.js";

const sizes = (process.argv[2] ?? "").split(",").filter(Boolean).map(Number);
const pki = testPkiPaths(process.env.BENCH_PKI_DIR ?? "", []);
const header = expectedResponseHeader({
  aggregatorUuid: AGGREGATOR_UUID,
  federationUuid: FEDERATION_UUID,
  collaboratorName: "bench",
});

/** One gRPC message: 1 byte of flags (0), the length (uint32 big-endian), the bytes. */
function envelope<S extends DescMessage>(schema: S, message: Parameters<typeof toBinary<S>>[1]) {
  const bytes = toBinary(schema, message);
  const out = Buffer.allocUnsafe(5 + bytes.byteLength);
  out[0] = 0;
  out.writeUInt32BE(bytes.byteLength, 1);
  out.set(bytes, 5);
  return out;
}

const ping = envelope(PingResponseSchema, create(PingResponseSchema, { header }));
const sent = envelope(
  SendLocalTaskResultsResponseSchema,
  create(SendLocalTaskResultsResponseSchema, { header }),
);
const tensors = new Map<string, Buffer>();
for (const n of sizes) {
  const data = new Uint8Array(n * MiB);
  for (let o = 0; o < data.byteLength; o += 65536) randomFillSync(data, o, 65536);
  const tensor = create(NamedTensorSchema, { name: `bench${n}`, lossless: true, dataBytes: data });
  const response = create(GetAggregatedTensorResponseSchema, { header, tensor });
  tensors.set(`bench${n}`, envelope(GetAggregatedTensorResponseSchema, response));
}

function answer(stream: ServerHttp2Stream, body: Buffer | undefined, status = 0, message = "") {
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.once("wantTrailers", () =>
    stream.sendTrailers({ "grpc-status": String(status), "grpc-message": message }),
  );
  stream.end(body);
}

// Generous windows: the sink should never be what holds an upload back.
const WINDOW = 64 * MiB;
const server = createSecureServer({
  ca: readFileSync(pki.caCert),
  cert: readFileSync(pki.server.cert),
  key: readFileSync(pki.server.key),
  requestCert: true,
  rejectUnauthorized: true,
  settings: { initialWindowSize: WINDOW },
});
server.on("session", (session) => {
  session.on("error", () => {});
  session.once("localSettings", () => session.setLocalWindowSize(WINDOW));
});
server.on("stream", (stream, headers) => {
  stream.on("error", () => {});
  const rpc = String(headers[":path"]).split("/").pop();
  if (rpc === "SendLocalTaskResults") {
    stream.on("data", () => {});
    stream.once("end", () => answer(stream, sent));
    return;
  }
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.once("end", () => {
    if (rpc === "Ping") return answer(stream, ping);
    if (rpc !== "GetAggregatedTensor") return answer(stream, undefined, 12, `no ${rpc} here`);
    const request = fromBinary(GetAggregatedTensorRequestSchema, Buffer.concat(chunks).subarray(5));
    const response = tensors.get(request.tensorName);
    if (!response) return answer(stream, undefined, 5, `no tensor ${request.tensorName}`);
    answer(stream, response);
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
