#!/usr/bin/env bash
# Sets up (scripts/setup.sh), builds and runs every test:
#   1. the development build: unit, integration and interoperability tests;
#   2. the ASan+UBSan build: the unit and integration tests again;
#   3. the libFuzzer build (Clang): each fuzz target for a bounded time.
# Exits non-zero if any test fails. Set PERIMETER_FUZZ_SECONDS to change the
# time per fuzz target (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)

echo "== dev build: all tests"
scripts/build.sh dev
ctest --preset dev -j "$jobs"

echo "== asan build (address,undefined): unit and integration tests"
scripts/build.sh asan
ctest --preset asan -j "$jobs"

if [[ -f fuzz/CMakeLists.txt ]]; then
  echo "== fuzz build: bounded fuzzing of each target"
  scripts/build.sh fuzz -DPERIMETER_FUZZ_SECONDS="${PERIMETER_FUZZ_SECONDS:-20}"
  ctest --preset fuzz
fi
echo "== all test suites passed"
