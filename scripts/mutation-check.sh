#!/usr/bin/env bash
# Mutation check: breaks one rule at a time in a scratch copy of packages/core, runs core's suite
# there, and fails if a mutation survives (the suite still passes). Each mutation is a literal
# text replacement; one that no longer applies (the code moved) fails the check too, so the list
# is kept in step with the code.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
ln -s "$repo/node_modules" "$scratch/node_modules"
cp tsconfig.base.json "$scratch/"

# name | file (under packages/core/src) | text | replacement
mutations=(
  "response header: sender and receiver swapped|message-header.ts|sender: identity.aggregatorUuid,
    receiver: identity.collaboratorName,|sender: identity.collaboratorName,
    receiver: identity.aggregatorUuid,"
  "DATA_LOSS made retryable|failure-classifier.ts|  [Code.DataLoss, \"data loss\"],
|"
  "FAILED_PRECONDITION made retryable|failure-classifier.ts|  [Code.FailedPrecondition, \"the aggregator is not in a state to serve this call\"],
|"
  "an acknowledged upload never leaves the resend buffer|aggregator-client.ts|    await this.#options.resendBuffer.acknowledge(pending.id);|    void pending;"
  "resendPending sends each upload twice|aggregator-client.ts|    for (const request of pending) await this.#deliver(request, options);|    for (const request of pending) {
      await this.#deliver(request, options);
      await this.#deliver(request, options);
    }"
  "every upload attempt goes out twice|aggregator-client.ts|        (c, o) => c.sendLocalTaskResults(chunkStream(pending.parts, chunkBytes), o),|        async (c, o) => {
          await c.sendLocalTaskResults(chunkStream(pending.parts, chunkBytes), o);
          return c.sendLocalTaskResults(chunkStream(pending.parts, chunkBytes), o);
        },"
  "tensor bytes written big-endian|tensor-codec.ts|  if (data instanceof Float32Array && platformIsLittleEndian) {
    const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return zeroCopy ? view : view.slice();
  }
  const bytes = new Uint8Array(count * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) view.setFloat32(i * 4, data[i] as number, true);|  void zeroCopy;
  const bytes = new Uint8Array(count * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) view.setFloat32(i * 4, data[i] as number, false);"
)

survived=0
for entry in "${mutations[@]}"; do
  IFS='|' read -r -d '' name file text replacement <<<"$entry" || true
  replacement="${replacement%$'\n'}"
  work="$scratch/packages/core"
  rm -rf "$work"
  mkdir -p "$work"
  cp -r packages/core/src packages/core/package.json packages/core/tsconfig.json "$work/"
  ln -s "$repo/packages/core/node_modules" "$work/node_modules"
  if ! MUTATION_TEXT="$text" MUTATION_REPLACEMENT="$replacement" node -e '
    const fs = require("node:fs");
    const [file] = process.argv.slice(1);
    const source = fs.readFileSync(file, "utf8");
    const text = process.env.MUTATION_TEXT;
    if (!source.includes(text)) process.exit(3);
    fs.writeFileSync(file, source.replace(text, process.env.MUTATION_REPLACEMENT));
  ' "$work/src/$file"; then
    echo "mutation-check: '$name' no longer applies to packages/core/src/$file: update the list" >&2
    exit 1
  fi
  if (cd "$work" && timeout 300 node --import tsx --test --test-reporter=tap --test-timeout=120000 src/*.spec.ts >"$scratch/log" 2>&1); then
    echo "SURVIVED: $name (core's suite still passes)"
    survived=$((survived + 1))
  else
    first=$(grep -m1 -E '^\s*not ok [0-9]+ - ' "$scratch/log" | sed -E 's/^\s*not ok [0-9]+ - //' || true)
    echo "caught:   $name (first failing test: ${first:-none reported; see the log})"
  fi
done
if [ "$survived" -gt 0 ]; then
  echo "mutation-check: $survived mutation(s) survived" >&2
  exit 1
fi
echo "mutation-check: all ${#mutations[@]} mutations caught"
