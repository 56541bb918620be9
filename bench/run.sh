#!/usr/bin/env bash
# Benchmarks (see bench/README.md). Usage: bash bench/run.sh [--sizes 1,16,64,256] [--reps 2]
# [--e-reps 5] [--sections abcde] [--skip-python] [--no-profile] [--print]
# Writes the "benchmarks" (a-d) and "client-alone" (e) sections of docs/benchmarks.md (--print: stdout).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  echo "No .venv: run 'bash scripts/setup-python.sh' for the OpenFL comparison, or pass --skip-python" >&2
  case " $* " in *" --skip-python "*) ;; *) exit 2 ;; esac
fi
cd packages/evidence
exec node --import tsx src/bench/run-benchmarks.ts "$@"
