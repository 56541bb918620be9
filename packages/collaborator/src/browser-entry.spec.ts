import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const src = dirname(fileURLToPath(import.meta.url));
/** Packages the browser entry may import at run time (type-only imports are erased). */
const ALLOWED_PACKAGES = new Set(["@openfl-connect/core", "@openfl-connect/core/internal"]);
const NODE_BUILTINS = new Set(builtinModules);

/** The value (not `import type`) specifiers of a module: static, side-effect and dynamic imports. */
function valueImports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms)) {
    if (m[1] === undefined) found.push(m[2] as string);
  }
  for (const m of text.matchAll(/^import\s+"([^"]+)"/gm)) found.push(m[1] as string);
  for (const m of text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) found.push(m[1] as string);
  return found;
}

/** Every value import of every module reachable from `entry`. */
function reachableImports(entry: string): { from: string; specifier: string }[] {
  const seen = new Set<string>();
  const found: { from: string; specifier: string }[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of valueImports(readFileSync(file, "utf8"))) {
      if (specifier.startsWith(".")) visit(join(dirname(file), specifier.replace(/\.js$/, ".ts")));
      else found.push({ from: relative(src, file), specifier });
    }
  };
  visit(join(src, entry));
  return found;
}

describe("the browser entry (@openfl-connect/collaborator/browser)", () => {
  it("reaches no Node module and no package besides core", () => {
    const imports = reachableImports("browser.ts");
    const offending = imports.filter(
      ({ specifier }) =>
        specifier.startsWith("node:") ||
        NODE_BUILTINS.has(specifier) ||
        !ALLOWED_PACKAGES.has(specifier),
    );
    assert.deepEqual(offending, []);
    assert.ok(imports.some((i) => i.specifier === "@openfl-connect/core"));
  });

  it("sees every kind of value import, and not type-only ones", () => {
    const text = [
      'import { a } from "node:fs";',
      'import type { B } from "node:http";',
      'export type { C } from "node:net";',
      'export { d } from "./d.js";',
      'import "node:process";',
      'const e = await import("node:os");',
      'import {\n  f,\n  type G,\n} from "@openfl-connect/core";',
    ].join("\n");
    assert.deepEqual(valueImports(text).sort(), [
      "./d.js",
      "@openfl-connect/core",
      "node:fs",
      "node:os",
      "node:process",
    ]);
  });

  it("is what package.json exports as ./browser", () => {
    const pkg = JSON.parse(readFileSync(join(src, "..", "package.json"), "utf8"));
    assert.equal(pkg.exports["./browser"], "./src/browser.ts");
    assert.equal(pkg.publishConfig.exports["./browser"].default, "./dist/browser.js");
  });
});
