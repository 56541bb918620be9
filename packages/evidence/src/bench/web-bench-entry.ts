// The web client's side of the browser benchmark: the same code runs in Chromium (bundled by
// esbuild into an IIFE that sets globalThis.webBench) and in Node (imported), so the two
// figures differ only by the platform. Platform-free: fetch, performance, crypto.
import { encodeNamedTensor } from "@openfl-connect/core";
import { AggregatorWebClient } from "@openfl-connect/web";

export interface WebBenchSettings {
  readonly proxyUrl: string;
  readonly token: string;
  readonly aggregatorUuid: string;
  readonly federationUuid: string;
  readonly mib: number;
  readonly reps: number;
}

/** Seconds of each rep (after one unrecorded warm-up of each direction). */
export interface WebBenchResult {
  readonly upload: number[];
  readonly download: number[];
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
  const download = async () => {
    const named = await client.getAggregatedTensor(`bench${s.mib}`, 0);
    if (named.dataBytes.byteLength !== s.mib * 1024 * 1024) {
      throw new Error(`downloaded ${named.dataBytes.byteLength} bytes, expected ${s.mib} MiB`);
    }
  };
  await upload();
  await download();
  const result = { upload: [] as number[], download: [] as number[] };
  for (let rep = 0; rep < s.reps; rep++) {
    result.upload.push(await timed(upload));
    result.download.push(await timed(download));
  }
  await client.disconnect();
  return result;
}
