#!/usr/bin/env bash
# Configures and builds one CMake preset: scripts/build.sh [PRESET [-DVAR=VALUE...]]
# (default preset: dev; the -D arguments go to the configure step).
# Uses ccache when it is installed (scripts/setup.sh installs it): compiler
# outputs are cached by content, relative to the checkout, so a second clone
# of the same commit (CI) reuses what an earlier build compiled.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-dev}
shift || true
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake --preset "$preset" "${launcher[@]}" "$@" >/dev/null
cmake --build --preset "$preset"
