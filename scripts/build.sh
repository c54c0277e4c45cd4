#!/usr/bin/env bash
# Configures and builds one CMake preset: scripts/build.sh [PRESET] (default: dev).
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-dev}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
