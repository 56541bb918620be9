// Benchmark (e)'s anchors next to our client, in the same client process and against the same
// sink: a plain node:http2 client (the platform's own ceiling for a download: the response read
// and counted, no gRPC parsing, no copy) and @grpc/grpc-js (what a Node user would pick instead of
// our client), each doing what our client does for the same bytes.
import { readFileSync } from "node:fs";
import { type ClientHttp2Session, connect } from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { credentials, Client as GrpcJsClient, type ServiceError } from "@grpc/grpc-js";
import { dataStreamChunks, requestHeader } from "@openfl-connect/core/internal";
import {
  DataStreamSchema,
  GetAggregatedTensorRequestSchema,
  GetAggregatedTensorResponseSchema,
  TaskResultsSchema,
} from "@openfl-connect/core/protocol";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "../federation.js";
import { trainedTensor } from "../payloads.js";

export interface AnchorTls {
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
}

const IDENTITY = {
  aggregatorUuid: AGGREGATOR_UUID,
  federationUuid: FEDERATION_UUID,
  collaboratorName: "bench",
};
const AGGREGATOR = "/openfl.aggregator.Aggregator";
/** The receive window our client opens (node-connector.ts): the anchor gets the same. */
const WINDOW = 8 * 1024 * 1024;

function downloadRequest(mib: number) {
  return create(GetAggregatedTensorRequestSchema, {
    header: requestHeader(IDENTITY),
    tensorName: `bench${mib}`,
    roundNumber: 0,
    tags: ["model"],
    requireLossless: true,
  });
}

/** The same TaskResults our client sends for one trained tensor (task "alone", 10 samples). */
function uploadMessage(bytes: Uint8Array) {
  return create(TaskResultsSchema, {
    header: requestHeader(IDENTITY),
    roundNumber: 0,
    taskName: "alone",
    dataSize: 10,
    tensors: [trainedTensor("w", 0, bytes)],
  });
}

/** A plain node:http2 session that downloads by counting the response's bytes. */
export async function plainHttp2Downloader(port: number, tls: AnchorTls) {
  const session: ClientHttp2Session = connect(`https://localhost:${port}`, {
    ca: readFileSync(tls.caCert),
    cert: readFileSync(tls.cert),
    key: readFileSync(tls.key),
    settings: { initialWindowSize: WINDOW },
  });
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => resolve());
    session.once("error", reject);
  });
  session.setLocalWindowSize(WINDOW);
  const bodies = new Map<number, Buffer>();
  const body = (mib: number) => {
    let b = bodies.get(mib);
    if (!b) {
      const message = toBinary(GetAggregatedTensorRequestSchema, downloadRequest(mib));
      b = Buffer.alloc(5 + message.byteLength);
      b.writeUInt32BE(message.byteLength, 1);
      b.set(message, 5);
      bodies.set(mib, b);
    }
    return b;
  };
  return {
    /** The response body's byte count (envelope included). */
    download(mib: number): Promise<number> {
      return new Promise((resolve, reject) => {
        const stream = session.request({
          ":method": "POST",
          ":path": `${AGGREGATOR}/GetAggregatedTensor`,
          "content-type": "application/grpc",
          te: "trailers",
        });
        let received = 0;
        stream.on("data", (chunk: Buffer) => {
          received += chunk.byteLength;
        });
        stream.once("end", () => resolve(received));
        stream.once("error", reject);
        stream.end(body(mib));
      });
    },
    close: () => session.close(),
  };
}

/** @grpc/grpc-js with protobuf-es messages: a download parsed, an upload as OpenFL's chunks. */
export function grpcJsClient(port: number, tls: AnchorTls) {
  const client = new GrpcJsClient(
    `localhost:${port}`,
    credentials.createSsl(readFileSync(tls.caCert), readFileSync(tls.key), readFileSync(tls.cert)),
    { "grpc.max_receive_message_length": -1, "grpc.max_send_message_length": -1 },
  );
  const asIs = (b: Buffer) => b;
  return {
    /** The tensor's data_bytes length, after parsing the whole response as a user would. */
    download(mib: number): Promise<number> {
      const request = Buffer.from(toBinary(GetAggregatedTensorRequestSchema, downloadRequest(mib)));
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          `${AGGREGATOR}/GetAggregatedTensor`,
          asIs,
          (b: Buffer) => fromBinary(GetAggregatedTensorResponseSchema, b),
          request,
          (error: ServiceError | null, response) => {
            if (error || !response) return reject(error ?? new Error("no response"));
            resolve(response.tensor?.dataBytes.byteLength ?? 0);
          },
        );
      });
    },
    /** Serializes the TaskResults, then streams it as 2 MiB DataStream messages (OpenFL's). */
    upload(bytes: Uint8Array): Promise<void> {
      const serialized = toBinary(TaskResultsSchema, uploadMessage(bytes));
      return new Promise((resolve, reject) => {
        const call = client.makeClientStreamRequest(
          `${AGGREGATOR}/SendLocalTaskResults`,
          asIs,
          asIs,
          (error: ServiceError | null) => (error ? reject(error) : resolve()),
        );
        for (const chunk of dataStreamChunks(serialized)) {
          call.write(Buffer.from(toBinary(DataStreamSchema, chunk)));
        }
        call.end();
      });
    },
    close: () => client.close(),
  };
}
