import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { PYTHON, REPO_ROOT } from "./child-process.js";

export const BENCHMARKS_DOC = join(REPO_ROOT, "docs", "benchmarks.md");

/** Date, machine and the exact command, for the top of a section. */
export function machineLines(command: string): string[] {
  let python = "not set up";
  try {
    python = execFileSync(
      PYTHON,
      [
        "-c",
        "import sys, openfl, grpc; print(sys.version.split()[0], 'openfl', openfl.__version__, 'grpcio', grpc.__version__)",
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    ).trim();
  } catch {}
  return [
    `- When: ${new Date().toISOString()}`,
    `- Machine: ${cpus().length} CPUs (nproc) ${cpus()[0]?.model ?? ""}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, shared with other work (timings are noisy; compare the ratios, measured side by side)`,
    `- Load average at the end of the run (1/5/15 min): ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" / ")} on ${cpus().length} CPUs: measured while other work ran`,
    `- Node ${process.version}; Python ${python}`,
    `- Command: \`${command}\``,
  ];
}

/** Replaces (or appends) the section between `<!-- name:start -->` and `<!-- name:end -->`. */
export async function writeSection(name: string, lines: readonly string[]): Promise<void> {
  let doc = "";
  try {
    doc = await readFile(BENCHMARKS_DOC, "utf8");
  } catch {
    doc =
      "# Benchmarks and load\n\nWritten by `bash bench/run.sh` and `pnpm --filter @openfl-connect/evidence run load`.\n";
  }
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${lines.join("\n")}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc =
    i >= 0 && j > i
      ? `${doc.slice(0, i)}${block}${doc.slice(j + end.length)}`
      : `${doc.trimEnd()}\n\n${block}\n`;
  await writeFile(BENCHMARKS_DOC, doc);
}
