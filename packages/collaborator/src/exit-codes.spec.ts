import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  PendingDirLockedError,
  PendingDirUnsafeError,
  PendingDiskFullError,
} from "@openfl-connect/node";
import { TaskFailedError } from "./encode-results.js";
import { EXIT_CODES, exitCodeFor, stopEventFor } from "./exit-codes.js";

const diskFull = (code: "ENOSPC" | "EDQUOT") =>
  new PendingDiskFullError("/var/pending", code, "round 0 task train (2 tensors, 80 bytes)", {
    cause: Object.assign(new Error(`${code}: write`), { code }),
  });

describe("exit codes", () => {
  it("a full disk (ENOSPC or EDQUOT) under pendingDir exits 4, with its own stop event, not a task failure", () => {
    for (const code of ["ENOSPC", "EDQUOT"] as const) {
      assert.equal(exitCodeFor(diskFull(code)), 4);
      assert.equal(stopEventFor(diskFull(code)), "stopped: the disk holding pendingDir is full");
    }
    assert.equal(EXIT_CODES.diskFull, 4);
    const task = new TaskFailedError("train", 0, "boom", { cause: undefined });
    assert.equal(exitCodeFor(task), EXIT_CODES.task);
    assert.equal(stopEventFor(task), "stopped by an error");
  });

  it("a pendingDir held by another process or writable by others is a configuration error (exit 1)", () => {
    const host = { pid: 7, hostname: "h", startedAt: "2026-01-01T00:00:00.000Z" };
    assert.equal(exitCodeFor(new PendingDirLockedError("/p", "/p/.lock", host)), 1);
    assert.equal(exitCodeFor(new PendingDirUnsafeError("/p", 0o777)), 1);
  });

  it("every exit code is distinct", () => {
    const codes = Object.values(EXIT_CODES);
    assert.equal(new Set(codes).size, codes.length);
  });
});
