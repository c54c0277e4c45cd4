#!/usr/bin/env bash
# Smoke test of the perimeter binary: --help, --version, usage errors,
# noise keygen/pubkey (mode 0600, no overwrite) and the handshake demo.
set -euo pipefail
bin=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
fail() { echo "cli_smoke: FAIL: $*"; exit 1; }

"$bin" --help | grep -q "Secure Perimeter" || fail "--help"
"$bin" --version | grep -Eq '^perimeter [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"
if "$bin" no-such-command >/dev/null 2>&1; then fail "unknown subcommand accepted"; fi

pub=$("$bin" noise keygen --out "$work/server.key" | sed -n 's/^public key: //p')
[[ $pub =~ ^[0-9a-f]{64}$ ]] || fail "keygen public key '$pub'"
[[ $(stat -c %a "$work/server.key") == 600 ]] || fail "key file mode"
[[ $("$bin" noise pubkey --key "$work/server.key") == "$pub" ]] || fail "pubkey differs"
if "$bin" noise keygen --out "$work/server.key" 2>"$work/err"; then fail "keygen overwrote a key"; fi
grep -q "cli.key_file_exists" "$work/err" || fail "keygen error reason"
echo "not hex" > "$work/bad.key"
if "$bin" noise pubkey --key "$work/bad.key" 2>"$work/err"; then fail "bad key accepted"; fi
grep -q "cli.bad_key_file" "$work/err" || fail "bad key reason"

"$bin" noise demo --server-key "$work/server.key" > "$work/demo.out"
grep -q "completed XX;" "$work/demo.out" || fail "demo XX"
grep -q "completed IK;" "$work/demo.out" || fail "demo IK"
grep -q "completed XXfallback;" "$work/demo.out" || fail "demo XXfallback"
echo "cli_smoke: 1 passed, 0 failed"
