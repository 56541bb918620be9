// Writes deploy/envoy/envoy.yaml from deploy/envoy/envoy-input.yaml (or the files given), or with
// --check only says whether the written file is the generator's output for the input.
//
// Usage: node --import tsx src/cli.ts [--input FILE] [--output FILE] [--check]
import { readFile, writeFile } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { generateEnvoyConfig } from "./generate.js";
import { parseEnvoyInput } from "./input.js";

const repo = resolve(import.meta.dirname, "../../..");

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      input: { type: "string", default: resolve(repo, "deploy/envoy/envoy-input.yaml") },
      output: { type: "string", default: resolve(repo, "deploy/envoy/envoy.yaml") },
      check: { type: "boolean", default: false },
    },
  });
  const input = resolve(values.input);
  const output = resolve(values.output);
  const shownInput = relative(repo, input);
  const config = generateEnvoyConfig(
    parseEnvoyInput(await readFile(input, "utf8"), shownInput),
    shownInput,
  );
  if (!values.check) {
    await writeFile(output, config);
    console.log(`envoy-config: wrote ${relative(repo, output)} from ${shownInput}`);
    return 0;
  }
  const written = await readFile(output, "utf8").catch(() => undefined);
  if (written === config) {
    console.log(`envoy-config: ${relative(repo, output)} is the output for ${shownInput}`);
    return 0;
  }
  console.error(
    `envoy-config: ${relative(repo, output)} is not the generator's output for ${shownInput}` +
      ` (${written === undefined ? "missing" : "edited by hand, or the input changed"}); run` +
      " pnpm --filter @openfl-connect/envoy-config run generate",
  );
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`envoy-config: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
