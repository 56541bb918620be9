// One export of a bench module bundled for a page: esbuild (tsx's own copy) writes an IIFE that
// sets globalThis[name], so a Playwright page can call it with tab.evaluate.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { HERE } from "./child-process.js";

export async function bundleForBrowser(options: {
  /** A file in this folder, e.g. "web-bench-entry.ts". */
  readonly entry: string;
  /** The export to put on globalThis under its own name. */
  readonly name: string;
  /** Where the bundle is written. */
  readonly dir: string;
  /** Node built-ins named only on Node-only branches of a dependency. */
  readonly external?: readonly string[];
}): Promise<string> {
  const require = createRequire(createRequire(import.meta.url).resolve("tsx"));
  const esbuild = require("esbuild") as { build(options: object): Promise<unknown> };
  const outfile = join(options.dir, `${options.name}.js`);
  await esbuild.build({
    stdin: {
      contents: `import { ${options.name} } from ${JSON.stringify(join(HERE, options.entry))}; globalThis.${options.name} = ${options.name};`,
      resolveDir: HERE,
      loader: "ts",
    },
    outfile,
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "es2022",
    logLevel: "error",
    external: [...(options.external ?? [])],
  });
  return readFile(outfile, "utf8");
}
