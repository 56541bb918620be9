// The web client's side of the browser benchmark: the same code runs in Chromium (bundled by
// esbuild into an IIFE that sets globalThis.webBench) and in Node (imported), so the two
// figures differ only by the platform. Platform-free: fetch, performance, crypto.
import { create, toBinary } from "@bufbuild/protobuf";
import { encodeNamedTensor } from "@openfl-connect/core";
import { dataStreamChunks, requestHeader } from "@openfl-connect/core/internal";
import {
  DataStreamSchema,
  GetAggregatedTensorRequestSchema,
  TaskResultsSchema,
} from "@openfl-connect/core/protocol";
import { AggregatorWebClient } from "@openfl-connect/web";

export interface WebBenchSettings {
  readonly proxyUrl: string;
  readonly token: string;
  readonly aggregatorUuid: string;
  readonly federationUuid: string;
  readonly mib: number;
  readonly reps: number;
}

/**
 * Seconds of each rep (after one unrecorded warm-up of each direction): the web client, and the
 * anchor, a plain `fetch` moving the same request bytes through the same Envoy (the response
 * read with arrayBuffer(): no gRPC-web parsing, no message).
 */
export interface WebBenchResult {
  readonly upload: number[];
  readonly download: number[];
  readonly fetchUpload: number[];
  readonly fetchDownload: number[];
}

/** One gRPC-web request body: a single uncompressed envelope. */
function envelope(message: Uint8Array): Uint8Array<ArrayBuffer> {
  const body = new Uint8Array(5 + message.byteLength);
  new DataView(body.buffer).setUint32(1, message.byteLength);
  body.set(message, 5);
  return body;
}

export async function webBench(s: WebBenchSettings): Promise<WebBenchResult> {
  const client = new AggregatorWebClient({
    proxyUrl: s.proxyUrl,
    aggregatorUuid: s.aggregatorUuid,
    federationUuid: s.federationUuid,
    collaboratorName: "bench",
    retry: { maxAttempts: 1 },
    interceptors: [
      (next) => (request) => {
        request.header.set("authorization", `Bearer ${s.token}`);
        return next(request);
      },
    ],
  });
  const values = new Float32Array((s.mib * 1024 * 1024) / 4);
  for (let i = 0; i < values.length; i += 1024) values[i] = i;
  const tensor = encodeNamedTensor(
    { shape: [values.length], data: values },
    { name: `bench${s.mib}`, roundNumber: 0, tags: ["trained"] },
  );
  const timed = async (run: () => Promise<unknown>) => {
    const t0 = performance.now();
    await run();
    return (performance.now() - t0) / 1000;
  };
  const upload = () => client.sendLocalTaskResults(0, "train", 1, [tensor]);
  // The anchor's bodies are made once, outside the timing: the same bytes the client sends.
  const identity = { ...s, collaboratorName: "bench" };
  const results = toBinary(
    TaskResultsSchema,
    create(TaskResultsSchema, {
      header: requestHeader(identity),
      roundNumber: 0,
      taskName: "train",
      dataSize: 1,
      tensors: [tensor],
    }),
  );
  const [chunk] = [...dataStreamChunks(results, Number.POSITIVE_INFINITY)];
  const uploadBody = envelope(toBinary(DataStreamSchema, chunk ?? create(DataStreamSchema)));
  const downloadBody = envelope(
    toBinary(
      GetAggregatedTensorRequestSchema,
      create(GetAggregatedTensorRequestSchema, {
        header: requestHeader(identity),
        tensorName: `bench${s.mib}`,
      }),
    ),
  );
  const plainFetch = async (rpc: string, body: Uint8Array<ArrayBuffer>) => {
    const response = await fetch(`${s.proxyUrl}/openfl.aggregator.Aggregator/${rpc}`, {
      method: "POST",
      headers: {
        "content-type": "application/grpc-web+proto",
        "x-grpc-web": "1",
        authorization: `Bearer ${s.token}`,
      },
      body,
    });
    const bytes = await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`plain fetch of ${rpc}: HTTP ${response.status}`);
    return bytes.byteLength;
  };
  const fetchUpload = () => plainFetch("SendLocalTaskResults", uploadBody);
  const fetchDownload = async () => {
    const bytes = await plainFetch("GetAggregatedTensor", downloadBody);
    if (bytes < s.mib * 1024 * 1024) throw new Error(`plain fetch downloaded ${bytes} bytes`);
  };
  const download = async () => {
    const named = await client.getAggregatedTensor(`bench${s.mib}`, 0);
    if (named.dataBytes.byteLength !== s.mib * 1024 * 1024) {
      throw new Error(`downloaded ${named.dataBytes.byteLength} bytes, expected ${s.mib} MiB`);
    }
  };
  await upload();
  await download();
  await fetchUpload();
  await fetchDownload();
  const result = {
    upload: [] as number[],
    download: [] as number[],
    fetchUpload: [] as number[],
    fetchDownload: [] as number[],
  };
  // Which goes first alternates per rep, so that load on a shared machine falls on both alike.
  for (let rep = 0; rep < s.reps; rep++) {
    const pairs: [() => Promise<unknown>, number[], () => Promise<unknown>, number[]][] = [
      [upload, result.upload, fetchUpload, result.fetchUpload],
      [download, result.download, fetchDownload, result.fetchDownload],
    ];
    for (const [client, clientTimes, anchor, anchorTimes] of pairs) {
      if (rep % 2 === 0) {
        clientTimes.push(await timed(client));
        anchorTimes.push(await timed(anchor));
      } else {
        anchorTimes.push(await timed(anchor));
        clientTimes.push(await timed(client));
      }
    }
  }
  await client.disconnect();
  return result;
}
