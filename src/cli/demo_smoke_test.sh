#!/usr/bin/env bash
# The main job as a test: `perimeter demo` must exit 0 and its transcript
# must show both verdicts (v1 accepted, the changed v2 rejected for its
# measurement), the isolation of the two users and IK on reconnection.
# Usage: demo_smoke_test.sh PERIMETER_BINARY WORKDIR
set -euo pipefail
perimeter=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
out="$work/transcript.txt"
if ! "$perimeter" demo --dir "$work/demo" >"$out" 2>&1; then
  cat "$out"
  echo "demo smoke: perimeter demo failed"
  exit 1
fi
failed=0
expect() {
  if ! grep -qF -- "$1" "$out"; then
    echo "demo smoke: missing in the transcript: $1"
    failed=1
  fi
}
expect "verdict: ACCEPTED"
expect "[pass] REPORT_DATA binds the server's Noise static key"
expect "Bob: list \"\" -> [notes/diary]"
expect "handshake: IK"
expect "Alice: get notes/diary -> \"Alice: the meeting moved to Tuesday\""
expect "[FAIL] launch measurement allowed  (snp.policy_measurement)"
expect "verdict: REJECTED (snp.policy_measurement)"
expect "servers exited with 0 and 0"
if ((failed)); then
  cat "$out"
  exit 1
fi
echo "demo smoke: transcript has every expected step ($(wc -l <"$out") lines)"
