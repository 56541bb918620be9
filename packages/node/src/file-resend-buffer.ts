import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { type FileHandle, readdir } from "node:fs/promises";
import { join } from "node:path";
import { type PendingRequest, partsByteLength, type ResendBuffer } from "@openfl-connect/core";
import {
  PendingDirError,
  PendingDirUnsafeError,
  PendingDiskFullError,
} from "./pending-dir-errors.js";
import { pendingDirFs as fs } from "./pending-dir-fs.js";
import { lockPendingDir, type PendingDirLock } from "./pending-dir-lock.js";

/** What `<id>.json` beside `<id>.bin` holds. */
interface PendingMeta {
  readonly id: string;
  readonly rpc: string;
  readonly description: string;
  readonly bytes: number;
  /** Order of arrival (ms since epoch, then a counter). */
  readonly createdAt: number;
  readonly seq: number;
}

export interface FileResendBufferOptions {
  /**
   * Where the buffer reports what it did on its own: a lock taken over from a process that is
   * gone, an entry it could not read moved to `failed/`. One line each, never payload bytes.
   * Default console.warn.
   */
  readonly warn?: (message: string) => void;
  /**
   * Writes bytes to an open file; default `file.write(data, offset, length)`. Replace it only
   * to make writes fail (e.g. a full disk) in tests.
   */
  readonly writeToFile?: (
    file: FileHandle,
    data: Uint8Array,
    offset: number,
    length: number,
  ) => Promise<{ readonly bytesWritten: number }>;
}

const ID_PATTERN = /^[A-Za-z0-9_-]+$/;
const FAILED_DIR = "failed";
/** Errors of this process, not of the file being read: rethrown, never a reason to set aside. */
const RESOURCE_ERRORS = new Set(["EMFILE", "ENFILE", "ENOMEM"]);

type State = { readonly t: "open"; readonly lock: PendingDirLock } | { readonly t: "closed" };

/**
 * A ResendBuffer on disk, so a restarted collaborator can resend what a crash left unacknowledged.
 *
 * On-disk contract of `dir`:
 * - `.lock`: the directory belongs to one FileResendBuffer at a time, from construction to
 *   `close()`. It holds the owner's pid, hostname and start time (JSON). A second one, in this
 *   process or another, is refused with PendingDirLockedError naming the holder; a lock left
 *   on this host by a process that is gone is taken over (reported through `warn`).
 * - `<id>.bin` (the request's bytes) and `<id>.json` (rpc, description, size, order), each
 *   written to a `.<name>.<uuid>.tmp` file, fsynced, renamed into place, and the directory
 *   fsynced after each rename; the `.bin` first, so a listed `.json` always has its bytes.
 *   `add()` resolves once both are on disk; if it fails, it leaves neither behind, and a full
 *   disk is reported as PendingDiskFullError.
 * - `acknowledge()` deletes both (only acknowledged requests are ever deleted); `count()` reads
 *   only the `.json` files.
 * - `failed/<id>.{bin,json,reason.txt}`: requests never resent, kept for a person to look at:
 *   those `discard()`ed (refused in a way resending cannot heal) and whatever cannot be read
 *   (a torn or foreign `.json`, a `.bin` missing, unreadable or of another size than recorded,
 *   a `.bin` without `.json`); these are moved by `list()` or at construction, each with a
 *   `warn` line.
 * - `.tmp` files are removed when their write fails and, left by a crash, at construction.
 * The directory is created with mode 0700; an existing one writable by its group or by everyone
 * is refused (PendingDirUnsafeError): whatever is in it is sent under this collaborator's name.
 */
export class FileResendBuffer implements ResendBuffer {
  readonly dir: string;
  #seq = 0;
  #state: State;
  readonly #warn: (message: string) => void;
  readonly #writeToFile: NonNullable<FileResendBufferOptions["writeToFile"]>;

  /**
   * Creates `dir` (recursively) if it does not exist, checks it is private, locks it, and sets
   * aside what a crash left. Throws PendingDirUnsafeError or PendingDirLockedError.
   */
  constructor(dir: string, options: FileResendBufferOptions = {}) {
    this.dir = dir;
    this.#warn = options.warn ?? ((message) => console.warn(message));
    this.#writeToFile = options.writeToFile ?? ((file, data, o, n) => file.write(data, o, n));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    refuseShared(dir);
    const lock = lockPendingDir(dir, this.#warn);
    this.#state = { t: "open", lock };
    try {
      this.#cleanUpAfterCrash();
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  async add(request: PendingRequest): Promise<void> {
    this.#checkOpen();
    const id = checkId(request.id);
    const meta: PendingMeta = {
      id,
      rpc: request.rpc,
      description: request.description,
      bytes: partsByteLength(request.parts),
      createdAt: Date.now(),
      seq: this.#seq++,
    };
    try {
      await this.#writeAtomically(`${id}.bin`, request.parts);
      // The .json makes the request visible to list(), so it is written last.
      await this.#writeAtomically(`${id}.json`, [
        new TextEncoder().encode(JSON.stringify(meta)),
      ]).catch(async (error: unknown) => {
        // Not added, so not kept: the caller still holds the request.
        await fs.rm(join(this.dir, `${id}.bin`), { force: true });
        throw error;
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOSPC" || code === "EDQUOT") {
        throw new PendingDiskFullError(this.dir, code, request.description, { cause: error });
      }
      throw error;
    }
  }

  async acknowledge(id: string): Promise<void> {
    this.#checkOpen();
    checkId(id);
    // .json first: once it is gone, the request is no longer listed.
    await fs.rm(join(this.dir, `${id}.json`), { force: true });
    await fs.rm(join(this.dir, `${id}.bin`), { force: true });
    await this.#syncDir();
  }

  async discard(id: string, reason: string): Promise<void> {
    this.#checkOpen();
    this.#setAside(checkId(id), reason);
  }

  /**
   * Pending requests, oldest first. What cannot be read is moved to `failed/` (with a reason
   * and a `warn` line), not listed and not deleted.
   */
  async list(): Promise<readonly PendingRequest[]> {
    this.#checkOpen();
    const { metas, unreadable } = await this.#readMetas();
    for (const { stem, problem } of unreadable) this.#setAsideWithWarning(stem, problem);
    const pending: PendingRequest[] = [];
    for (const meta of metas) {
      let bytes: Buffer;
      try {
        bytes = await fs.readFile(join(this.dir, `${meta.id}.bin`));
      } catch (error) {
        rethrowResourceError(error);
        // Acknowledged since its .json was read: nothing to set aside.
        if (!existsSync(join(this.dir, `${meta.id}.json`))) continue;
        this.#setAsideWithWarning(meta.id, `${meta.id}.bin ${readProblem(error)}`);
        continue;
      }
      if (bytes.byteLength !== meta.bytes) {
        this.#setAsideWithWarning(
          meta.id,
          `${meta.id}.bin holds ${bytes.byteLength} bytes, ${meta.id}.json records ${meta.bytes}`,
        );
        continue;
      }
      pending.push({
        id: meta.id,
        rpc: meta.rpc,
        description: meta.description,
        parts: [new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)],
      });
    }
    return pending;
  }

  /**
   * How many requests are pending, from the `.json` files alone (no payload is read, nothing
   * is moved): cheap enough for a shutdown summary. An entry whose `.bin` turns out to be
   * unreadable is counted here and set aside by the next `list()`.
   */
  async count(): Promise<number> {
    this.#checkOpen();
    return (await this.#readMetas()).metas.length;
  }

  /** Releases the directory's lock; any later call but `close()` throws. Idempotent. */
  async close(): Promise<void> {
    const state = this.#state;
    this.#state = { t: "closed" };
    if (state.t === "open") state.lock.release();
  }

  /** Every readable `.json`, oldest first, and what is wrong with the others. */
  async #readMetas(): Promise<{
    metas: PendingMeta[];
    unreadable: { stem: string; problem: string }[];
  }> {
    const metas: PendingMeta[] = [];
    const unreadable: { stem: string; problem: string }[] = [];
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith(".json")) continue;
      const stem = name.slice(0, -".json".length);
      let text: string;
      try {
        text = await fs.readFile(join(this.dir, name), "utf8");
      } catch (error) {
        rethrowResourceError(error);
        // Acknowledged since the directory was read.
        if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
        unreadable.push({ stem, problem: `${name} ${readProblem(error)}` });
        continue;
      }
      const parsed = parseMeta(stem, text);
      if (typeof parsed === "string") unreadable.push({ stem, problem: `${name} ${parsed}` });
      else metas.push(parsed);
    }
    metas.sort((a, b) => a.createdAt - b.createdAt || a.seq - b.seq);
    return { metas, unreadable };
  }

  /** At construction: removes `.tmp` files and sets aside `.bin` files without `.json`. */
  #cleanUpAfterCrash(): void {
    const names = readdirSync(this.dir);
    const described = new Set(names.filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -5)));
    for (const name of names) {
      if (name.endsWith(".tmp")) rmSync(join(this.dir, name), { force: true });
    }
    for (const name of names) {
      const stem = name.slice(0, -".bin".length);
      if (name.endsWith(".bin") && !described.has(stem)) {
        this.#setAsideWithWarning(
          stem,
          `${name} has no ${stem}.json (left by a crash while it was added or acknowledged)`,
        );
      }
    }
  }

  #setAsideWithWarning(stem: string, reason: string): void {
    const target = this.#setAside(stem, reason);
    this.#warn(`pending directory ${this.dir}: moved ${stem} to ${target}: ${reason}`);
  }

  /**
   * Moves `<stem>.json` and `<stem>.bin` (those that exist) to `failed/` beside a
   * `.reason.txt`, under a name no earlier entry there has. Returns that path without extension.
   */
  #setAside(stem: string, reason: string): string {
    const failed = join(this.dir, FAILED_DIR);
    mkdirSync(failed, { recursive: true, mode: 0o700 });
    const target = join(failed, freeName(failed, stem));
    writeFileDurably(`${target}.reason.txt`, `${reason}\n`);
    // .json first: once it is gone, the request is no longer listed.
    for (const ext of [".json", ".bin"]) {
      try {
        fs.renameSync(join(this.dir, `${stem}${ext}`), `${target}${ext}`);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw error;
      }
      syncDirSync(failed);
      syncDirSync(this.dir);
    }
    return target;
  }

  /**
   * Writes the parts one after another (no concatenated copy) to a temporary file, fsyncs,
   * renames it into place and fsyncs the directory. A failed write removes its temporary file.
   */
  async #writeAtomically(name: string, parts: readonly Uint8Array[]): Promise<void> {
    const tmp = join(this.dir, `.${name}.${randomUUID()}.tmp`);
    try {
      const file = await fs.open(tmp, "wx", 0o600);
      try {
        for (const part of parts) {
          let written = 0;
          while (written < part.byteLength) {
            const { bytesWritten } = await this.#writeToFile(
              file,
              part,
              written,
              part.byteLength - written,
            );
            written += bytesWritten;
          }
        }
        await file.sync();
      } finally {
        await file.close();
      }
      await fs.rename(tmp, join(this.dir, name));
    } catch (error) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw error;
    }
    await this.#syncDir();
  }

  async #syncDir(): Promise<void> {
    const dir = await fs.open(this.dir, "r");
    try {
      await dir.sync();
    } catch {
      // Some platforms cannot fsync a directory; the renames are still atomic.
    } finally {
      await dir.close();
    }
  }

  #checkOpen(): void {
    if (this.#state.t === "closed") {
      throw new PendingDirError(this.dir, `the FileResendBuffer on ${this.dir} is closed`);
    }
  }
}

function checkId(id: string): string {
  if (!ID_PATTERN.test(id)) throw new Error(`pending request id '${id}' is not a safe file name`);
  return id;
}

/** Refuses a directory others may write to (not checked on Windows, which has no mode bits). */
function refuseShared(dir: string): void {
  if (process.platform === "win32") return;
  const mode = statSync(dir).mode & 0o7777;
  if (mode & 0o022) throw new PendingDirUnsafeError(dir, mode);
}

/** The meta in `<stem>.json`'s text, or what is wrong with it (never the text itself). */
function parseMeta(stem: string, text: string): PendingMeta | string {
  if (!ID_PATTERN.test(stem)) return "is not named after a request id";
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `is not valid JSON (${text.length} characters; torn by a crash?)`;
  }
  if (value === null || typeof value !== "object") return "does not hold a JSON object";
  const m = value as Partial<Record<keyof PendingMeta, unknown>>;
  if (m.id !== stem) return `has id ${JSON.stringify(m.id)}, expected "${stem}"`;
  if (typeof m.rpc !== "string") return "has no string 'rpc'";
  if (typeof m.description !== "string") return "has no string 'description'";
  if (!Number.isSafeInteger(m.bytes) || (m.bytes as number) < 0) {
    return "has no byte count 'bytes'";
  }
  if (!Number.isFinite(m.createdAt) || !Number.isSafeInteger(m.seq)) {
    return "has no order ('createdAt', 'seq')";
  }
  return m as PendingMeta;
}

function rethrowResourceError(error: unknown): void {
  if (RESOURCE_ERRORS.has((error as NodeJS.ErrnoException).code ?? "")) throw error;
}

function readProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" ? "is missing" : `cannot be read (${code ?? String(error)})`;
}

/** `stem`, or `stem.2`, `stem.3`, ...: the first that names nothing in `dir` yet. */
function freeName(dir: string, stem: string): string {
  const taken = (name: string) =>
    [".json", ".bin", ".reason.txt"].some((ext) => existsSync(join(dir, `${name}${ext}`)));
  let name = stem;
  for (let n = 2; taken(name); n++) name = `${stem}.${n}`;
  return name;
}

function writeFileDurably(path: string, text: string): void {
  const fd = fs.openSync(path, "w", 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function syncDirSync(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the renames are still atomic.
  } finally {
    fs.closeSync(fd);
  }
}
