import { randomUUID } from "node:crypto";
import { realpathSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { PendingDirLockedError, type PendingDirLockHolder } from "./pending-dir-errors.js";
import { pendingDirFs as fs } from "./pending-dir-fs.js";

/** The lock file's name inside the pending directory. */
export const LOCK_FILE = ".lock";

/** What the lock file holds (JSON): the holder, and a token only this holder knows. */
interface LockRecord extends PendingDirLockHolder {
  readonly token: string;
}

export interface PendingDirLock {
  readonly file: string;
  /** Deletes the lock file if it is still this holder's. Idempotent. */
  release(): void;
}

// Directories held in this process (by real path). Shared through globalThis so that two copies
// of this module still see each other's locks.
const HELD_KEY = Symbol.for("@openfl-connect/node/pending-dir-locks");
const held: Set<string> =
  ((globalThis as Record<symbol, unknown>)[HELD_KEY] as Set<string> | undefined) ??
  new Set<string>();
(globalThis as Record<symbol, unknown>)[HELD_KEY] = held;

/** Takeovers raced by other processes before giving up. */
const MAX_ATTEMPTS = 5;

/**
 * Takes the directory's lock: `<dir>/.lock` created exclusively (O_EXCL) holding pid, hostname,
 * process start time and a token. A lock whose holder is gone is taken over, and `warn` says so:
 * on this host, when no process has its pid, or when its pid is this process's own but this
 * process does not hold it (a restart that got the same pid, as in a container). A lock from
 * another host is never taken over (its process cannot be checked from here).
 * Throws PendingDirLockedError naming the holder otherwise.
 */
export function lockPendingDir(dir: string, warn: (message: string) => void): PendingDirLock {
  const file = join(dir, LOCK_FILE);
  const key = realpathSync(dir);
  const me: LockRecord = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    token: randomUUID(),
  };
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    if (held.has(key)) {
      throw new PendingDirLockedError(
        dir,
        file,
        holderOf(readRecord(file) ?? me),
        "another FileResendBuffer in this process has it open",
      );
    }
    if (tryCreate(file, me)) {
      held.add(key);
      // Once only: a second release() would drop from `held` the key of a newer holder.
      let released = false;
      const releaseOnce = () => {
        if (released) return;
        released = true;
        release(file, key, me.token);
      };
      return { file, release: releaseOnce };
    }
    const text = readText(file);
    if (text === undefined) continue; // Released meanwhile: try again.
    const holder = parseRecord(text);
    if (holder === undefined) {
      throw new PendingDirLockedError(dir, file, undefined, "not a lock record");
    }
    const gone = goneBecause(holder);
    if (gone === undefined) throw new PendingDirLockedError(dir, file, holderOf(holder));
    if (takeOver(file, text)) {
      warn(
        `pending directory ${dir}: took over the lock of pid ${holder.pid} on ${holder.hostname} ` +
          `(started ${holder.startedAt}): ${gone}`,
      );
    }
  }
  throw new PendingDirLockedError(
    dir,
    file,
    holderOf(readRecord(file)),
    `other processes kept taking it over (${MAX_ATTEMPTS} attempts)`,
  );
}

/** Creates the lock file with O_EXCL; false if it exists. The record is on disk before return. */
function tryCreate(file: string, record: LockRecord): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    fs.writeSync(fd, `${JSON.stringify(record)}\n`);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    rmSync(file, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  return true;
}

/** Why the holder is gone, or undefined if it may be alive. */
function goneBecause(holder: LockRecord): string | undefined {
  if (holder.hostname !== hostname()) return undefined;
  if (holder.pid === process.pid) {
    return "its pid is this process's, which does not hold it (a restart that got the same pid)";
  }
  try {
    process.kill(holder.pid, 0);
    return undefined;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "ESRCH"
      ? "no process with that pid is running"
      : undefined;
  }
}

/**
 * Moves the stale lock aside, then checks that what was moved is the stale record: if another
 * process took it over first, what was moved is that process's fresh lock, which is put back.
 * True when the stale lock is gone.
 */
function takeOver(file: string, staleText: string): boolean {
  const aside = `${file}.${randomUUID()}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  const moved = readText(aside);
  if (moved !== staleText) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // Someone holds it again; the next attempt reads who.
    }
  }
  rmSync(aside, { force: true });
  return moved === staleText;
}

function release(file: string, key: string, token: string): void {
  if (!held.has(key)) return;
  held.delete(key);
  // Only our own lock: after a (wrong) takeover by another process, the file is theirs.
  if (parseRecord(readText(file) ?? "")?.token === token) rmSync(file, { force: true });
}

/** The record without its token (the token is for its holder only). */
function holderOf(record: LockRecord | undefined): PendingDirLockHolder | undefined {
  if (record === undefined) return undefined;
  const { pid, hostname, startedAt } = record;
  return { pid, hostname, startedAt };
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function readRecord(file: string): LockRecord | undefined {
  return parseRecord(readText(file) ?? "");
}

function parseRecord(text: string): LockRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = value as Partial<LockRecord> | null;
  return r !== null &&
    typeof r === "object" &&
    Number.isSafeInteger(r.pid) &&
    typeof r.hostname === "string" &&
    typeof r.startedAt === "string" &&
    typeof r.token === "string"
    ? (r as LockRecord)
    : undefined;
}
