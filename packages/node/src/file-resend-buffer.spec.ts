import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { concatParts, type PendingRequest } from "@openfl-connect/core";
import { FileResendBuffer } from "./file-resend-buffer.js";

const request = (id: string, bytes: number[]): PendingRequest => ({
  id,
  rpc: "SendLocalTaskResults",
  parts: [Uint8Array.from(bytes.slice(0, 1)), Uint8Array.from(bytes.slice(1))],
  description: `request ${id}`,
});

describe("FileResendBuffer", () => {
  it("writes <id>.bin and <id>.json, lists oldest first and deletes on acknowledge", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pending-"));
    const buffer = new FileResendBuffer(dir);
    await buffer.add(request("b", [1, 2, 3]));
    await buffer.add(request("a", [4]));
    assert.deepEqual(readdirSync(dir).sort(), ["a.bin", "a.json", "b.bin", "b.json"]);
    const listed = await buffer.list();
    assert.deepEqual(
      listed.map((r) => [r.id, [...concatParts(r.parts)], r.description]),
      [
        ["b", [1, 2, 3], "request b"],
        ["a", [4], "request a"],
      ],
    );
    await buffer.acknowledge("b");
    assert.deepEqual(readdirSync(dir).sort(), ["a.bin", "a.json"]);
  });

  it("survives a restart: a new instance on the same directory lists what was pending", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pending-"));
    await new FileResendBuffer(dir).add(request("x", [9, 8]));
    const again = await new FileResendBuffer(join(dir)).list();
    assert.deepEqual(
      again.map((r) => [r.id, [...concatParts(r.parts)]]),
      [["x", [9, 8]]],
    );
  });

  it("moves a request that cannot be delivered to failed/ with its reason, and stops listing it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pending-"));
    const buffer = new FileResendBuffer(dir);
    await buffer.add(request("z", [5, 6, 7]));
    await buffer.discard("z", "SendLocalTaskResults failed: UNAUTHENTICATED");
    assert.deepEqual(await buffer.list(), []);
    assert.deepEqual(readdirSync(join(dir, "failed")).sort(), ["z.bin", "z.json", "z.reason.txt"]);
    assert.deepEqual([...readFileSync(join(dir, "failed", "z.bin"))], [5, 6, 7]);
    assert.match(readFileSync(join(dir, "failed", "z.reason.txt"), "utf8"), /UNAUTHENTICATED/);
  });

  it("ignores and cleans up a .bin without .json and leftover temporary files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pending-"));
    const buffer = new FileResendBuffer(dir);
    writeFileSync(join(dir, "torn.bin"), "x");
    writeFileSync(join(dir, ".y.json.1234.tmp"), "{");
    assert.deepEqual(await buffer.list(), []);
    assert.deepEqual(readdirSync(dir), []);
  });

  it("skips a request whose .bin is shorter than recorded", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pending-"));
    const buffer = new FileResendBuffer(dir);
    await buffer.add(request("c", [1, 2, 3]));
    writeFileSync(join(dir, "c.bin"), Uint8Array.of(1));
    assert.deepEqual(await buffer.list(), []);
  });

  it("refuses ids that are not safe file names", async () => {
    const buffer = new FileResendBuffer(mkdtempSync(join(tmpdir(), "pending-")));
    await assert.rejects(async () => buffer.add(request("../evil", [1])), /safe file name/);
  });
});
