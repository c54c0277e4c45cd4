#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of Secure Perimeter on
# Debian 12 (bookworm), from Debian's own packages. Idempotent; run as root.
# The Go toolchain is Debian's too: the Noise interoperability test builds a
# peer on github.com/flynn/noise from the Go module proxy (modules pinned by
# tests/interop/go-noise-peer/go.sum).
set -euo pipefail

packages=(
  # toolchain and build
  build-essential cmake ninja-build pkg-config git ca-certificates
  # libraries (DESIGN.md section 9)
  libssl-dev libcli11-dev nlohmann-json3-dev libcurl4-openssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # fuzzing (libFuzzer ships with clang's runtime)
  clang-14 libclang-rt-14-dev llvm-14
  # interoperability peers
  golang-go
)

if [[ $(id -u) -ne 0 ]]; then
  echo "setup.sh: run as root (it installs packages with apt-get)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup.sh: all packages present"
fi
