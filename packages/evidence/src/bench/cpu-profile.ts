import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
}

/** The `top` frames by self time over the .cpuprofile files in `dir`, as markdown table rows. */
export function topFrames(dir: string, top = 12): { rows: string[]; totalMs: number } {
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
      nodes: ProfileNode[];
      samples: number[];
      timeDeltas: number[];
    };
    const self = new Map<number, number>();
    for (const [i, id] of profile.samples.entries()) {
      self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
    for (const node of profile.nodes) {
      const us = self.get(node.id) ?? 0;
      total += us;
      const cf = node.callFrame;
      const where = cf.url
        ? `${cf.url.replace(/^.*node_modules\//, "").replace(/^.*\/packages\//, "packages/")}:${cf.lineNumber + 1}`
        : "";
      const key = `\`${cf.functionName || "(anonymous)"}\` ${where}`;
      byFrame.set(key, (byFrame.get(key) ?? 0) + us);
    }
  }
  const rows = [...byFrame]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(
      ([frame, us]) =>
        `| ${(us / 1000).toFixed(0)} | ${((100 * us) / total).toFixed(1)} % | ${frame} |`,
    );
  return { rows, totalMs: total / 1000 };
}
