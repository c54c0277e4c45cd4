#!/usr/bin/env bash
# Builds the release benchmarks and runs them; each prints its targets and the
# ratios measured in the same run. Run on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
scripts/build.sh bench
build/bench/benchmarks/noise_bench "$@"
build/bench/benchmarks/attest_bench "$@"
build/bench/benchmarks/store_bench "$@"
