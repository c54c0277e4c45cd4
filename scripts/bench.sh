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
build/bench/benchmarks/channel_bench "$@"
# Server handshakes per second over loopback with many clients, and per
# server-CPU-second (the Release server and the load tool, in the same run).
build/bench/tests/perimeter_load --clients 0 --idle-sessions 0 --rate-seconds 10 --rate-clients 32
