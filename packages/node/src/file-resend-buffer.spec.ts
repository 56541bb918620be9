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
import { afterEach, describe, it } from "node:test";
import { concatParts, type PendingRequest } from "@openfl-connect/core";
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
