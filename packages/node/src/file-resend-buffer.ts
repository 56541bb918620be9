import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type PendingRequest, partsByteLength, type ResendBuffer } from "@openfl-connect/core";

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

const ID_PATTERN = /^[A-Za-z0-9_-]+$/;

/**
 * A ResendBuffer on disk, so a restarted collaborator can resend what a crash left unacknowledged.
 * Each request is written to `<dir>/<id>.bin` plus `<dir>/<id>.json` (rpc, description, size),
 * each atomically (temporary file, fsync, rename, fsync of the directory), before the upload
 * begins; both are deleted once the aggregator acknowledges. A `.bin` without its `.json` (a
 * crash while adding) is not listed and is cleaned up by `list()`. A request that can never be
 * delivered as it is (the aggregator refused it in a way resending cannot heal) is moved to
 * `<dir>/failed/` with a `<id>.reason.txt`, so nothing is lost and it is not resent.
 */
export class FileResendBuffer implements ResendBuffer {
  readonly dir: string;
  #seq = 0;

  /** Creates `dir` (recursively) if it does not exist. */
  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  async add(request: PendingRequest): Promise<void> {
    const id = checkId(request.id);
    const meta: PendingMeta = {
      id,
      rpc: request.rpc,
      description: request.description,
      bytes: partsByteLength(request.parts),
      createdAt: Date.now(),
      seq: this.#seq++,
    };
    await this.#writeAtomically(`${id}.bin`, request.parts);
    // The .json makes the request visible to list(), so it is written last.
    await this.#writeAtomically(`${id}.json`, [new TextEncoder().encode(JSON.stringify(meta))]);
    await this.#syncDir();
  }

  async acknowledge(id: string): Promise<void> {
    checkId(id);
    await rm(join(this.dir, `${id}.json`), { force: true });
    await rm(join(this.dir, `${id}.bin`), { force: true });
    await this.#syncDir();
  }

  async discard(id: string, reason: string): Promise<void> {
    checkId(id);
    const failed = join(this.dir, "failed");
    await mkdir(failed, { recursive: true, mode: 0o700 });
    await writeFile(join(failed, `${id}.reason.txt`), `${reason}\n`, { mode: 0o600 });
    for (const name of [`${id}.bin`, `${id}.json`]) {
      await rename(join(this.dir, name), join(failed, name)).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code !== "ENOENT") throw error;
        },
      );
    }
    await this.#syncDir();
  }

  /** Pending requests, oldest first. */
  async list(): Promise<readonly PendingRequest[]> {
    const names = await readdir(this.dir);
    const metas: PendingMeta[] = [];
    for (const name of names) {
      if (!name.endsWith(".json")) continue;
      try {
        const meta = JSON.parse(await readFile(join(this.dir, name), "utf8")) as PendingMeta;
        if (typeof meta.id === "string" && ID_PATTERN.test(meta.id)) metas.push(meta);
      } catch {
        // A torn or foreign file: not ours to resend.
      }
    }
    metas.sort((a, b) => a.createdAt - b.createdAt || a.seq - b.seq);
    const pending: PendingRequest[] = [];
    for (const meta of metas) {
      const bytes = await readFile(join(this.dir, `${meta.id}.bin`)).catch(() => undefined);
      if (bytes === undefined || bytes.byteLength !== meta.bytes) continue;
      pending.push({
        id: meta.id,
        rpc: meta.rpc,
        description: meta.description,
        parts: [new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)],
      });
    }
    // Leftovers of a crash: temporary files and .bin files that never got their .json.
    const listed = new Set(metas.map((m) => m.id));
    for (const name of names) {
      const orphanBin = name.endsWith(".bin") && !listed.has(name.slice(0, -4));
      if (orphanBin || name.endsWith(".tmp")) await rm(join(this.dir, name), { force: true });
    }
    return pending;
  }

  /** Writes the parts one after another (no concatenated copy), then fsyncs and renames. */
  async #writeAtomically(name: string, parts: readonly Uint8Array[]): Promise<void> {
    const tmp = join(this.dir, `.${name}.${randomUUID()}.tmp`);
    const file = await open(tmp, "w", 0o600);
    try {
      for (const part of parts) {
        let written = 0;
        while (written < part.byteLength) {
          const { bytesWritten } = await file.write(part, written, part.byteLength - written);
          written += bytesWritten;
        }
      }
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, join(this.dir, name));
  }

  async #syncDir(): Promise<void> {
    const dir = await open(this.dir, "r");
    try {
      await dir.sync();
    } catch {
      // Some platforms cannot fsync a directory; the renames are still atomic.
    } finally {
      await dir.close();
    }
  }
}

function checkId(id: string): string {
  if (!ID_PATTERN.test(id)) throw new Error(`pending request id '${id}' is not a safe file name`);
  return id;
}
