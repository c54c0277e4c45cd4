#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of Secure Perimeter on
# Debian 12 (bookworm), from Debian's own packages. Idempotent; run as root.
# The Go toolchain is Debian's too, golang-1.23-go from bookworm-backports
# (bookworm's own golang-go is 1.19, too old for github.com/google/go-sev-guest);
# its binary is /usr/lib/go-1.23/bin/go, which tests/CMakeLists.txt prefers.
# The interoperability tests build Go peers from the Go module proxy: the Noise
# test on github.com/flynn/noise (tests/interop/go-noise-peer/go.sum) and the
# SEV-SNP test on github.com/google/go-sev-guest (tests/interop/snp-check/go.sum).
set -euo pipefail

packages=(
  # toolchain and build
  build-essential cmake ninja-build pkg-config git ca-certificates ccache
  # libraries (DESIGN.md section 9)
  libssl-dev libcli11-dev nlohmann-json3-dev libcurl4-openssl-dev libsqlite3-dev
  libboost-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3-venv
  # fuzzing (libFuzzer ships with clang's runtime)
  clang-14 libclang-rt-14-dev llvm-14
)
# interoperability peers (Go), installed from bookworm-backports below
backports_packages=(golang-1.23-go)
backports_sources=/etc/apt/sources.list.d/bookworm-backports.sources

if [[ $(id -u) -ne 0 ]]; then
  echo "setup.sh: run as root (it installs packages with apt-get)" >&2
  exit 1
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
missing_backports=()
for p in "${backports_packages[@]}"; do
  installed "$p" || missing_backports+=("$p")
done

# bookworm-backports as a deb822 source; rewritten only when its content differs.
backports_entry='Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'
sources_changed=0
if [[ ! -f $backports_sources ]] || [[ $(cat "$backports_sources") != "$backports_entry" ]]; then
  echo "setup.sh: adding $backports_sources"
  printf '%s\n' "$backports_entry" >"$backports_sources"
  sources_changed=1
fi

export DEBIAN_FRONTEND=noninteractive
if ((${#missing[@]} + ${#missing_backports[@]})) || ((sources_changed)); then
  apt-get update -qq
fi
if ((${#missing[@]})); then
  echo "setup.sh: installing ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ((${#missing_backports[@]})); then
  echo "setup.sh: installing ${missing_backports[*]} from bookworm-backports"
  apt-get install -y -qq --no-install-recommends -t bookworm-backports "${missing_backports[@]}"
fi
if ! ((${#missing[@]} + ${#missing_backports[@]})); then
  echo "setup.sh: all packages present"
fi
