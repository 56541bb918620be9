import { readFileSync } from "node:fs";

/** Peak resident set size of this process so far (VmHWM), in MiB; NaN where /proc is missing. */
export function peakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export function rssMiB(): number {
  return process.memoryUsage.rss() / (1024 * 1024);
}
