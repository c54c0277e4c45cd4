#!/usr/bin/env bash
# Sets up, builds (release) and runs the main job on the embedded default (no
# TEE): `perimeter demo`, which creates a simulated SEV-SNP platform, starts
# `perimeter serve` on 127.0.0.1, lets two clients verify it (every check
# printed) and keep their own data, then shows a server whose code changed
# being rejected. Extra arguments go to `perimeter demo` (e.g. --dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
scripts/build.sh release
exec build/release/src/cli/perimeter demo "$@"
