#!/usr/bin/env bash
# Mutation testing with StrykerJS, incremental: the results committed in
# docs/mutation/<package>-incremental.json are reused, and only the mutants whose code or
# covering tests changed are run again (a full run of core takes about an hour on two cores).
# Fails when a package's score is below its floor (thresholds.break in its stryker.config.mjs).
# Writes docs/mutation/<package>.md (score per file, every survivor) and keeps the HTML report
# in reports/mutation/ (a CI artifact). Packages: MUTATION_PACKAGES (default "core web collaborator").
# node is out of the default for now: issue 23's new node tests changed every spec its committed
# results were keyed to, so its run starts over (1313 mutants, about 80 minutes on two shared
# cores, too long for CI). Run it with MUTATION_PACKAGES=node; it returns to the default with its
# results committed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
# StrykerJS 10 needs Node >= 22; the tests it runs do not mind.
node22=$(bash scripts/setup-node22.sh)
for package in ${MUTATION_PACKAGES:-core web collaborator}; do
  echo "mutation-test: $package"
  status=0
  (cd "packages/$package" && PATH="$node22:$PATH" node ../../node_modules/@stryker-mutator/core/bin/stryker.js run stryker.config.mjs) || status=$?
  node scripts/mutation-report.mjs "$package"
  if [ "$status" -ne 0 ]; then
    echo "mutation-test: $package failed (score below its floor, or Stryker could not run): see docs/mutation/$package.md" >&2
    exit "$status"
  fi
done
