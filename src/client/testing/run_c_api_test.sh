#!/bin/bash
# Runs c_api_test (the C API from C) against client_test_peer over TCP and
# WebSocket. Usage: run_c_api_test.sh PEER C_API_TEST WORKDIR
set -euo pipefail
peer=$1 test=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
"$peer" "$work" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  [ -f "$work/ready" ] && break
  kill -0 $pid 2>/dev/null || { echo "client_test_peer exited early" >&2; exit 1; }
  sleep 0.1
done
[ -f "$work/ready" ] || { echo "client_test_peer did not become ready" >&2; exit 1; }
read -r tcp ws at < "$work/ready"
mkdir -p "$work/tcp" "$work/ws"
"$test" "$tcp" "$work/trust.yaml" "$work/tcp" "$at"
"$test" "$ws" "$work/trust.yaml" "$work/ws" "$at"
