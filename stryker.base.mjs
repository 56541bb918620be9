// StrykerJS settings every mutated package shares (each has a stryker.config.mjs naming what it
// mutates and its tests). The plugins are given by path: with pnpm's isolated node_modules,
// Stryker's own "@stryker-mutator/*" lookup from its package does not see its siblings.
import { fileURLToPath } from "node:url";

const plugin = (name) => fileURLToPath(import.meta.resolve(name));

/** The config of package `name` (its directory under packages/). */
export function strykerConfig(name, overrides) {
  return {
    packageManager: "pnpm",
    plugins: [plugin("@stryker-mutator/tap-runner"), plugin("@stryker-mutator/typescript-checker")],
    testRunner: "tap",
    tap: {
      testFiles: ["src/**/*.spec.ts"],
      nodeArgs: ["--import", "tsx", "--test-reporter=tap", "-r", "{{hookFile}}", "{{testFile}}"],
    },
    checkers: ["typescript"],
    tsconfigFile: "tsconfig.json",
    typescriptChecker: { prioritizePerformanceOverAccuracy: true },
    coverageAnalysis: "perTest",
    // The incremental file is committed: a CI run re-tests only the mutants whose code or
    // covering tests changed.
    incremental: true,
    incrementalFile: `../../docs/mutation/${name}-incremental.json`,
    reporters: ["clear-text", "progress", "html", "json"],
    htmlReporter: { fileName: `../../reports/mutation/${name}.html` },
    jsonReporter: { fileName: `../../reports/mutation/${name}.json` },
    clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
    thresholds: { high: 90, low: 85, break: null },
    concurrency: 2,
    timeoutMS: 20000,
    tempDirName: `../../.stryker-tmp/${name}`,
    cleanTempDir: "always",
    ...overrides,
  };
}
