// Profiles the reference aggregator (server side) while a Node client uploads or downloads N MiB,
// and compares two builds of it side by side. Usage (from packages/evidence):
//   node --import tsx src/bench/profile-aggregator.ts [--mib 256] [--reps 2] [--ops upload,download]
//     [--profile] [--profile-client] [--variants NAME=MODULE,...]
// Each variant is a module exporting ReferenceAggregator (default: the workspace package); runs
// alternate between variants, one fresh aggregator process per (variant, op, rep). With --profile
// the aggregator's CPU profile (V8 sampling profiler, as `node --cpu-prof`, but from "ready" to the
// end, so start-up is left out) is taken and its top frames are printed.
// Internal: `serve MODULE MIB` runs the aggregator child.
import { randomFillSync } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { AGGREGATOR_UUID, FEDERATION_UUID } from "../federation.js";
import type { BenchClientJob } from "./bench-client.js";
import { benchTasks, MiB } from "./bench-tasks.js";
import { HERE, runJsonLines, spawnReady, TSX } from "./child-process.js";
import { topFrames } from "./cpu-profile.js";
import { peakRssMiB } from "./proc-status.js";

const DEFAULT_MODULE = "@openfl-connect/reference-aggregator";

if (process.argv[2] === "serve") {
  const [, , , moduleName = DEFAULT_MODULE, mibArg = "1"] = process.argv;
  const mib = Number(mibArg);
  const { ReferenceAggregator, silentLogger } = (await import(
    moduleName
  )) as typeof import("@openfl-connect/reference-aggregator");
  const { testPkiPaths } = await import("@openfl-connect/reference-aggregator/pki");
  const pki = testPkiPaths(process.env.BENCH_PKI_DIR ?? "", []);
  const data = new Float32Array((mib * MiB) / 4);
  randomFillSync(new Uint32Array(data.buffer));
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) data[i] = 0;
  const aggregator = new ReferenceAggregator({
    aggregatorUuid: AGGREGATOR_UUID,
    federationUuid: FEDERATION_UUID,
    authorizedCollaborators: ["bench"],
    rounds: 1,
    tasks: benchTasks(),
    initialModel: { [`bench${mib}`]: { shape: [data.length], data } },
    tls: { rootCertificate: pki.caCert, certificate: pki.server.cert, privateKey: pki.server.key },
    authFailureDelayMs: [0, 0],
    logger: silentLogger,
  });
  const { port } = await aggregator.start();
  // Profiles only the serving (not start-up): CPU profiler on from "ready" to SIGTERM.
  const profileFile = process.env.BENCH_CPU_PROFILE;
  const session = profileFile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 1000 });
    await session.post("Profiler.start");
  }
  process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
  process.on("SIGTERM", async () => {
    if (session && profileFile) {
      const { profile } = await session.post("Profiler.stop");
      await mkdir(dirname(profileFile), { recursive: true });
      await writeFile(profileFile, JSON.stringify(profile));
    }
    process.stderr.write(`${JSON.stringify({ aggregatorPeakRssMiB: peakRssMiB() })}\n`);
    await aggregator.stop();
    process.exit(0);
  });
} else {
  const argv = process.argv.slice(2);
  const flag = (name: string, fallback: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? (argv[i + 1] ?? fallback) : fallback;
  };
  const mib = Number(flag("--mib", "256"));
  const reps = Number(flag("--reps", "2"));
  const ops = flag("--ops", "upload,download").split(",") as ("upload" | "download")[];
  const profile = argv.includes("--profile");
  const profileClient = argv.includes("--profile-client");
  const variants = flag("--variants", `current=${DEFAULT_MODULE}`)
    .split(",")
    .map((v) => {
      const [name = "", module = DEFAULT_MODULE] = v.split("=");
      return { name, module };
    });
  const { createTestPki } = await import("@openfl-connect/reference-aggregator/pki");
  const dir = await mkdtemp(join(tmpdir(), "openfl-aggprof-"));
  const pkiDir = join(dir, "pki");
  await createTestPki(pkiDir, { collaborators: ["bench"] });
  const results: { variant: string; op: string; seconds: number; peak: number }[] = [];
  let n = 0;
  for (let r = 0; r < reps; r++) {
    for (const op of ops) {
      for (const v of variants) {
        const profDir = join(dir, `prof${n++}`);
        const server = await spawnReady(
          process.execPath,
          [...TSX, join(HERE, "profile-aggregator.ts"), "serve", v.module, String(mib)],
          {
            BENCH_PKI_DIR: pkiDir,
            ...(profile ? { BENCH_CPU_PROFILE: join(profDir, "aggregator.cpuprofile") } : {}),
          },
        );
        const job: BenchClientJob = {
          op,
          port: server.port,
          pkiDir,
          collaborator: "bench",
          sizes: [mib],
          reps: 1,
          taskPrefix: "node2m",
        };
        let seconds = Number.NaN;
        try {
          const [row] = await runJsonLines(process.execPath, [
            ...(profileClient ? ["--cpu-prof", `--cpu-prof-dir=${profDir}-client`] : []),
            ...TSX,
            join(HERE, "bench-client.ts"),
            JSON.stringify(job),
          ]);
          seconds = Number(row?.seconds);
        } finally {
          await server.stop();
        }
        const peak = Number(
          (/"aggregatorPeakRssMiB":([\d.]+)/.exec(server.stderr()) ?? [])[1] ?? Number.NaN,
        );
        results.push({ variant: v.name, op, seconds, peak });
        process.stdout.write(
          `${v.name} ${op} ${mib} MiB: ${seconds.toFixed(2)} s, aggregator peak RSS ${peak.toFixed(0)} MiB\n`,
        );
        if (profile) {
          const { rows, totalMs } = topFrames(profDir, 15);
          process.stdout.write(
            `  aggregator profile (total ${(totalMs / 1000).toFixed(1)} s, serving only):\n${rows.map((x) => `  ${x}`).join("\n")}\n`,
          );
        }
        if (profileClient) {
          const { rows, totalMs } = topFrames(`${profDir}-client`, 15);
          process.stdout.write(
            `  client profile (total ${(totalMs / 1000).toFixed(1)} s incl. start-up):\n${rows.map((x) => `  ${x}`).join("\n")}\n`,
          );
        }
      }
    }
  }
  for (const op of ops) {
    for (const v of variants) {
      const s = results.filter((x) => x.variant === v.name && x.op === op).map((x) => x.seconds);
      process.stdout.write(
        `summary ${v.name} ${op}: best ${Math.min(...s).toFixed(2)} s, all ${s.map((x) => x.toFixed(2)).join(" ")}\n`,
      );
    }
  }
  await rm(dir, { recursive: true, force: true });
}
