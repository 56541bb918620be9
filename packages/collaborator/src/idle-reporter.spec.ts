import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IdleReporter } from "./idle-reporter.js";
import type { Logger } from "./logger.js";

function recorder() {
  const lines: { level: string; event: string; fields: Record<string, unknown> }[] = [];
  const log: Logger = (level, event, fields = {}) => {
    lines.push({ level, event, fields });
  };
  return { log, lines };
}

describe("IdleReporter", () => {
  it("says once that it waits, then warns every interval with how long, until tasks arrive", () => {
    const { log, lines } = recorder();
    let now = 0;
    const idle = new IdleReporter(log, 300_000, () => now);
    idle.noTasks(3, 10);
    for (let t = 10_000; t <= 610_000; t += 10_000) {
      now = t;
      idle.noTasks(3, 10);
    }
    const said = lines.filter((l) => l.level !== "debug");
    assert.deepEqual(
      said.map((l) => [l.level, l.event, l.fields.waitingSeconds]),
      [
        ["info", "no tasks; waiting for the aggregator", undefined],
        ["warn", "still no tasks", 300],
        ["warn", "still no tasks", 600],
      ],
    );
    assert.match(String(said[1]?.fields.why), /round cannot end/);

    idle.tasksReceived();
    lines.length = 0;
    now = 700_000;
    idle.noTasks(4, 10);
    assert.deepEqual(
      lines.map((l) => [l.level, l.event]),
      [["info", "no tasks; waiting for the aggregator"]],
    );
  });

  it("refuses an interval that is not > 0", () => {
    assert.throws(() => new IdleReporter(() => {}, 0), /idleWarningSeconds must be > 0/);
  });
});
