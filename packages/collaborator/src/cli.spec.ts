import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type CliFederation,
  runCli,
  startCliFederation,
  stopCliRuns,
} from "@openfl-connect/test-support/collaborator-cli";
import { PAUSE_ENV } from "@openfl-connect/test-support/pause-resend-buffer";
import { initialModel } from "./tasks/softmax-regression.js";

function resultsOf(fed: CliFederation, collaborator: string, round: number, taskName: string) {
  return fed.aggregator.state.receivedResults.filter(
    (r) => r.collaborator === collaborator && r.round === round && r.taskName === taskName,
  );
}

/** Complete uploads of that task that reached the aggregator, duplicates included. */
function copiesOnWire(fed: CliFederation, collaborator: string, round: number, taskName: string) {
  return fed.aggregator.state.uploadsReceived.filter(
    (u) => u.collaborator === collaborator && u.round === round && u.taskName === taskName,
  ).length;
}

// A failed assertion must not leave a CLI child running (it would keep the run alive).
after(stopCliRuns);

describe("collaborator CLI: configuration errors (exit 1)", () => {
  let fed: CliFederation;
  before(async () => {
    fed = await startCliFederation(["col1"]);
  });
  after(() => fed.close());

  it("an unknown key exits 1 with a message naming the key", async () => {
    const file = await fed.writeConfig("col1", { aggPortt: 1 });
    const run = runCli(["--config", file]);
    assert.deepEqual(await run.exited, { code: 1, signal: null });
    assert.match(run.stderr(), /unknown config key 'aggPortt'/);
  });

  it("a wrong type from a flag exits 1 naming the key and the flag", async () => {
    const file = await fed.writeConfig("col1");
    const run = runCli(["--config", file, "--use-tls", "sometimes"]);
    assert.deepEqual(await run.exited, { code: 1, signal: null });
    assert.match(run.stderr(), /config key 'useTls' in flag --use-tls: expected true or false/);
  });

  it("a task module without `tasks` exits 1", async () => {
    const bad = join(fed.dir, "no-tasks.ts");
    writeFileSync(bad, "export const nothing = 1;\n");
    const file = await fed.writeConfig("col1", { tasks: bad });
    const run = runCli(["--config", file]);
    assert.deepEqual(await run.exited, { code: 1, signal: null });
    assert.match(JSON.stringify(run.lines), /must export `tasks`/);
  });
});

describe("collaborator CLI: a whole experiment", () => {
  it("runs every round's three tasks and exits 0 when the aggregator says quit", async () => {
    const fed = await startCliFederation(["col1"], { rounds: 2 });
    try {
      const file = await fed.writeConfig("col1");
      const run = runCli(["--config", file]);
      assert.deepEqual(await run.exited, { code: 0, signal: null }, run.stderr());
      const received = fed.aggregator.state.receivedResults;
      assert.deepEqual(
        received.map((r) => `${r.round}:${r.taskName}`),
        [
          "0:aggregated_model_validation",
          "0:train",
          "0:locally_tuned_model_validation",
          "1:aggregated_model_validation",
          "1:train",
          "1:locally_tuned_model_validation",
        ],
      );
      const train = received.find((r) => r.taskName === "train");
      assert.deepEqual(
        train?.tensors.map((t) => [t.name, t.tags.join(","), t.shape.join("x")]),
        [
          ["dense.weight", "trained", "3x4"],
          ["dense.bias", "trained", "3"],
          ["loss", "metric", ""],
        ],
      );
      assert.equal(fed.aggregator.state.roundSummaries.length, 2);
      assert.ok(run.lines.some((l) => l.event === "finished"));
      // Logs never carry key material.
      assert.doesNotMatch(JSON.stringify(run.lines), /PRIVATE KEY/);
    } finally {
      await fed.close();
    }
  });
});

describe("collaborator CLI: graceful shutdown", () => {
  for (const [signal, code] of [
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const) {
    it(`${signal} during the no-task sleep exits ${code} at once`, async () => {
      // col2 never shows up, so col1 finishes round 0 and then sleeps.
      const fed = await startCliFederation(["col1", "col2"]);
      try {
        const file = await fed.writeConfig("col1", { maxSleepSeconds: 3600 });
        const run = runCli(["--config", file]);
        await run.waitForEvent("no tasks; sleeping");
        const sent = Date.now();
        run.child.kill(signal);
        assert.deepEqual(await run.exited, { code, signal: null });
        assert.ok(Date.now() - sent < 3000);
      } finally {
        await fed.close();
      }
    });
  }
});

describe("collaborator CLI: shutdown during a model download", () => {
  it("SIGTERM while the aggregator holds back a model tensor exits 143 at once, not after the aggregator's wait", async () => {
    // The aggregator has no dense.bias: it holds the request for 60 s before failing it.
    const model = initialModel();
    const fed = await startCliFederation(["col1"], {
      initialModel: { "dense.weight": model["dense.weight"] as (typeof model)[string] },
      tensorWaitMs: 60_000,
    });
    try {
      const file = await fed.writeConfig("col1");
      const run = runCli(["--config", file]);
      await run.waitForEvent("tasks received");
      // The first task fetches dense.weight, then waits on dense.bias.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const sent = Date.now();
      run.child.kill("SIGTERM");
      const deadline = new Promise<"still running">((resolve) =>
        setTimeout(() => resolve("still running"), 10_000).unref(),
      );
      assert.deepEqual(await Promise.race([run.exited, deadline]), { code: 143, signal: null });
      assert.ok(Date.now() - sent < 3000, `exited ${Date.now() - sent} ms after SIGTERM`);
      assert.equal(fed.aggregator.state.receivedResults.length, 0);
    } finally {
      await fed.close();
    }
  });
});

describe("collaborator CLI: one process per pendingDir", () => {
  it("a second CLI on the same pendingDir exits 1 naming the first's pid and host; the first releases the directory on exit", async () => {
    // col2 never shows up, so col1 finishes round 0 and then sleeps.
    const fed = await startCliFederation(["col1", "col2"]);
    try {
      const file = await fed.writeConfig("col1", { maxSleepSeconds: 3600 });
      const pendingDir = join(fed.dir, "pending-col1");
      const first = runCli(["--config", file]);
      await first.waitForEvent("no tasks; sleeping");
      const second = runCli(["--config", file]);
      assert.deepEqual(await second.exited, { code: 1, signal: null }, second.stderr());
      const refusal = JSON.stringify(second.lines);
      assert.match(refusal, /PendingDirLockedError|is in use by/);
      assert.ok(refusal.includes(`pid ${first.child.pid} on host ${hostname()}`), refusal);
      assert.ok(refusal.includes(pendingDir), refusal);
      assert.ok(existsSync(join(pendingDir, ".lock")));
      first.child.kill("SIGTERM");
      assert.deepEqual(await first.exited, { code: 143, signal: null });
      assert.deepEqual(readdirSync(pendingDir), [], "the lock is released on exit");
    } finally {
      await fed.close();
    }
  });
});

describe("collaborator CLI: durable resend buffer survives SIGKILL", () => {
  for (const phase of ["pause-after-persist", "pause-before-ack"] as const) {
    it(`killed ${phase === "pause-after-persist" ? "after the upload was persisted, before it was sent" : "after the aggregator acknowledged, before the pending file was deleted"}: the restarted CLI resends and the aggregator holds the results exactly once`, async () => {
      const fed = await startCliFederation(["col1"], { rounds: 2 });
      try {
        const file = await fed.writeConfig("col1");
        const pendingDir = join(fed.dir, "pending-col1");
        const first = runCli(["--config", file], {
          [PAUSE_ENV]: `${phase}:train`,
        });
        await first.waitForEvent("test hook: paused");
        const pending = readdirSync(pendingDir).filter((n) => n.endsWith(".bin"));
        assert.equal(pending.length, 1, "the train results are on disk");
        assert.equal(
          resultsOf(fed, "col1", 0, "train").length,
          phase === "pause-after-persist" ? 0 : 1,
        );
        first.child.kill("SIGKILL");
        assert.deepEqual(await first.exited, { code: null, signal: "SIGKILL" });

        const second = runCli(["--config", file]);
        assert.deepEqual(await second.exited, { code: 0, signal: null }, second.stderr());
        assert.ok(second.lines.some((l) => l.event === "resent pending uploads" && l.count === 1));
        assert.equal(resultsOf(fed, "col1", 0, "train").length, 1);
        assert.equal(resultsOf(fed, "col1", 1, "train").length, 1);
        // On the wire: killed before sending, the restart sends it once; killed after the
        // acknowledgement, the restart cannot know and sends it again (the aggregator ignores it).
        assert.equal(
          copiesOnWire(fed, "col1", 0, "train"),
          phase === "pause-after-persist" ? 1 : 2,
        );
        assert.equal(copiesOnWire(fed, "col1", 1, "train"), 1);
        assert.equal(fed.aggregator.state.roundSummaries.length, 2);
        assert.deepEqual(readdirSync(pendingDir), []);
      } finally {
        await fed.close();
      }
    });
  }
});

describe("the CLI's published surface", () => {
  it("publishes ./cli; the tests' buffer hook (runCli) is in the workspace-only ./internal", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    assert.equal(pkg.publishConfig.exports["./cli"].default, "./dist/cli.js");
    assert.equal(pkg.exports["./internal"], "./src/internal.ts");
    assert.equal("./internal" in pkg.publishConfig.exports, false);
  });
});
