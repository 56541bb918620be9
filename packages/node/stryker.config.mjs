// Mutation testing of node (scripts/mutation-test.sh; docs/mutation/README.md).
import { strykerConfig } from "../../stryker.base.mjs";

export default strykerConfig("node", {
  // The score reached (docs/mutation/node.md: 77.25 %; 76.39 % at the first full run), rounded down: a change that
  // lowers it fails. Issue 23's target is 85 %; the survivors are being worked through in
  // docs/mutation/node-accepted.md.
  thresholds: { high: 90, low: 85, break: 77 },
  // One test process at a time: the machine is shared and the specs open real sockets.
  concurrency: 1,
  // The REST transport (issue 25, rest-*.ts) is new and not in the run yet: its first run (several
  // hundred mutants, about half an hour here) is the next step of issue 23 for node.
  mutate: [
    "src/**/*.ts",
    "!src/**/*.spec.ts",
    "!src/index.ts",
    "!src/internal.ts",
    "!src/rest-*.ts",
  ],
});
