// What a process holds open, for specs that check a component closes every file it opens.
import { readdirSync, readlinkSync } from "node:fs";

/** The files and directories at or under `dir` this process holds open (Linux: /proc/self/fd). */
export function filesOpenUnder(dir: string): string[] {
  return readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target === dir || target.startsWith(`${dir}/`) ? [target] : [];
    } catch {
      return []; // The descriptor readdir itself used, closed since.
    }
  });
}
