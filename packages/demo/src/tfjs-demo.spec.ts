import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";

const demo = new URL("./main.ts", import.meta.url).pathname;

describe("demo --tfjs", () => {
  it("Node TF.js collaborators train the digits CNN with the reference aggregator; accuracy per round, rising", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", demo, "--tfjs"],
      {
        timeout: 240_000,
      },
    );
    const rounds = [...stdout.matchAll(/^\s+(\d+)\s+([\d.]+)%$/gm)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    assert.deepEqual(
      rounds.map(([r]) => r),
      [0, 1, 2, 3, 4, 5, 6, 7],
      stdout,
    );
    assert.match(
      stdout,
      /tfjs-col1, tfjs-col2, tfjs-col3 \(openfl-connect, Node, TF\.js cpu backend\)/,
    );
    assert.match(
      stdout,
      /done in [\d.]+ s: aggregated model accuracy rose from [\d.]+% to [\d.]+%\./,
    );
    const [, first] = rounds[0] as number[];
    const [, last] = rounds.at(-1) as number[];
    assert.ok((last as number) > (first as number) + 30, stdout);
  });
});
