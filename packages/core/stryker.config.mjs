// Mutation testing of core (scripts/mutation-test.sh; docs/mutation/README.md).
import { strykerConfig } from "../../stryker.base.mjs";

export default strykerConfig("core", {
  // The score reached by the first full run (docs/mutation/core.md): a change that lowers it
  // fails. Issue 23's target is 85 %.
  thresholds: { high: 90, low: 85, break: 76 },
  mutate: [
    "src/**/*.ts",
    "!src/**/*.spec.ts",
    "!src/gen/**",
    "!src/index.ts",
    "!src/internal.ts",
    "!src/protocol.ts",
  ],
});
