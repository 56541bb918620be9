// The packed libraries, installed with npm into an empty project, against the workspace: the same
// plain-JS download benchmark (download-bench.mjs) from OpenFL's real server, alternating, side
// by side in one run. Reports the timings; fails only when a download fails. See
// scripts/bench-packed.sh. Flags: --mib N (default 64), --reps N (default 2).
import { execFileSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestPki } from "@openfl-connect/reference-aggregator/pki";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "../federation.js";
import { HERE, REPO_ROOT, runJsonLines, TSX } from "./child-process.js";
import { startOpenFLBenchServer } from "./openfl-bench-server.js";

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const mib = flag("--mib", 64);
const reps = flag("--reps", 2);

const dir = await mkdtemp(join(tmpdir(), "openfl-packed-bench-"));
try {
  const pki = await createTestPki(join(dir, "pki"), { collaborators: ["bench"] });
  const pair = pki.collaborators.bench;
  if (pair === undefined) throw new Error("no bench certificate");

  // npm test packs once (scripts/test-all.sh sets PACKED_LIBRARIES_DIR); alone, pack here.
  const tarballs = process.env.PACKED_LIBRARIES_DIR || join(dir, "tarballs");
  if (!process.env.PACKED_LIBRARIES_DIR) {
    execFileSync("bash", [join(REPO_ROOT, "scripts/pack-libraries.sh"), tarballs], {
      stdio: ["ignore", "ignore", "inherit"],
    });
  }
  const app = join(dir, "app");
  await mkdir(app);
  await writeFile(
    join(app, "package.json"),
    '{ "name": "bench", "private": true, "type": "module" }',
  );
  const packed = (await readdir(tarballs))
    .filter((f) => f.endsWith(".tgz"))
    .map((f) => join(tarballs, f));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...packed], {
    cwd: app,
    stdio: ["ignore", "ignore", "inherit"],
  });
  await copyFile(join(HERE, "download-bench.mjs"), join(app, "download-bench.mjs"));

  const server = await startOpenFLBenchServer(pki, join(dir, "records"), [mib]);
  const job = JSON.stringify({
    port: server.port,
    caCert: pki.caCert,
    cert: pair.cert,
    key: pair.key,
    collaborator: "bench",
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    mib,
    reps: 1,
  });
  const seconds: Record<"packed" | "workspace", number[]> = { packed: [], workspace: [] };
  try {
    for (let r = 0; r < reps; r++) {
      for (const [what, args] of [
        ["packed", [join(app, "download-bench.mjs"), job]],
        ["workspace", [...TSX, join(HERE, "download-bench.mjs"), job]],
      ] as const) {
        const rows = await runJsonLines(process.execPath, args);
        seconds[what].push(...rows.map((row) => Number(row.seconds)));
      }
    }
  } finally {
    await server.stop();
  }
  const show = (s: number[]) => s.map((v) => `${v.toFixed(2)} s`).join(", ");
  console.log(`${mib} MiB download from OpenFL's real server (${reps} each, alternating):`);
  console.log(`  packed libraries installed with npm (stock connect): ${show(seconds.packed)}`);
  console.log(`  workspace:                                           ${show(seconds.workspace)}`);
  const ratio = Math.min(...seconds.packed) / Math.min(...seconds.workspace);
  console.log(`  best packed / best workspace: ${ratio.toFixed(2)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
