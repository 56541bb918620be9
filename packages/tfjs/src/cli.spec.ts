import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { decodeModelFile, encodeModelFile } from "@openfl-connect/core";
import { main } from "./cli.js";

const DIGITS = fileURLToPath(new URL("./examples/digits-cnn.ts", import.meta.url));
const dir = await mkdtemp(join(tmpdir(), "openfl-tfjs-cli-"));
after(() => rm(dir, { recursive: true, force: true }));

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe("openfl-tfjs", () => {
  it("init-model writes OpenFL's initial model file under KerasTaskRunner's names; check-model accepts it", async () => {
    const file = join(dir, "init.pbuf");
    const written = await run("init-model", "--model", DIGITS, "--out", file);
    assert.equal(written.code, 0, written.err.join("\n"));
    assert.equal(written.out.at(-1), `wrote ${file}: 6 tensors, round 0`);
    const model = decodeModelFile(await readFile(file));
    assert.deepEqual(Object.keys(model.tensors), [
      "conv2d/kernel",
      "conv2d/bias",
      "dense/kernel",
      "dense/bias",
      "dense_1/kernel",
      "dense_1/bias",
    ]);
    const checked = await run("check-model", "--model", DIGITS, "--file", file);
    assert.deepEqual(
      [checked.code, checked.out],
      [0, [`${file} matches the model: 6 tensors, round 0`]],
    );
  });

  it("check-model names the tensor that differs (exit 1)", async () => {
    const file = join(dir, "other.pbuf");
    const good = decodeModelFile(await readFile(join(dir, "init.pbuf")));
    await writeFile(
      file,
      encodeModelFile({
        ...good.tensors,
        "dense_1/bias": { shape: [9], data: new Float32Array(9) },
      }),
    );
    const checked = await run("check-model", "--model", DIGITS, "--file", file);
    assert.equal(checked.code, 1);
    assert.deepEqual(checked.err, [
      `ModelMismatchError: ${file}: tensor 'dense_1/bias': the federation's model has [9], this model has [10]`,
    ]);
  });

  it("bad usage is exit 2 with what is missing", async () => {
    assert.equal(
      (await run("init-model", "--out", "x")).err[0]?.startsWith("init-model needs --model MODULE"),
      true,
    );
    assert.equal((await run("frobnicate")).code, 2);
    const missing = await run("init-model", "--model", join(dir, "nope.js"), "--out", "x");
    assert.equal(missing.code, 2);
    assert.match(missing.err[0] ?? "", /--model: cannot import .*nope\.js/);
  });
});
