// The package graph of README.md, checked: a published library's runtime dependencies and the
// imports of its non-test sources name only the libraries below it; no library depends at
// runtime on a private package. Exits 1 naming each violation (file, import, what is allowed).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Library -> the @openfl-connect packages it may import at runtime. */
const ALLOWED = {
  core: [],
  node: ["core"],
  web: ["core"],
  collaborator: ["core", "node"],
  tfjs: ["core", "collaborator"],
};

const problems = [];
const scope = "@openfl-connect/";
for (const [lib, allowed] of Object.entries(ALLOWED)) {
  const dir = join("packages", lib);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (pkg.private) problems.push(`${dir}/package.json: a published library must not be private`);
  for (const field of ["dependencies", "peerDependencies"]) {
    for (const name of Object.keys(pkg[field] ?? {})) {
      if (name.startsWith(scope) && !allowed.includes(name.slice(scope.length))) {
        problems.push(
          `${dir}/package.json ${field}: ${name} (allowed: ${allowed.join(", ") || "none"})`,
        );
      }
    }
  }
  const files = readdirSync(join(dir, "src"), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".spec.ts") && !f.startsWith("gen/"));
  for (const file of files) {
    const text = readFileSync(join(dir, "src", file), "utf8");
    for (const [, name] of text.matchAll(/from "@openfl-connect\/([a-z-]+)/g)) {
      if (!allowed.includes(name)) {
        problems.push(
          `${dir}/src/${file}: imports ${scope}${name} (allowed: ${allowed.join(", ") || "none"})`,
        );
      }
    }
  }
}
if (problems.length > 0) {
  console.error(`package graph violations:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  `package graph: ${Object.keys(ALLOWED).join(", ")} import only the libraries below them`,
);
