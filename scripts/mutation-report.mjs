// Writes docs/mutation/<package>.md from Stryker's JSON report (reports/mutation/<package>.json):
// the mutation score of the package and of each file, and every mutant that survived or that
// no test reaches, with where it is and what it changed. Reasons for accepted survivors are kept
// by hand in docs/mutation/<package>-accepted.md.
import { readFileSync, writeFileSync } from "node:fs";

const name = process.argv[2];
if (!name) throw new Error("usage: node scripts/mutation-report.mjs <package>");
const report = JSON.parse(readFileSync(`reports/mutation/${name}.json`, "utf8"));

const detected = new Set(["Killed", "Timeout"]);
const undetected = new Set(["Survived", "NoCoverage"]);
const score = (mutants) => {
  const d = mutants.filter((m) => detected.has(m.status)).length;
  const u = mutants.filter((m) => undetected.has(m.status)).length;
  return { d, u, percent: d + u === 0 ? 100 : (100 * d) / (d + u) };
};

const files = Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b));
const all = files.flatMap(([, f]) => f.mutants);
const total = score(all);
const lines = [
  `# Mutation testing: ${name}`,
  "",
  `Written by \`scripts/mutation-report.mjs\` from StrykerJS's report (\`bash scripts/mutation-test.sh\`).`,
  `Score = mutants detected (killed or timed out) / mutants detected + survived + not covered;`,
  `mutants that do not compile (the TypeScript checker) are not counted.`,
  "",
  `**${total.percent.toFixed(2)} %** (${total.d} detected, ${total.u} not) over ${files.length} files.`,
  "",
  "| file | score | detected | survived | no coverage |",
  "|---|---|---|---|---|",
];
for (const [file, f] of files) {
  const s = score(f.mutants);
  const survived = f.mutants.filter((m) => m.status === "Survived").length;
  const uncovered = f.mutants.filter((m) => m.status === "NoCoverage").length;
  lines.push(`| \`${file}\` | ${s.percent.toFixed(1)} % | ${s.d} | ${survived} | ${uncovered} |`);
}
lines.push("", "## Mutants no test detects", "");
for (const [file, f] of files) {
  const left = f.mutants.filter((m) => undetected.has(m.status));
  if (left.length === 0) continue;
  lines.push(`### \`${file}\``, "");
  for (const m of left.sort((a, b) => a.location.start.line - b.location.start.line)) {
    const replacement = (m.replacement ?? "").replace(/\s+/g, " ").slice(0, 80);
    lines.push(
      `- line ${m.location.start.line}: ${m.mutatorName}${replacement ? ` → \`${replacement.replaceAll("`", "'")}\`` : ""} (${m.status === "NoCoverage" ? "no test reaches it" : "survived"})`,
    );
  }
  lines.push("");
}
writeFileSync(`docs/mutation/${name}.md`, `${lines.join("\n")}\n`);
console.log(`mutation-report: ${name}: ${total.percent.toFixed(2)} % -> docs/mutation/${name}.md`);
