import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";

const demo = new URL("./main.ts", import.meta.url).pathname;

/** Runs the demo with `flags`; checks its round table (rounds 0-7, accuracy rising) and returns stdout. */
async function runTfjsDemo(flags: readonly string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", demo, ...flags],
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
    /done in [\d.]+ s: aggregated model accuracy rose from [\d.]+% to [\d.]+%\./,
  );
  const [, first] = rounds[0] as number[];
  const [, last] = rounds.at(-1) as number[];
  assert.ok((last as number) > (first as number) + 30, stdout);
  return stdout;
}

describe("demo --tfjs", () => {
  it("Node TF.js collaborators train the digits CNN with the reference aggregator; accuracy per round, rising", async () => {
    const stdout = await runTfjsDemo(["--tfjs"]);
    assert.match(
      stdout,
      /tfjs-col1, tfjs-col2, tfjs-col3 \(openfl-connect, Node, TF\.js cpu backend\)/,
    );
  });

  it("--openfl: on OpenFL's Aggregator beside two OpenFL Keras collaborators; accuracy per round, rising", async () => {
    const stdout = await runTfjsDemo(["--tfjs", "--openfl"]);
    assert.match(stdout, /^OpenFL's Aggregator on 127\.0\.0\.1:\d+ /m);
    assert.match(
      stdout,
      /tfjs-col3, tfjs-col4 \(openfl-connect, Node, TF\.js cpu backend\), keras-col1, keras-col2 \(OpenFL's Collaborator \+ KerasTaskRunner, Python\)/,
    );
  });

  it("a flag it does not take is a usage error naming the flag (exit 2, no stack)", async () => {
    const failed = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", demo, "--tfjs", "--browser-collaborator"],
      { timeout: 60_000 },
    ).then(
      () => undefined,
      (error: { code?: unknown; stderr?: string }) => error,
    );
    assert.equal(failed?.code, 2, failed?.stderr);
    assert.match(failed?.stderr ?? "", /^demo: Unknown option '--browser-collaborator'/m);
    assert.doesNotMatch(failed?.stderr ?? "", /^\s+at /m);
  });
});
