import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatBytes } from "./format-bytes.js";

describe("formatBytes", () => {
  it("uses binary units with one decimal, and whole bytes below 1 KiB", () => {
    assert.equal(formatBytes(17), "17 B");
    assert.equal(formatBytes(1023), "1023 B");
    assert.equal(formatBytes(1024), "1.0 KiB");
    assert.equal(formatBytes(812.4 * 1024), "812.4 KiB");
    assert.equal(formatBytes(1024 * 1024 - 1), "1024.0 KiB");
    assert.equal(formatBytes(1024 * 1024), "1.0 MiB");
    assert.equal(formatBytes(12.34 * 1024 * 1024), "12.3 MiB");
  });
});
