import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { jsonLines } from "@openfl-connect/test-support/json-lines";
import { FileResendBuffer } from "./file-resend-buffer.js";
import { PendingDirLockedError } from "./pending-dir-errors.js";
import { LOCK_FILE, lockPendingDir } from "./pending-dir-lock.js";

const BUFFER_MODULE = fileURLToPath(new URL("./file-resend-buffer.ts", import.meta.url));

// A child process holding a FileResendBuffer on argv[2] until a line arrives on its stdin.
const HOLDER = `
const { FileResendBuffer } = await import(process.argv[1]);
const say = (line) => process.stdout.write(JSON.stringify(line) + "\\n");
let buffer;
try {
  buffer = new FileResendBuffer(process.argv[2], { warn: (message) => say({ warn: message }) });
} catch (error) {
  say({ refused: error.name, message: error.message });
  process.exit(1);
}
say({ locked: process.pid });
process.stdin.once("data", async () => {
  await buffer.close();
  say({ closed: process.pid });
  process.exit(0);
});
`;

const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

function holdInChild(dir: string) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", HOLDER, BUFFER_MODULE, dir],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  children.add(child);
  const ended = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  const lines = jsonLines(child.stdout);
  const outcome = () =>
    lines.waitFor((l) => "locked" in l || "refused" in l, { what: "locked or refused", ended });
  return { child, ended, lines, outcome };
}

const newDir = () => mkdtempSync(join(tmpdir(), "pending-lock-"));
const lockRecord = (pid: number, host: string) =>
  JSON.stringify({ pid, hostname: host, startedAt: "2026-01-01T00:00:00.000Z", token: "t" });

describe("pending directory lock: two processes", () => {
  it("a second process is refused with a message naming the holder's pid, host and the directory", async () => {
    const dir = newDir();
    const holder = holdInChild(dir);
    assert.deepEqual(await holder.outcome(), { locked: holder.child.pid });
    assert.throws(
      () => new FileResendBuffer(dir),
      (error: unknown) => {
        assert.ok(error instanceof PendingDirLockedError);
        assert.equal(error.holder?.pid, holder.child.pid);
        assert.equal(error.holder?.hostname, hostname());
        assert.ok(error.message.includes(`pid ${holder.child.pid} on host ${hostname()}`));
        assert.ok(error.message.includes(dir));
        return true;
      },
    );
    // The holder releases it on close: the directory is free again, with nothing to take over.
    holder.child.stdin?.write("close\n");
    assert.equal(await holder.ended, 0);
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
    const warnings: string[] = [];
    await new FileResendBuffer(dir, { warn: (m) => warnings.push(m) }).close();
    assert.deepEqual(warnings, []);
  });

  it("of three processes starting together on one directory, exactly one gets it", async () => {
    const dir = newDir();
    const runs = [holdInChild(dir), holdInChild(dir), holdInChild(dir)];
    const outcomes = await Promise.all(runs.map((r) => r.outcome()));
    assert.equal(outcomes.filter((o) => "locked" in o).length, 1, JSON.stringify(outcomes));
    assert.deepEqual(
      outcomes.filter((o) => "refused" in o).map((o) => o.refused),
      ["PendingDirLockedError", "PendingDirLockedError"],
    );
    for (const r of runs) r.child.stdin?.write("close\n");
    await Promise.all(runs.map((r) => r.ended));
  });

  it("a lock left by a killed process is taken over, with a warning naming that process", async () => {
    const dir = newDir();
    const holder = holdInChild(dir);
    await holder.outcome();
    holder.child.kill("SIGKILL");
    await holder.ended;
    assert.ok(existsSync(join(dir, LOCK_FILE)), "SIGKILL left the lock file");
    const next = holdInChild(dir);
    assert.deepEqual(await next.outcome(), { locked: next.child.pid });
    const warning = String(next.lines.lines.find((l) => "warn" in l)?.warn);
    assert.match(
      warning,
      new RegExp(`took over the lock of pid ${holder.child.pid} on ${hostname()}`),
    );
    assert.match(warning, /no process with that pid is running/);
    next.child.stdin?.write("close\n");
    assert.equal(await next.ended, 0);
  });
});

describe("pending directory lock: in one process", () => {
  it("a second FileResendBuffer on the same directory is refused until the first is closed", async () => {
    const dir = newDir();
    const first = new FileResendBuffer(dir);
    assert.throws(
      () => new FileResendBuffer(join(dir, ".")),
      (error: unknown) => {
        assert.ok(error instanceof PendingDirLockedError);
        assert.equal(error.holder?.pid, process.pid);
        assert.match(error.message, /another FileResendBuffer in this process has it open/);
        return true;
      },
    );
    await first.close();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
    await new FileResendBuffer(dir).close();
  });

  it("a lock with this process's pid that this process does not hold is taken over (a restart that reused the pid)", () => {
    const dir = newDir();
    writeFileSync(join(dir, LOCK_FILE), lockRecord(process.pid, hostname()));
    const warnings: string[] = [];
    const lock = lockPendingDir(dir, (m) => warnings.push(m));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", /its pid is this process's, which does not hold it/);
    assert.notEqual(JSON.parse(readFileSync(lock.file, "utf8")).token, "t");
    lock.release();
  });

  it("a lock from another host is never taken over: refused, naming that host", () => {
    const dir = newDir();
    writeFileSync(join(dir, LOCK_FILE), lockRecord(1, "elsewhere.example"));
    assert.throws(
      () => lockPendingDir(dir, () => {}),
      /in use by pid 1 on host elsewhere\.example/,
    );
    assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).token, "t");
  });

  it("an unreadable lock file is refused, naming the file", () => {
    const dir = newDir();
    writeFileSync(join(dir, LOCK_FILE), "");
    assert.throws(
      () => lockPendingDir(dir, () => {}),
      (error: unknown) =>
        error instanceof PendingDirLockedError &&
        error.holder === undefined &&
        error.message.includes(`lock file ${join(dir, LOCK_FILE)} cannot be read`),
    );
    assert.equal(readFileSync(join(dir, LOCK_FILE), "utf8"), "");
  });

  it("release leaves alone a lock file that is no longer this holder's", () => {
    const dir = newDir();
    const lock = lockPendingDir(dir, () => {});
    writeFileSync(lock.file, lockRecord(process.pid + 1, hostname()));
    lock.release();
    assert.ok(existsSync(lock.file));
  });
});
