import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { jsonLines } from "@openfl-connect/test-support/json-lines";
import { filesOpenUnder } from "@openfl-connect/test-support/open-files";
import { FileResendBuffer } from "./file-resend-buffer.js";
import { PendingDirLockedError } from "./pending-dir-errors.js";
import { pendingDirFs } from "./pending-dir-fs.js";
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
    // Only the holder is still running: writing to an exited child's stdin is EPIPE.
    for (const [i, r] of runs.entries()) {
      if ("locked" in (outcomes[i] ?? {})) r.child.stdin?.write("close\n");
    }
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

/** A pid no process can have: above the largest pid_max Linux allows (2^22). */
const NO_SUCH_PID = 2 ** 22 + 1;

const realFs = { ...pendingDirFs };
afterEach(() => Object.assign(pendingDirFs, realFs));

/** The refusal `lockPendingDir` throws, checked to name `holder` (or no holder) and `problem`. */
function refused(holder: { pid: number; hostname: string } | undefined, problem?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof PendingDirLockedError, String(error));
    if (holder === undefined) assert.equal(error.holder, undefined);
    else {
      assert.equal(error.holder?.pid, holder.pid);
      assert.equal(error.holder?.hostname, holder.hostname);
      assert.ok(error.message.includes(`pid ${holder.pid} on host ${holder.hostname}`));
    }
    if (problem) assert.match(error.message, problem);
    return true;
  };
}

describe("pending directory lock: every holder a lock file can name", () => {
  it("writes this process's pid, host, start time and a token to a file only its owner can read", () => {
    const dir = newDir();
    const lock = lockPendingDir(dir, () => {});
    try {
      const record = JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8"));
      assert.equal(record.pid, process.pid);
      assert.equal(record.hostname, hostname());
      const started = Date.now() - process.uptime() * 1000;
      assert.ok(Math.abs(Date.parse(record.startedAt) - started) < 1000, record.startedAt);
      assert.match(record.token, /^[0-9a-f-]{36}$/);
      assert.deepEqual(Object.keys(record).sort(), ["hostname", "pid", "startedAt", "token"]);
      assert.equal(statSync(lock.file).mode & 0o777, 0o600);
    } finally {
      lock.release();
    }
  });

  it("a live process on this host (another one) keeps it: refused, the lock file untouched", () => {
    const dir = newDir();
    const text = lockRecord(process.ppid, hostname());
    writeFileSync(join(dir, LOCK_FILE), text);
    const warnings: string[] = [];
    assert.throws(
      () => lockPendingDir(dir, (m) => warnings.push(m)),
      refused({ pid: process.ppid, hostname: hostname() }, /started 2026-01-01T00:00:00\.000Z/),
    );
    assert.equal(readFileSync(join(dir, LOCK_FILE), "utf8"), text);
    assert.deepEqual(warnings, []);
  });

  it("a pid no process on this host has: taken over, the warning naming pid, host, start and why", () => {
    const dir = newDir();
    writeFileSync(join(dir, LOCK_FILE), lockRecord(NO_SUCH_PID, hostname()));
    const warnings: string[] = [];
    const lock = lockPendingDir(dir, (m) => warnings.push(m));
    assert.deepEqual(warnings, [
      `pending directory ${dir}: took over the lock of pid ${NO_SUCH_PID} on ${hostname()} ` +
        "(started 2026-01-01T00:00:00.000Z): no process with that pid is running",
    ]);
    assert.equal(JSON.parse(readFileSync(lock.file, "utf8")).pid, process.pid);
    lock.release();
    assert.equal(existsSync(lock.file), false);
  });

  for (const [what, pid] of [
    ["a pid no process here has", NO_SUCH_PID],
    ["this process's own pid", process.pid],
  ] as const) {
    it(`another host's lock is never taken over, even with ${what}: refused naming that host`, () => {
      const dir = newDir();
      const text = lockRecord(pid, `not-${hostname()}`);
      writeFileSync(join(dir, LOCK_FILE), text);
      const warnings: string[] = [];
      assert.throws(
        () => lockPendingDir(dir, (m) => warnings.push(m)),
        refused({ pid, hostname: `not-${hostname()}` }),
      );
      assert.equal(readFileSync(join(dir, LOCK_FILE), "utf8"), text);
      assert.deepEqual(warnings, []);
    });
  }

  const record = { pid: NO_SUCH_PID, hostname: hostname(), startedAt: "x", token: "t" };
  for (const [what, text] of [
    ["not JSON", "{pid: 1"],
    ["JSON null", "null"],
    ["a JSON number", "42"],
    ["a fractional pid", JSON.stringify({ ...record, pid: 1.5 })],
    ["a pid as a string", JSON.stringify({ ...record, pid: String(NO_SUCH_PID) })],
    ["no hostname", JSON.stringify({ ...record, hostname: undefined })],
    ["no startedAt", JSON.stringify({ ...record, startedAt: 5 })],
    ["no token", JSON.stringify({ ...record, token: undefined })],
  ] as const) {
    it(`a lock file holding ${what} is refused as not a lock record, and left as it is`, () => {
      const dir = newDir();
      writeFileSync(join(dir, LOCK_FILE), text);
      assert.throws(
        () => lockPendingDir(dir, () => {}),
        refused(undefined, /lock file .* cannot be read: not a lock record/),
      );
      assert.equal(readFileSync(join(dir, LOCK_FILE), "utf8"), text);
    });
  }

  it("a lock file that is a directory is an error, not a takeover", () => {
    const dir = newDir();
    mkdirSync(join(dir, LOCK_FILE));
    assert.throws(() => lockPendingDir(dir, () => {}), /EISDIR/);
    assert.ok(statSync(join(dir, LOCK_FILE)).isDirectory());
  });
});

describe("pending directory lock: races and failures", () => {
  it("a stale lock removed by someone else before it is moved aside: taken, without a takeover warning", () => {
    const dir = newDir();
    writeFileSync(join(dir, LOCK_FILE), lockRecord(NO_SUCH_PID, hostname()));
    let raced = 0;
    pendingDirFs.renameSync = (from, to) => {
      if (raced++ === 0) rmSync(from);
      realFs.renameSync(from, to);
    };
    const warnings: string[] = [];
    const lock = lockPendingDir(dir, (m) => warnings.push(m));
    assert.equal(raced, 1);
    assert.deepEqual(warnings, []);
    assert.equal(JSON.parse(readFileSync(lock.file, "utf8")).pid, process.pid);
    lock.release();
  });

  it("a stale lock another process took over first: its fresh lock is put back and this one refused", () => {
    const dir = newDir();
    writeFileSync(join(dir, LOCK_FILE), lockRecord(NO_SUCH_PID, hostname()));
    const fresh = lockRecord(process.ppid, hostname());
    pendingDirFs.renameSync = (from, to) => {
      if (from === join(dir, LOCK_FILE)) writeFileSync(from, fresh);
      realFs.renameSync(from, to);
    };
    const warnings: string[] = [];
    assert.throws(
      () => lockPendingDir(dir, (m) => warnings.push(m)),
      refused({ pid: process.ppid, hostname: hostname() }),
    );
    assert.equal(readFileSync(join(dir, LOCK_FILE), "utf8"), fresh);
    assert.deepEqual(warnings, []);
  });

  it("gives up after 5 attempts when other processes keep taking over the stale lock first", () => {
    const dir = newDir();
    writeFileSync(join(dir, LOCK_FILE), lockRecord(NO_SUCH_PID, hostname()));
    let renames = 0;
    pendingDirFs.renameSync = (from, to) => {
      // Each time, another process (gone as well) got there first.
      renames++;
      if (from === join(dir, LOCK_FILE))
        writeFileSync(from, lockRecord(NO_SUCH_PID + renames, hostname()));
      realFs.renameSync(from, to);
    };
    assert.throws(
      () => lockPendingDir(dir, () => {}),
      refused(
        { pid: NO_SUCH_PID + 5, hostname: hostname() },
        /other processes kept taking it over \(5 attempts\)/,
      ),
    );
    assert.equal(renames, 5);
  });

  it("a lock record that cannot be written (a full disk) leaves no lock file and the directory free", () => {
    const dir = newDir();
    pendingDirFs.writeSync = () => {
      throw Object.assign(new Error("ENOSPC: simulated, write"), { code: "ENOSPC" });
    };
    assert.throws(() => lockPendingDir(dir, () => {}), /ENOSPC/);
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
    Object.assign(pendingDirFs, realFs);
    lockPendingDir(dir, () => {}).release();
  });

  it("the lock record is fsynced before the lock counts as taken", () => {
    const dir = newDir();
    const synced: string[] = [];
    pendingDirFs.fsyncSync = (fd) => {
      synced.push(realFs.readFileSync(`/proc/self/fd/${fd}`, "utf8"));
      realFs.fsyncSync(fd);
    };
    const lock = lockPendingDir(dir, () => {});
    assert.deepEqual(synced, [readFileSync(lock.file, "utf8")]);
    lock.release();
  });

  it("a second release() leaves alone the lock a new holder in this process took since", () => {
    const dir = newDir();
    const first = lockPendingDir(dir, () => {});
    first.release();
    const second = lockPendingDir(dir, () => {});
    first.release();
    assert.ok(existsSync(second.file));
    assert.throws(
      () => lockPendingDir(dir, () => {}),
      refused(
        { pid: process.pid, hostname: hostname() },
        /another FileResendBuffer in this process/,
      ),
    );
    second.release();
    assert.equal(existsSync(second.file), false);
  });
});

describe("pending directory lock: a holder of another user", () => {
  it("a live process this user may not signal (EPERM) keeps it: refused, not taken over", (t) => {
    const dir = newDir();
    const text = lockRecord(1, hostname());
    writeFileSync(join(dir, LOCK_FILE), text);
    if (process.getuid?.() === 0) {
      // Root may signal every process, so the kernel never says EPERM to it: it is said here,
      // as it is to any other user probing pid 1 (init, root's).
      t.mock.method(process, "kill", (pid: number, signal: number) => {
        assert.deepEqual([pid, signal], [1, 0]);
        throw Object.assign(new Error("kill EPERM"), { code: "EPERM" });
      });
    }
    assert.throws(() => lockPendingDir(dir, () => {}), refused({ pid: 1, hostname: hostname() }));
    assert.equal(readFileSync(join(dir, LOCK_FILE), "utf8"), text);
  });
});

describe("pending directory lock: what a user reads, and the edges", () => {
  it("the refusal of a live holder, in full: who, the lock file, and what to do", () => {
    const dir = newDir();
    const file = join(dir, LOCK_FILE);
    writeFileSync(file, lockRecord(process.ppid, hostname()));
    assert.throws(
      () => lockPendingDir(dir, () => {}),
      (error: unknown) => {
        assert.ok(error instanceof PendingDirLockedError);
        assert.equal(error.name, "PendingDirLockedError");
        assert.equal(error.lockFile, file);
        assert.equal(
          error.message,
          `pending directory ${dir} is in use by pid ${process.ppid} on host ${hostname()} ` +
            `(started 2026-01-01T00:00:00.000Z; lock file ${file}): two processes on one directory ` +
            "would send the same uploads twice. Stop that process or give this one another " +
            "directory; if no collaborator is using the directory, delete the lock file.",
        );
        return true;
      },
    );
  });

  it("a refusal with no holder and no problem known names the lock file alone", () => {
    const error = new PendingDirLockedError("/d", "/d/.lock", undefined);
    assert.ok(
      error.message.startsWith(
        "pending directory /d is in use by another process (its lock file /d/.lock cannot be read): ",
      ),
      error.message,
    );
  });

  it("a holder in this process whose lock file someone deleted still refuses a second one, naming this process", () => {
    const dir = newDir();
    const lock = lockPendingDir(dir, () => {});
    rmSync(lock.file);
    assert.throws(
      () => lockPendingDir(dir, () => {}),
      refused(
        { pid: process.pid, hostname: hostname() },
        /another FileResendBuffer in this process has it open/,
      ),
    );
    // Its release does not fail on the missing file.
    lock.release();
    lockPendingDir(dir, () => {}).release();
  });

  it("a lock file that cannot be created for another reason than EEXIST (EACCES) is that error", () => {
    const dir = newDir();
    pendingDirFs.openSync = () => {
      throw Object.assign(new Error("EACCES: simulated, open"), { code: "EACCES" });
    };
    assert.throws(
      () => lockPendingDir(dir, () => {}),
      (e: unknown) => (e as NodeJS.ErrnoException).code === "EACCES",
    );
  });

  it("a lock released between the exclusive create and the read of its holder: taken at the next attempt, no warning", () => {
    const dir = newDir();
    let opens = 0;
    pendingDirFs.openSync = ((path: string, ...rest: [string, number]) => {
      // The first create finds a lock that its holder deletes at once.
      if (opens++ === 0) throw Object.assign(new Error("EEXIST: simulated"), { code: "EEXIST" });
      return realFs.openSync(path, ...rest);
    }) as typeof pendingDirFs.openSync;
    const warnings: string[] = [];
    const lock = lockPendingDir(dir, (m) => warnings.push(m));
    assert.equal(opens, 2);
    assert.deepEqual(warnings, []);
    assert.equal(JSON.parse(readFileSync(lock.file, "utf8")).pid, process.pid);
    lock.release();
  });

  it("a stale lock that cannot be moved aside (EIO) is that error, and the lock file stays", () => {
    const dir = newDir();
    const text = lockRecord(NO_SUCH_PID, hostname());
    writeFileSync(join(dir, LOCK_FILE), text);
    pendingDirFs.renameSync = () => {
      throw Object.assign(new Error("EIO: simulated, rename"), { code: "EIO" });
    };
    const warnings: string[] = [];
    assert.throws(
      () => lockPendingDir(dir, (m) => warnings.push(m)),
      (e: unknown) => (e as NodeJS.ErrnoException).code === "EIO",
    );
    assert.equal(readFileSync(join(dir, LOCK_FILE), "utf8"), text);
    assert.deepEqual(warnings, []);
  });

  it("keeps no file open: once taken, and when its record could not be written", () => {
    const dir = newDir();
    const lock = lockPendingDir(dir, () => {});
    assert.deepEqual(filesOpenUnder(dir), []);
    lock.release();
    pendingDirFs.fsyncSync = () => {
      throw Object.assign(new Error("EIO: simulated, fsync"), { code: "EIO" });
    };
    assert.throws(() => lockPendingDir(dir, () => {}), /EIO/);
    assert.deepEqual(filesOpenUnder(dir), []);
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  });
});
