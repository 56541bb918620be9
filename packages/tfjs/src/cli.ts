#!/usr/bin/env node
// openfl-tfjs: OpenFL's initial model file from a TF.js model, and the check of a model file
// against one. Node only (the library itself also runs in browsers).
//   openfl-tfjs init-model  --model MODULE --out save/init.pbuf
//   openfl-tfjs check-model --model MODULE --file save/init.pbuf
// MODULE exports `createModel()` (sync or async) returning the federation's tf.LayersModel.
import { readFile, writeFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { isMainModule } from "@openfl-connect/collaborator";
import { decodeModelFile } from "@openfl-connect/core";
import type { LayersModel } from "@tensorflow/tfjs-layers";
import { kerasWeights } from "./keras-names.js";
import { loadModelFile, modelFileOf } from "./model-file.js";

const USAGE = `usage:
  openfl-tfjs init-model  --model MODULE --out FILE    write OpenFL's initial model file (ModelProto)
  openfl-tfjs check-model --model MODULE --file FILE   check a model file against the model
MODULE exports createModel(): the federation's tf.LayersModel (TF.js backend: the CPU one).`;

/** A usage or input problem: printed without a stack, exit code 2. */
class CliError extends Error {
  override name = "CliError";
}

async function loadModel(path: string): Promise<LayersModel> {
  const file = isAbsolute(path) ? path : resolve(path);
  let module: { createModel?: unknown };
  try {
    module = (await import(pathToFileURL(file).href)) as { createModel?: unknown };
  } catch (error) {
    throw new CliError(`--model: cannot import ${file}: ${(error as Error).message}`);
  }
  if (typeof module.createModel !== "function") {
    throw new CliError(`--model: ${file} must export createModel() returning a tf.LayersModel`);
  }
  return (await module.createModel()) as LayersModel;
}

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** Runs the CLI; resolves with the exit code (0 ok, 1 the file does not match, 2 bad usage). */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const { values } = parseArgs({
      args: rest,
      options: { model: { type: "string" }, out: { type: "string" }, file: { type: "string" } },
    });
    if (command !== "init-model" && command !== "check-model") throw new CliError(USAGE);
    if (values.model === undefined) throw new CliError(`${command} needs --model MODULE\n${USAGE}`);
    const target = command === "init-model" ? values.out : values.file;
    if (target === undefined) {
      throw new CliError(
        `${command} needs ${command === "init-model" ? "--out" : "--file"} FILE\n${USAGE}`,
      );
    }
    try {
      await import("@tensorflow/tfjs-backend-cpu");
    } catch {
      throw new CliError(
        "openfl-tfjs needs @tensorflow/tfjs-backend-cpu: npm install @tensorflow/tfjs-backend-cpu",
      );
    }
    const model = await loadModel(values.model);
    if (command === "init-model") {
      await writeFile(target, await modelFileOf(model));
      const weights = kerasWeights(model);
      for (const w of weights) io.out(`${w.name} [${w.shape.join(", ")}]`);
      io.out(`wrote ${target}: ${weights.length} tensors, round 0`);
      return 0;
    }
    const bytes = await readFile(target).catch((error: Error) => {
      throw new CliError(`--file: cannot read ${target}: ${error.message}`);
    });
    const round = loadModelFile(model, bytes, target);
    io.out(
      `${target} matches the model: ${Object.keys(decodeModelFile(bytes, target).tensors).length} tensors, round ${round}`,
    );
    return 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (
      error instanceof CliError ||
      (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))
    ) {
      io.err((error as Error).message);
      return 2;
    }
    io.err(`${(error as Error).name}: ${(error as Error).message}`);
    return 1;
  }
}

if (isMainModule(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
}
