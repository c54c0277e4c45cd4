#!/usr/bin/env bash
# The independent Python client (client.py, written from docs/wire-protocol.md
# and docs/evidence.md alone) against a real `perimeter serve` on 127.0.0.1,
# over TCP and over WebSocket.
#
#   run_python_client.sh PERIMETER_BINARY WORKDIR
#
# Creates a venv in WORKDIR with the pinned PyPI packages of requirements.txt,
# a simulated platform, a master secret and a server; runs the client's
# offline known-answer checks, then the client over TCP and over WebSocket;
# stops the server with SIGTERM (it must exit 0). PYTHON3 names the
# interpreter that makes the venv (default: python3 on PATH). Prints
# "python client: N passed, M failed" last; exits non-zero on any failure.
set -uo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 PERIMETER_BINARY WORKDIR" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
binary=$1
work=$2
passed=0
failed=0
server_pid=

check() {  # check NAME CONDITION-EXIT-STATUS
  if [[ $2 -eq 0 ]]; then
    passed=$((passed + 1)); echo "PASS [script] $1"
  else
    failed=$((failed + 1)); echo "FAIL [script] $1"
  fi
}
finish() {
  echo "python client: $passed passed, $failed failed"
  [[ $failed -eq 0 ]] && exit 0 || exit 1
}
fatal() {
  check "$1" 1
  finish
}
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
}
trap cleanup EXIT

python=${PYTHON3:-python3}
command -v "$python" >/dev/null || fatal "python3 is installed"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || fatal "python3 is 3.11 or newer"
[[ -x $binary ]] || fatal "perimeter binary $binary exists"
mkdir -p "$work" || fatal "create $work"
work=$(cd "$work" && pwd)

# The venv is rebuilt only when requirements.txt changes.
venv=$work/venv
stamp=$venv/.requirements.sha256
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [[ ! -x $venv/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  rm -rf "$venv"
  "$python" -m venv "$venv" || fatal "python3 -m venv (install python3-venv)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$here/requirements.txt" || fatal "pip install -r requirements.txt"
  echo "$want" >"$stamp"
fi
py=$venv/bin/python
echo "venv: $("$py" -m pip freeze --disable-pip-version-check | tr '\n' ' ')"

# A fresh run directory. The binary is copied so that a rebuild while the test
# runs cannot make the served and the expected measurement differ.
run=$work/run
rm -rf "$run"
mkdir -p "$run/data"
cp "$binary" "$run/perimeter" || fatal "copy the perimeter binary"
perimeter=$run/perimeter

"$perimeter" sim init "$run/sim" >"$run/sim-init.log" 2>&1
check "perimeter sim init" $? || true
(umask 077 && "$py" -c 'import secrets; print(secrets.token_hex(32), end="")' >"$run/master.hex")
chmod 600 "$run/master.hex"

"$perimeter" serve --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --provider simulated \
  --sim-platform "$run/sim" --data-dir "$run/data" --master-secret "$run/master.hex" \
  --pod-id py-pod --ready-file "$run/ready.json" >"$run/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 300); do
  [[ -s $run/ready.json ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ ! -s $run/ready.json ]]; then
  cat "$run/server.log"
  fatal "server wrote its ready file"
fi
check "server wrote its ready file" 0
tcp=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["tcp"])' "$run/ready.json")
http=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$run/ready.json")
measurement=$("$perimeter" sim measure --workload "$perimeter")
[[ $measurement =~ ^[0-9a-f]{96}$ ]]
check "perimeter sim measure: $measurement" $?

run_client() {  # run_client LABEL ARGS...
  local label=$1 out rc p f
  shift
  out=$(timeout 300 "$py" "$here/client.py" "$@" 2>&1)
  rc=$?
  echo "$out"
  p=$(sed -n 's/^RESULT passed=\([0-9]*\) failed=\([0-9]*\)$/\1/p' <<<"$out")
  f=$(sed -n 's/^RESULT passed=\([0-9]*\) failed=\([0-9]*\)$/\2/p' <<<"$out")
  if [[ -z $p || -z $f ]]; then
    check "client.py $label ran to the end (exit $rc)" 1
    return
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  (( (rc == 0) == (f == 0) ))
  check "client.py $label exit status agrees with its result ($rc)" $?
}
run_client selftest --selftest
run_client tcp --skip-selftest --transport tcp --addr "$tcp" \
  --expect-measurement "$measurement" --trust-root "$run/sim/ark.pem"
run_client ws --skip-selftest --transport ws --addr "$http" \
  --expect-measurement "$measurement" --trust-root "$run/sim/ark.pem"

kill -TERM "$server_pid"
wait "$server_pid"
rc=$?
server_pid=
check "server exited 0 on SIGTERM (exit $rc)" "$rc"
if [[ $rc -ne 0 ]]; then tail -20 "$run/server.log"; fi
finish
