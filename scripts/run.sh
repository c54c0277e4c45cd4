#!/usr/bin/env bash
# Sets up, builds and runs the main job on the embedded default (no TEE):
# today, the Noise Pipes demonstration of `perimeter noise demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
scripts/build.sh release
exec build/release/src/cli/perimeter noise demo "$@"
