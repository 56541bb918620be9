import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, describe, it, mock } from "node:test";
import { concatParts, type PendingRequest } from "@openfl-connect/core";
import { filesOpenUnder } from "@openfl-connect/test-support/open-files";
import { FileResendBuffer, type FileResendBufferOptions } from "./file-resend-buffer.js";
import {
  PendingDirError,
  PendingDirUnsafeError,
  PendingDiskFullError,
} from "./pending-dir-errors.js";
import { pendingDirFs } from "./pending-dir-fs.js";

const request = (id: string, bytes: number[]): PendingRequest => ({
  id,
  rpc: "SendLocalTaskResults",
  parts: [Uint8Array.from(bytes.slice(0, 1)), Uint8Array.from(bytes.slice(1))],
  description: `request ${id}`,
});

/** Payload bytes that must never show up in a warning or a reason. */
const SECRET = [...new TextEncoder().encode("SECRET-PAYLOAD")];

const newDir = () => mkdtempSync(join(tmpdir(), "pending-"));

/** A buffer whose warnings are collected. */
function openBuffer(dir: string, options: FileResendBufferOptions = {}) {
  const warnings: string[] = [];
  const buffer = new FileResendBuffer(dir, { warn: (m) => warnings.push(m), ...options });
  return { buffer, warnings };
}

/** An error shaped like Node's own for a failed write(2) with errno `code`. */
const writeError = (code: string) =>
  Object.assign(new Error(`${code}: simulated, write`), { code, syscall: "write" });

describe("FileResendBuffer", () => {
  it("writes <id>.bin and <id>.json, lists oldest first and deletes on acknowledge", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    await buffer.add(request("b", [1, 2, 3]));
    await buffer.add(request("a", [4]));
    assert.deepEqual(readdirSync(dir).sort(), [".lock", "a.bin", "a.json", "b.bin", "b.json"]);
    const listed = await buffer.list();
    assert.deepEqual(
      listed.map((r) => [r.id, [...concatParts(r.parts)], r.description]),
      [
        ["b", [1, 2, 3], "request b"],
        ["a", [4], "request a"],
      ],
    );
    await buffer.acknowledge("b");
    assert.deepEqual(readdirSync(dir).sort(), [".lock", "a.bin", "a.json"]);
    await buffer.close();
    assert.deepEqual(readdirSync(dir).sort(), ["a.bin", "a.json"]);
  });

  it("survives a restart: a new instance on the same directory lists what was pending", async () => {
    const dir = newDir();
    const first = new FileResendBuffer(dir);
    await first.add(request("x", [9, 8]));
    await first.close();
    const again = await new FileResendBuffer(dir).list();
    assert.deepEqual(
      again.map((r) => [r.id, [...concatParts(r.parts)]]),
      [["x", [9, 8]]],
    );
  });

  it("refuses every call after close()", async () => {
    const { buffer } = openBuffer(newDir());
    await buffer.close();
    await buffer.close();
    await assert.rejects(async () => buffer.add(request("a", [1])), PendingDirError);
    await assert.rejects(async () => buffer.list(), /is closed/);
  });

  it("moves a request that cannot be delivered to failed/ with its reason, and stops listing it", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    await buffer.add(request("z", [5, 6, 7]));
    await buffer.discard("z", "SendLocalTaskResults failed: UNAUTHENTICATED");
    assert.deepEqual(await buffer.list(), []);
    assert.deepEqual(readdirSync(join(dir, "failed")).sort(), ["z.bin", "z.json", "z.reason.txt"]);
    assert.deepEqual([...readFileSync(join(dir, "failed", "z.bin"))], [5, 6, 7]);
    assert.match(readFileSync(join(dir, "failed", "z.reason.txt"), "utf8"), /UNAUTHENTICATED/);
  });

  it("refuses ids that are not safe file names", async () => {
    const { buffer } = openBuffer(newDir());
    await assert.rejects(async () => buffer.add(request("../evil", [1])), /safe file name/);
  });
});

describe("FileResendBuffer: nothing unreadable is lost or silently skipped", () => {
  it("a torn .json: both files go to failed/ with a reason and a warning, the payload intact", async () => {
    const dir = newDir();
    const { buffer, warnings } = openBuffer(dir);
    await buffer.add(request("t", SECRET));
    writeFileSync(join(dir, "t.json"), '{"id":"t","rpc":');
    assert.deepEqual(await buffer.list(), []);
    assert.deepEqual(readdirSync(join(dir, "failed")).sort(), ["t.bin", "t.json", "t.reason.txt"]);
    assert.deepEqual([...readFileSync(join(dir, "failed", "t.bin"))], SECRET);
    assert.match(
      readFileSync(join(dir, "failed", "t.reason.txt"), "utf8"),
      /t\.json is not valid JSON/,
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", /moved t to .*failed\/t: t\.json is not valid JSON/);
    assert.deepEqual(readdirSync(dir).sort(), [".lock", "failed"]);
  });

  it("a .bin of another size than recorded goes to failed/, the reason giving both sizes", async () => {
    const dir = newDir();
    const { buffer, warnings } = openBuffer(dir);
    await buffer.add(request("c", [1, 2, 3]));
    writeFileSync(join(dir, "c.bin"), Uint8Array.of(1));
    assert.deepEqual(await buffer.list(), []);
    const reason = readFileSync(join(dir, "failed", "c.reason.txt"), "utf8");
    assert.match(reason, /c\.bin holds 1 bytes, c\.json records 3/);
    assert.deepEqual(readdirSync(join(dir, "failed")).sort(), ["c.bin", "c.json", "c.reason.txt"]);
    assert.equal(warnings.length, 1);
  });

  it("a .json whose .bin is missing, or has another id, goes to failed/", async () => {
    const dir = newDir();
    const { buffer, warnings } = openBuffer(dir);
    await buffer.add(request("m", [1]));
    await buffer.add(request("k", [2]));
    rmSync(join(dir, "m.bin"));
    writeFileSync(
      join(dir, "k.json"),
      readFileSync(join(dir, "k.json"), "utf8").replace('"k"', '"q"'),
    );
    assert.deepEqual(await buffer.list(), []);
    assert.match(readFileSync(join(dir, "failed", "m.reason.txt"), "utf8"), /m\.bin is missing/);
    assert.match(
      readFileSync(join(dir, "failed", "k.reason.txt"), "utf8"),
      /has id "q", expected "k"/,
    );
    assert.equal(warnings.length, 2);
  });

  it("a .bin without .json and a leftover .tmp found at start: the .bin goes to failed/, the .tmp is removed", async () => {
    const dir = newDir();
    writeFileSync(join(dir, "torn.bin"), Uint8Array.from(SECRET));
    writeFileSync(join(dir, ".y.json.1234.tmp"), "{");
    const { buffer, warnings } = openBuffer(dir);
    assert.deepEqual(readdirSync(dir).sort(), [".lock", "failed"]);
    assert.deepEqual(readdirSync(join(dir, "failed")).sort(), ["torn.bin", "torn.reason.txt"]);
    assert.match(warnings.join("\n"), /torn\.bin has no torn\.json/);
    assert.deepEqual(await buffer.list(), []);
  });

  it("an entry set aside under a name failed/ already holds keeps both", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    await buffer.add(request("d", [1]));
    await buffer.discard("d", "first");
    await buffer.add(request("d", [2]));
    await buffer.discard("d", "second");
    assert.deepEqual(readdirSync(join(dir, "failed")).sort(), [
      "d.2.bin",
      "d.2.json",
      "d.2.reason.txt",
      "d.bin",
      "d.json",
      "d.reason.txt",
    ]);
    assert.equal(readFileSync(join(dir, "failed", "d.2.reason.txt"), "utf8"), "second\n");
  });

  it("warnings and reasons never carry payload bytes", async () => {
    const dir = newDir();
    const { buffer, warnings } = openBuffer(dir);
    await buffer.add(request("p", SECRET));
    writeFileSync(join(dir, "p.bin"), Uint8Array.from([...SECRET, ...SECRET]));
    await buffer.list();
    const reason = readFileSync(join(dir, "failed", "p.reason.txt"), "utf8");
    assert.doesNotMatch(`${warnings.join("\n")}\n${reason}`, /SECRET-PAYLOAD/);
  });
});

describe("FileResendBuffer: directory permissions and temporary files", () => {
  for (const [mode, who] of [
    [0o777, "everyone"],
    [0o770, "its group"],
    [0o1777, "everyone"],
  ] as const) {
    it(`an existing directory with mode ${mode.toString(8)} is refused, naming the directory and its mode`, () => {
      const dir = newDir();
      chmodSync(dir, mode);
      assert.throws(
        () => new FileResendBuffer(dir),
        (error: unknown) => {
          assert.ok(error instanceof PendingDirUnsafeError);
          assert.equal(error.dir, dir);
          assert.equal(error.mode, mode);
          assert.ok(error.message.includes(`${dir} has mode ${mode.toString(8).padStart(4, "0")}`));
          assert.ok(error.message.includes(`writable by ${who}`));
          return true;
        },
      );
      assert.deepEqual(readdirSync(dir), [], "nothing written, no lock taken");
    });
  }

  it("a directory readable by others but writable only by its owner (0755) is accepted", async () => {
    const dir = newDir();
    chmodSync(dir, 0o755);
    await new FileResendBuffer(dir).close();
  });

  it("creates a missing directory private (0700)", async () => {
    const dir = join(newDir(), "a", "b");
    await new FileResendBuffer(dir).close();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });

  it("a write that fails removes its temporary file and leaves nothing behind", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir, {
      writeToFile: async () => {
        throw writeError("EIO");
      },
    });
    await assert.rejects(async () => buffer.add(request("w", [1, 2])), /EIO/);
    assert.deepEqual(readdirSync(dir), [".lock"]);
  });
});

describe("FileResendBuffer: a full disk", () => {
  it("ENOSPC from the kernel (writes go to /dev/full) is a PendingDiskFullError naming the directory; nothing is left", async () => {
    const dir = newDir();
    const full = await open("/dev/full", "w");
    try {
      const { buffer } = openBuffer(dir, {
        writeToFile: (_file, data, offset, length) => full.write(data, offset, length),
      });
      await assert.rejects(
        async () => buffer.add(request("f", SECRET)),
        (error: unknown) => {
          assert.ok(error instanceof PendingDiskFullError);
          assert.equal(error.code, "ENOSPC");
          assert.equal(error.dir, dir);
          assert.equal((error.cause as NodeJS.ErrnoException).code, "ENOSPC");
          assert.match(error.message, /the disk holding it is full \(ENOSPC\)/);
          assert.ok(error.message.includes("request f"));
          assert.doesNotMatch(error.message, /SECRET-PAYLOAD/);
          return true;
        },
      );
      assert.deepEqual(readdirSync(dir), [".lock"]);
    } finally {
      await full.close();
    }
  });

  it("EDQUOT while writing the .json is a PendingDiskFullError too, and the .bin already written is removed", async () => {
    const dir = newDir();
    let writes = 0;
    const { buffer } = openBuffer(dir, {
      writeToFile: async (file, data, offset, length) => {
        // Two parts go to the .bin; the third write is the .json.
        if (++writes <= 2) return file.write(data, offset, length);
        throw writeError("EDQUOT");
      },
    });
    await assert.rejects(
      async () => buffer.add(request("q", [1, 2])),
      (error: unknown) =>
        error instanceof PendingDiskFullError &&
        error.code === "EDQUOT" &&
        /over its quota \(EDQUOT\)/.test(error.message),
    );
    assert.equal(writes, 3);
    assert.deepEqual(readdirSync(dir), [".lock"]);
  });
});

describe("FileResendBuffer: count()", () => {
  it("counts from the .json files alone: a .bin that cannot be read still counts and is not moved", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    await buffer.add(request("r", [1, 2]));
    await buffer.add(request("u", [3]));
    // A .bin that reading would fail on (a directory): count() must not open it.
    rmSync(join(dir, "u.bin"));
    mkdirSync(join(dir, "u.bin"));
    assert.equal(await buffer.count(), 2);
    assert.ok(existsSync(join(dir, "u.json")));
    assert.equal(existsSync(join(dir, "failed")), false);
    // list() reads payloads: it finds the bad one and sets it aside.
    assert.deepEqual(
      (await buffer.list()).map((r) => r.id),
      ["r"],
    );
    assert.equal(await buffer.count(), 1);
  });
});

/** The file-system calls of the pending directory as they were before a test replaced them. */
const realFs = { ...pendingDirFs };
afterEach(() => Object.assign(pendingDirFs, realFs));

/**
 * Watches what reaches the disk under `dir`: writes, fsyncs, renames and deletions, in order,
 * each with its path relative to `dir` ("." for the directory itself; a temporary file's
 * random part left out). `failSync(path)` may return an error for an fsync to throw.
 */
function watchDisk(dir: string, failSync: (path: string) => Error | undefined = () => undefined) {
  const events: string[] = [];
  const name = (path: string) =>
    (relative(dir, path) || ".").replace(/\.[0-9a-f-]{36}\.tmp$/, ".tmp");
  const watchHandle = (handle: FileHandle, path: string) => {
    const write = handle.write.bind(handle) as (...args: unknown[]) => Promise<unknown>;
    const sync = handle.sync.bind(handle);
    Object.assign(handle, {
      write: (...args: unknown[]) => {
        events.push(`write ${name(path)}`);
        return write(...args);
      },
      sync: async () => {
        events.push(`fsync ${name(path)}`);
        const error = failSync(name(path));
        if (error) throw error;
        return sync();
      },
    });
    return handle;
  };
  const fdPaths = new Map<number, string>();
  Object.assign(pendingDirFs, {
    open: async (path: string, ...rest: [string, number?]) =>
      watchHandle(await realFs.open(path, ...rest), path),
    rename: async (from: string, to: string) => {
      events.push(`rename ${name(from)} -> ${name(to)}`);
      return realFs.rename(from, to);
    },
    rm: async (path: string, options: { force: boolean }) => {
      events.push(`rm ${name(path)}`);
      return realFs.rm(path, options);
    },
    openSync: (path: string, ...rest: [string, number?]) => {
      const fd = realFs.openSync(path, ...rest);
      fdPaths.set(fd, path);
      return fd;
    },
    writeSync: (fd: number, text: string) => {
      events.push(`write ${name(fdPaths.get(fd) ?? "?")}`);
      return realFs.writeSync(fd, text);
    },
    fsyncSync: (fd: number) => {
      const path = name(fdPaths.get(fd) ?? "?");
      events.push(`fsync ${path}`);
      const error = failSync(path);
      if (error) throw error;
      realFs.fsyncSync(fd);
    },
    renameSync: (from: string, to: string) => {
      events.push(`rename ${name(from)} -> ${name(to)}`);
      realFs.renameSync(from, to);
    },
  });
  return events;
}

describe("FileResendBuffer: what is on disk is durable before it counts", () => {
  it("add() fsyncs each file after its last write and before renaming it into place, then fsyncs the directory", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    const events = watchDisk(dir);
    await buffer.add(request("a", [1, 2, 3]));
    assert.deepEqual(events, [
      "write .a.bin.tmp",
      "write .a.bin.tmp",
      "fsync .a.bin.tmp",
      "rename .a.bin.tmp -> a.bin",
      "fsync .",
      "write .a.json.tmp",
      "fsync .a.json.tmp",
      "rename .a.json.tmp -> a.json",
      "fsync .",
    ]);
  });

  it("acknowledge() deletes the .json, then the .bin, then fsyncs the directory", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    await buffer.add(request("a", [1]));
    const events = watchDisk(dir);
    await buffer.acknowledge("a");
    assert.deepEqual(events, ["rm a.json", "rm a.bin", "fsync ."]);
  });

  it("discard() fsyncs the reason before moving the .json then the .bin, fsyncing both directories after each move", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    await buffer.add(request("a", [1]));
    const events = watchDisk(dir);
    await buffer.discard("a", "refused");
    assert.deepEqual(events, [
      "write failed/a.reason.txt",
      "fsync failed/a.reason.txt",
      "rename a.json -> failed/a.json",
      "fsync failed",
      "fsync .",
      "rename a.bin -> failed/a.bin",
      "fsync failed",
      "fsync .",
    ]);
  });

  it("an fsync that fails (EIO) fails add() and leaves nothing behind", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    watchDisk(dir, (path) => (path.endsWith(".tmp") ? writeError("EIO") : undefined));
    await assert.rejects(async () => buffer.add(request("e", [1, 2])), /EIO/);
    Object.assign(pendingDirFs, realFs);
    assert.deepEqual(readdirSync(dir), [".lock"]);
    assert.deepEqual(await buffer.list(), []);
  });

  it("a directory that cannot be fsynced (EINVAL on some file systems) does not fail add(), acknowledge() or discard()", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    const events = watchDisk(dir, (path) =>
      path === "." || path === "failed" ? writeError("EINVAL") : undefined,
    );
    await buffer.add(request("a", [1]));
    await buffer.add(request("b", [2]));
    await buffer.acknowledge("a");
    await buffer.discard("b", "refused");
    assert.ok(events.includes("fsync ."));
    assert.deepEqual(readdirSync(dir).sort(), [".lock", "failed"]);
    assert.deepEqual(readdirSync(join(dir, "failed")).sort(), ["b.bin", "b.json", "b.reason.txt"]);
  });
});

describe("FileResendBuffer: every way a .json can be unreadable is named in its reason", () => {
  const meta = {
    id: "r",
    rpc: "SendLocalTaskResults",
    description: "d",
    bytes: 1,
    createdAt: 1,
    seq: 0,
  };
  for (const [what, text, reason] of [
    ["JSON null", "null", "does not hold a JSON object"],
    ["a JSON string", '"r"', "does not hold a JSON object"],
    ["no rpc", JSON.stringify({ ...meta, rpc: 5 }), "has no string 'rpc'"],
    [
      "no description",
      JSON.stringify({ ...meta, description: null }),
      "has no string 'description'",
    ],
    ["a negative size", JSON.stringify({ ...meta, bytes: -1 }), "has no byte count 'bytes'"],
    ["a fractional size", JSON.stringify({ ...meta, bytes: 1.5 }), "has no byte count 'bytes'"],
    [
      "no createdAt",
      JSON.stringify({ ...meta, createdAt: "now" }),
      "has no order ('createdAt', 'seq')",
    ],
    [
      "a fractional seq",
      JSON.stringify({ ...meta, seq: 0.5 }),
      "has no order ('createdAt', 'seq')",
    ],
  ] as const) {
    it(`${what}: set aside, the reason saying so`, async () => {
      const dir = newDir();
      const { buffer, warnings } = openBuffer(dir);
      await buffer.add(request("r", [7]));
      writeFileSync(join(dir, "r.json"), text);
      assert.deepEqual(await buffer.list(), []);
      assert.equal(readFileSync(join(dir, "failed", "r.reason.txt"), "utf8"), `r.json ${reason}\n`);
      assert.deepEqual([...readFileSync(join(dir, "failed", "r.bin"))], [7]);
      assert.equal(warnings.length, 1);
    });
  }

  it("a .json not named after a request id is set aside as such", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    writeFileSync(join(dir, "not an id.json"), "{}");
    assert.deepEqual(await buffer.list(), []);
    assert.equal(
      readFileSync(join(dir, "failed", "not an id.reason.txt"), "utf8"),
      "not an id.json is not named after a request id\n",
    );
  });

  it("a .json or .bin that cannot be read (a directory) is set aside naming the error", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    await buffer.add(request("b", [1]));
    mkdirSync(join(dir, "j.json"));
    rmSync(join(dir, "b.bin"));
    mkdirSync(join(dir, "b.bin"));
    assert.deepEqual(await buffer.list(), []);
    assert.equal(
      readFileSync(join(dir, "failed", "j.reason.txt"), "utf8"),
      "j.json cannot be read (EISDIR)\n",
    );
    assert.equal(
      readFileSync(join(dir, "failed", "b.reason.txt"), "utf8"),
      "b.bin cannot be read (EISDIR)\n",
    );
  });

  it("lists by time of arrival first, then by order within one millisecond", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    await buffer.add(request("first", [1]));
    await buffer.add(request("second", [2]));
    await buffer.add(request("third", [3]));
    const rewrite = (id: string, change: Record<string, number>) => {
      const path = join(dir, `${id}.json`);
      writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, "utf8")), ...change }));
    };
    rewrite("first", { createdAt: 2000, seq: 0 });
    rewrite("second", { createdAt: 1000, seq: 5 });
    rewrite("third", { createdAt: 2000, seq: 1 });
    assert.deepEqual(
      (await buffer.list()).map((r) => r.id),
      ["second", "first", "third"],
    );
  });

  it("files are private: the entries 0600, failed/ 0700", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    await buffer.add(request("a", [1]));
    await buffer.add(request("b", [1]));
    await buffer.discard("b", "why");
    for (const name of ["a.bin", "a.json", "failed/b.reason.txt"]) {
      assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
    }
    assert.equal(statSync(join(dir, "failed")).mode & 0o777, 0o700);
  });

  it("acknowledge() and discard() refuse ids that are not safe file names, touching nothing", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    await assert.rejects(async () => buffer.acknowledge("../x"), /safe file name/);
    await assert.rejects(async () => buffer.discard("a/b", "why"), /safe file name/);
    assert.deepEqual(readdirSync(dir), [".lock"]);
  });

  it("a write error other than a full disk is passed on as it is, not as PendingDiskFullError", async () => {
    const { buffer } = openBuffer(newDir(), {
      writeToFile: async () => {
        throw writeError("EIO");
      },
    });
    await assert.rejects(
      async () => buffer.add(request("w", [1])),
      (e: unknown) =>
        !(e instanceof PendingDiskFullError) && (e as NodeJS.ErrnoException).code === "EIO",
    );
  });
});

describe("FileResendBuffer: every call leaves no file of the directory open", () => {
  it("add(), acknowledge(), discard(), list() and count() close what they open, and a failed write too", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    await buffer.add(request("a", [1, 2]));
    await buffer.add(request("b", [3]));
    await buffer.acknowledge("a");
    await buffer.discard("b", "refused");
    await buffer.add(request("c", [4]));
    assert.equal((await buffer.list()).length, 1);
    assert.equal(await buffer.count(), 1);
    assert.deepEqual(filesOpenUnder(dir), []);
    const failing = openBuffer(newDir(), {
      writeToFile: async () => {
        throw writeError("EIO");
      },
    });
    await assert.rejects(async () => failing.buffer.add(request("w", [1])), /EIO/);
    assert.deepEqual(filesOpenUnder(failing.buffer.dir), []);
  });

  it("a directory that cannot be fsynced is closed all the same", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    watchDisk(dir, (path) =>
      path === "." || path === "failed" ? writeError("EINVAL") : undefined,
    );
    await buffer.add(request("a", [1]));
    await buffer.acknowledge("a");
    await buffer.add(request("b", [1]));
    await buffer.discard("b", "refused");
    assert.deepEqual(filesOpenUnder(dir), []);
  });
});

describe("FileResendBuffer: the process's own failures are not the entries' fault", () => {
  for (const code of ["EMFILE", "ENFILE", "ENOMEM"]) {
    for (const file of [".json", ".bin"]) {
      it(`${code} while reading a ${file} fails list(), and nothing is set aside`, async () => {
        const dir = newDir();
        const { buffer, warnings } = openBuffer(dir);
        await buffer.add(request("a", [1, 2]));
        pendingDirFs.readFile = (async (path: string, ...rest: unknown[]) => {
          if (path.endsWith(file)) {
            throw Object.assign(new Error(`${code}: simulated, open '${path}'`), { code });
          }
          return (realFs.readFile as (...a: unknown[]) => unknown)(path, ...rest);
        }) as typeof pendingDirFs.readFile;
        await assert.rejects(
          async () => buffer.list(),
          (e: unknown) => (e as NodeJS.ErrnoException).code === code,
        );
        assert.equal(existsSync(join(dir, "failed")), false);
        assert.deepEqual(warnings, []);
        Object.assign(pendingDirFs, realFs);
        assert.deepEqual(
          (await buffer.list()).map((r) => r.id),
          ["a"],
        );
      });
    }
  }
});

describe("FileResendBuffer: a request acknowledged while list() reads it", () => {
  for (const file of [".json", ".bin"]) {
    it(`acknowledged just before its ${file} is read: neither listed nor set aside`, async () => {
      const dir = newDir();
      const { buffer, warnings } = openBuffer(dir);
      await buffer.add(request("gone", [1]));
      await buffer.add(request("kept", [2]));
      pendingDirFs.readFile = (async (path: string, ...rest: unknown[]) => {
        if (path === join(dir, `gone${file}`)) await buffer.acknowledge("gone");
        return (realFs.readFile as (...a: unknown[]) => unknown)(path, ...rest);
      }) as typeof pendingDirFs.readFile;
      assert.deepEqual(
        (await buffer.list()).map((r) => r.id),
        ["kept"],
      );
      assert.equal(existsSync(join(dir, "failed")), false);
      assert.deepEqual(warnings, []);
    });
  }
});

describe("FileResendBuffer: the rest of its contract", () => {
  it("warns on console.warn when no warn option is given", (t) => {
    const warned = t.mock.method(console, "warn", () => {});
    const dir = newDir();
    writeFileSync(join(dir, "left.bin"), Uint8Array.of(1));
    new FileResendBuffer(dir);
    assert.equal(warned.mock.callCount(), 1);
    assert.match(
      String(warned.mock.calls[0]?.arguments[0]),
      /moved left to .*left\.bin has no left\.json/,
    );
  });

  it("a constructor that cannot set aside what a crash left throws, and leaves the directory unlocked", () => {
    const dir = newDir();
    writeFileSync(join(dir, "left.bin"), Uint8Array.of(1));
    writeFileSync(join(dir, "failed"), "a file where failed/ belongs");
    assert.throws(() => new FileResendBuffer(dir, { warn: () => {} }), /EEXIST|ENOTDIR/);
    assert.equal(existsSync(join(dir, ".lock")), false);
    rmSync(join(dir, "failed"));
    const warnings: string[] = [];
    new FileResendBuffer(dir, { warn: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1, "set aside now, with no lock to take over");
  });

  it("lists requests added within one millisecond in the order they were added", async () => {
    mock.timers.enable({ apis: ["Date"], now: 1_700_000_000_000 });
    try {
      const { buffer } = openBuffer(newDir());
      const ids = ["m", "c", "x", "a", "q", "b"];
      for (const id of ids) await buffer.add(request(id, [1]));
      assert.deepEqual(
        (await buffer.list()).map((r) => r.id),
        ids,
      );
    } finally {
      mock.timers.reset();
    }
  });

  it("orders by seq within one millisecond whatever order the directory lists the files in", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    for (const id of ["a", "b", "c", "d", "e"]) await buffer.add(request(id, [1]));
    // The directory's own order, and seq numbers that put them the other way round.
    const inDirOrder = readdirSync(dir)
      .filter((n) => n.endsWith(".json"))
      .map((n) => n.slice(0, -5));
    for (const [i, id] of inDirOrder.entries()) {
      const path = join(dir, `${id}.json`);
      const meta = JSON.parse(readFileSync(path, "utf8"));
      writeFileSync(path, JSON.stringify({ ...meta, createdAt: 5, seq: inDirOrder.length - i }));
    }
    assert.deepEqual(
      (await buffer.list()).map((r) => r.id),
      [...inDirOrder].reverse(),
    );
  });

  it("refuses acknowledge(), discard() and count() after close(), naming the directory", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    await buffer.add(request("a", [1]));
    await buffer.close();
    for (const call of [
      () => buffer.acknowledge("a"),
      () => buffer.discard("a", "why"),
      () => buffer.count(),
    ]) {
      await assert.rejects(
        async () => call(),
        (e: unknown) => {
          assert.ok(e instanceof PendingDirError);
          assert.equal(e.name, "PendingDirError");
          assert.equal(e.dir, dir);
          assert.equal(e.message, `the FileResendBuffer on ${dir} is closed`);
          return true;
        },
      );
    }
    assert.deepEqual(readdirSync(dir).sort(), ["a.bin", "a.json"]);
  });

  it("acknowledging an id that is not pending does nothing, as the in-memory buffer does", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    await buffer.add(request("a", [1]));
    await buffer.acknowledge("never-added");
    await buffer.acknowledge("a");
    await buffer.acknowledge("a");
    // A .json whose .bin is already gone (a crash between the two deletions).
    await buffer.add(request("b", [2]));
    rmSync(join(dir, "b.bin"));
    await buffer.acknowledge("b");
    assert.deepEqual(readdirSync(dir), [".lock"]);
  });

  it("a request of no bytes is kept and listed like any other", async () => {
    const { buffer } = openBuffer(newDir());
    await buffer.add({ id: "empty", rpc: "SendLocalTaskResults", parts: [], description: "d" });
    const listed = await buffer.list();
    assert.deepEqual(
      listed.map((r) => [r.id, concatParts(r.parts).byteLength]),
      [["empty", 0]],
    );
  });

  it("writes every byte when the disk takes fewer than asked at a time (short writes)", async () => {
    const asked: [number, number][] = [];
    const { buffer } = openBuffer(newDir(), {
      // A write(2) that takes half of what it is given, rounded up.
      writeToFile: (file, data, offset, length) => {
        asked.push([offset, length]);
        return file.write(data, offset, Math.ceil(length / 2));
      },
    });
    const bytes = Array.from({ length: 11 }, (_, i) => i + 1);
    await buffer.add(request("s", bytes));
    assert.deepEqual(
      (await buffer.list()).map((r) => [...concatParts(r.parts)]),
      [bytes],
    );
    assert.ok(asked.length > 3, "the writes were short");
  });

  it("every .bin without its .json is set aside at start, whatever its name's length", () => {
    const dir = newDir();
    for (const name of ["a.bin", "ab.bin", "orphan.bin"]) writeFileSync(join(dir, name), "x");
    writeFileSync(join(dir, "ok.bin"), "y");
    writeFileSync(
      join(dir, "ok.json"),
      JSON.stringify({ id: "ok", rpc: "r", description: "d", bytes: 1, createdAt: 1, seq: 0 }),
    );
    const { warnings } = openBuffer(dir);
    assert.deepEqual(readdirSync(join(dir, "failed")).sort(), [
      "a.bin",
      "a.reason.txt",
      "ab.bin",
      "ab.reason.txt",
      "orphan.bin",
      "orphan.reason.txt",
    ]);
    assert.equal(
      readFileSync(join(dir, "failed", "orphan.reason.txt"), "utf8"),
      "orphan.bin has no orphan.json (left by a crash while it was added or acknowledged)\n",
    );
    assert.equal(warnings.length, 3);
    assert.deepEqual(readdirSync(dir).sort(), [".lock", "failed", "ok.bin", "ok.json"]);
  });

  it("a move to failed/ that fails (EIO) fails discard(), and the request stays listed", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    await buffer.add(request("a", [1]));
    pendingDirFs.renameSync = () => {
      throw writeError("EIO");
    };
    await assert.rejects(async () => buffer.discard("a", "refused"), /EIO/);
    Object.assign(pendingDirFs, realFs);
    assert.deepEqual(
      (await buffer.list()).map((r) => r.id),
      ["a"],
    );
  });

  for (const earlier of [".json", ".bin", ".reason.txt"]) {
    it(`failed/ holding only an earlier entry's ${earlier}: the new one goes beside it, that file untouched`, async () => {
      const dir = newDir();
      const { buffer } = openBuffer(dir);
      mkdirSync(join(dir, "failed"), { mode: 0o700 });
      writeFileSync(join(dir, "failed", `x${earlier}`), "earlier");
      await buffer.add(request("x", [1]));
      await buffer.discard("x", "now");
      assert.equal(readFileSync(join(dir, "failed", `x${earlier}`), "utf8"), "earlier");
      assert.equal(readFileSync(join(dir, "failed", "x.2.reason.txt"), "utf8"), "now\n");
      assert.deepEqual([...readFileSync(join(dir, "failed", "x.2.bin"))], [1]);
    });
  }

  it("the same id set aside three times: x, x.2, x.3", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir);
    for (const reason of ["one", "two", "three"]) {
      await buffer.add(request("x", [1]));
      await buffer.discard("x", reason);
    }
    assert.deepEqual(
      ["x", "x.2", "x.3"].map((n) => readFileSync(join(dir, "failed", `${n}.reason.txt`), "utf8")),
      ["one\n", "two\n", "three\n"],
    );
  });
});

describe("FileResendBuffer: the refusals a user reads, in full", () => {
  it("a shared directory: PendingDirUnsafeError, saying what to do", () => {
    const dir = newDir();
    chmodSync(dir, 0o770);
    assert.throws(
      () => new FileResendBuffer(dir),
      (error: unknown) => {
        assert.ok(error instanceof PendingDirUnsafeError);
        assert.equal(error.name, "PendingDirUnsafeError");
        assert.equal(
          error.message,
          `pending directory ${dir} has mode 0770: it is writable by its group, so another user ` +
            "could add uploads that would be sent under this collaborator's certificate. Make it " +
            `private (chmod 700 ${dir}) or use another directory.`,
        );
        return true;
      },
    );
  });

  it("a full disk: PendingDiskFullError, saying nothing was stored and what to do", async () => {
    const dir = newDir();
    const { buffer } = openBuffer(dir, {
      writeToFile: async () => {
        throw writeError("ENOSPC");
      },
    });
    await assert.rejects(
      async () => buffer.add(request("f", [1])),
      (error: unknown) => {
        assert.ok(error instanceof PendingDiskFullError);
        assert.equal(error.name, "PendingDiskFullError");
        assert.equal(error.request, "request f");
        assert.equal(
          error.message,
          `cannot store the upload request f in pending directory ${dir}: the disk holding it is ` +
            "full (ENOSPC). Nothing was stored; free space there and restart.",
        );
        return true;
      },
    );
  });
});
