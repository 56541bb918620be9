import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { decodeNamedTensor, formatBytes } from "@openfl-connect/core";
import { randomTestTensor, sha256Hex, TEST_TENSOR_NAME } from "./test-tensor.js";
import { uploadFraction, uploadStatusText } from "./upload-state.js";

describe("test task result", () => {
  it("makes a float32 tensor of the asked size in MiB, tagged trained and compressed", () => {
    const named = randomTestTensor(0.5, 3);
    assert.equal(named.dataBytes.byteLength, 512 * 1024);
    assert.equal(named.name, TEST_TENSOR_NAME);
    assert.equal(named.roundNumber, 3);
    assert.deepEqual(named.tags, ["compressed", "trained"]);
    const tensor = decodeNamedTensor(named);
    assert.deepEqual(tensor.shape, [128 * 1024]);
    assert.ok(tensor.data.every((v) => v >= -1 && v < 1));
  });

  it("stays below 1 even when the random source is just under 1 (float32 would round it up)", () => {
    const tensor = decodeNamedTensor(randomTestTensor(0.001, 0, () => 1 - 2 ** -53));
    assert.ok(tensor.data.every((v) => v < 1));
  });

  it("refuses sizes of 0, negative or above the limit", () => {
    for (const mib of [0, -1, Number.NaN, 1001])
      assert.throws(() => randomTestTensor(mib, 0), RangeError);
  });

  it("hashes with SHA-256 like node:crypto", async () => {
    const bytes = Uint8Array.from([1, 2, 3]);
    assert.equal(await sha256Hex(bytes), createHash("sha256").update(bytes).digest("hex"));
  });

  it("describes each upload state with its bytes", () => {
    assert.equal(formatBytes(6 * 1024 * 1024), "6.0 MiB");
    assert.equal(
      uploadStatusText({ t: "uploading", sent: 1024, total: 2 * 1024 * 1024 }, formatBytes),
      "uploading 1.0 KiB of 2.0 MiB",
    );
    assert.match(uploadStatusText({ t: "preparing", mib: 6 }, formatBytes), /^preparing 6 MiB/);
    assert.equal(uploadFraction({ t: "uploading", sent: 1, total: 4 }), 0.25);
    assert.equal(uploadFraction({ t: "idle" }), undefined);
  });
});
