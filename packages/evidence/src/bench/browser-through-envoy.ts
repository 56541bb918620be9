// Benchmark (f): the web client through real Envoy, in Chromium and in Node, side by side.
// Envoy (the generator's config for a test input, plaintext listener on loopback) fronts
// client-sink.ts (discards uploads, serves a prebuilt N MiB tensor), so the figures are the web
// client's path (gRPC-web, one message per upload) plus Envoy, not an aggregator's cost.
// The same web-bench-entry.ts runs in both: bundled by esbuild for the page, imported in Node.
// Run: pnpm --filter @openfl-connect/evidence run bench:browser [-- --mib 64 --reps 3]
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from "@openfl-connect/test-support/chromium";
import { startEnvoy } from "@openfl-connect/test-support/envoy";
import { chromium } from "@playwright/test";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "../federation.js";
import { bundleForBrowser } from "./browser-bundle.js";
import { HERE, spawnReady, TSX } from "./child-process.js";
import { type WebBenchResult, webBench } from "./web-bench-entry.js";

const { values } = parseArgs({
  // pnpm passes a literal "--" before the script's own flags.
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { mib: { type: "string", default: "64" }, reps: { type: "string", default: "3" } },
});
const mib = Number(values.mib);
const reps = Number(values.reps);

const dir = await mkdtemp(join(tmpdir(), "openfl-browser-bench-"));
const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
try {
  const pki = await createTestPki(join(dir, "pki"), { collaborators: ["bench"] });
  const sink = await spawnReady(
    process.execPath,
    [...TSX, join(HERE, "client-sink.ts"), String(mib)],
    {
      BENCH_PKI_DIR: pki.dir,
    },
  );
  cleanups.unshift(() => sink.stop());

  const bundle = await bundleForBrowser({ entry: "web-bench-entry.ts", name: "webBench", dir });
  const page = createServer((request, response) => {
    if (request.url === "/web-bench.js") {
      response.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
      return;
    }
    response
      .writeHead(200, { "content-type": "text/html" })
      .end('<!doctype html><title>web bench</title><script src="/web-bench.js"></script>');
  });
  await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
  cleanups.unshift(() => new Promise((resolve) => page.close(resolve)));
  const origin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;

  const envoy = await startEnvoy({
    workDir: dir,
    pki,
    aggregatorPort: sink.port,
    dashboardOrigin: origin,
    listener: "plaintext",
  });
  cleanups.unshift(() => envoy.stop());
  const settings = {
    proxyUrl: envoy.proxyUrl,
    token: envoy.token({ sub: "bench-user", collaborator: "bench", upload: true }),
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    mib,
    reps,
  };

  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_FLAGS],
  });
  cleanups.unshift(() => browser.close());
  const tab = await browser.newPage();
  await tab.goto(origin);
  // In turn, so that load on this shared machine falls on both alike.
  const inChromium: WebBenchResult[] = [];
  const inNode: WebBenchResult[] = [];
  for (let round = 0; round < 2; round++) {
    inChromium.push(
      await tab.evaluate(
        (s) => (globalThis as unknown as { webBench: typeof webBench }).webBench(s),
        settings,
      ),
    );
    inNode.push(await webBench(settings));
  }
  const median = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const m = Math.floor(sorted.length / 2);
    return sorted.length % 2
      ? (sorted[m] as number)
      : ((sorted[m - 1] as number) + (sorted[m] as number)) / 2;
  };
  const show = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
  /** Issue 26: the web client within 1.5x of a plain fetch moving the same bytes, both ways. */
  const WITHIN = 1.5;
  const report = (label: string, runs: WebBenchResult[]) => {
    for (const [direction, client, anchor] of [
      ["upload", runs.flatMap((r) => r.upload), runs.flatMap((r) => r.fetchUpload)],
      ["download", runs.flatMap((r) => r.download), runs.flatMap((r) => r.fetchDownload)],
    ] as const) {
      const ratio = median(client) / median(anchor);
      console.log(
        `  ${label} ${direction}: client ${show(client)} s, plain fetch ${show(anchor)} s; medians ${median(client).toFixed(2)} / ${median(anchor).toFixed(2)} = ${ratio.toFixed(2)}x (target <= ${WITHIN}x: ${ratio <= WITHIN ? "holds" : "MISSED"})`,
      );
    }
  };
  console.log(
    `${mib} MiB through Envoy (plaintext listener, loopback), ${reps * 2} reps each, in turn:`,
  );
  report("web client in Chromium", inChromium);
  report("web client in Node    ", inNode);
} finally {
  for (const cleanup of cleanups) await cleanup().catch(() => {});
}
