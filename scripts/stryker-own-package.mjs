// Loaded by node's test processes under StrykerJS (`--import`, see stryker.base.mjs): the tests
// run in a sandbox copy of the package, where Stryker has put its mutants, but a helper of
// another workspace package (test-support's reference federation) that imports this package by
// its name gets the original, unmutated files through pnpm's symlink, and every test going
// through it would test code no mutant is ever in. This maps the package's own name, and its
// subpath exports, to the sandbox's files (the test process's working directory).
import { readFileSync } from "node:fs";
import { register } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = process.cwd();
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const exportsMap =
  typeof manifest.exports === "string" ? { ".": manifest.exports } : manifest.exports;
const targets = Object.fromEntries(
  Object.entries(exportsMap).map(([subpath, file]) => [
    subpath === "." ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
    pathToFileURL(join(root, file)).href,
  ]),
);
register(new URL("./stryker-own-package-hooks.mjs", import.meta.url), { data: { targets } });
