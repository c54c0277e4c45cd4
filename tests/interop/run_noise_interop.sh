#!/usr/bin/env bash
# Noise Pipes interoperability test: our C++ peer against an independent Go
# peer built on github.com/flynn/noise (tests/interop/go-noise-peer).
#
# Usage: run_noise_interop.sh PATH/TO/noise_interop_peer WORKDIR
#
# Both peers take the same flags (see go-noise-peer/main.go). For each pattern
# {XX, IK} and each direction {go-client->cpp-server, cpp-client->go-server}
# the script runs one session and checks both exit codes, the equality of the
# handshake hashes, the static keys each side learned and the server payload.
# It also checks that both peers derive the same public keys, and runs one
# negative IK case per direction where the client holds a wrong server key.
# The last line is "noise interop: N passed, F failed"; the exit status is
# non-zero if F > 0.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 PATH/TO/noise_interop_peer WORKDIR" >&2
  exit 2
fi

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cpp_peer=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
mkdir -p "$2"
workdir=$(cd "$2" && pwd)
go_peer=$workdir/go-noise-peer

if [[ ! -x $cpp_peer ]]; then
  echo "run_noise_interop.sh: not an executable: $cpp_peer" >&2
  exit 2
fi

# --- build the Go peer -------------------------------------------------------
go_bin=${GO:-}
if [[ -z $go_bin ]]; then
  if command -v go >/dev/null 2>&1; then
    go_bin=$(command -v go)
  elif [[ -x /usr/local/go/bin/go ]]; then
    go_bin=/usr/local/go/bin/go
  else
    echo "run_noise_interop.sh: no Go toolchain found (set GO=...)" >&2
    exit 2
  fi
fi
# -mod=readonly: go.mod/go.sum are authoritative and never rewritten (a
# GOFLAGS=-mod=mod from the environment would let the build update them).
# GOWORK=off ignores any enclosing go.work; GOTOOLCHAIN=local never downloads
# another toolchain.
(
  cd "$script_dir/go-noise-peer"
  GOFLAGS=-mod=readonly GOWORK=off GOTOOLCHAIN=local \
    "$go_bin" build -o "$go_peer" .
)

# --- helpers -----------------------------------------------------------------
passed=0
failed=0

# Deterministic 32-byte key (hex) from a label.
key_for() { printf '%s' "secure-perimeter interop key: $1" | sha256sum | cut -c1-64; }

# Deterministic pseudo-random bytes (hex): $1 = count, $2 = seed (LCG, exact
# in awk's double arithmetic because every product stays below 2^53).
pseudo_random_hex() {
  awk -v n="$1" -v seed="$2" 'BEGIN {
    x = seed % 4294967296
    for (i = 0; i < n; i++) {
      x = (x * 69069 + 1) % 4294967296
      printf "%02x", int(x / 16777216)
    }
  }'
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "run_noise_interop.sh: no free port found" >&2
  return 1
}

# The single JSON line a peer printed, or nothing if stdout is not exactly one
# line that looks like a JSON object.
json_line() {
  local f=$1
  [[ $(grep -c . "$f" || true) -eq 1 ]] || return 0
  grep -E '^[[:space:]]*\{.*\}[[:space:]]*$' "$f" || true
}

# Value of a string field, of a hex string field (lower-cased) or of a number
# field of a JSON line.
json_str() {
  sed -nE "s/.*\"$2\"[[:space:]]*:[[:space:]]*\"([^\"]*)\".*/\1/p" <<<"$1"
}
json_hex() { json_str "$1" "$2" | tr 'A-F' 'a-f'; }
json_num() {
  sed -nE "s/.*\"$2\"[[:space:]]*:[[:space:]]*([0-9]+).*/\1/p" <<<"$1"
}

report() { # $1 = case name, $2 = list of problems (empty means ok), $3 = case dir
  if [[ -z $2 ]]; then
    echo "interop $1: ok"
    passed=$((passed + 1))
  else
    echo "interop $1: FAIL"
    printf '%s' "$2" | sed 's/^/    /'
    local f
    for f in "$3"/*.out "$3"/*.err; do
      [[ -s $f ]] || continue
      echo "    --- $(basename "$f"):"
      head -c 2000 "$f" | sed 's/^/      /'
      echo
    done
    failed=$((failed + 1))
  fi
}

# Run one session. Sets srv_rc, cli_rc; output in $dir/{server,client}.{out,err}.
# $1 dir, $2 server exe, $3 client exe, $4 pattern, $5 server key, $6 client
# key, $7 remote static given to the client ("" for XX), $8 server payload hex,
# $9 messages.
run_session() {
  local dir=$1 srv=$2 cli=$3 pattern=$4 skey=$5 ckey=$6 remote=$7 payload=$8 n=$9
  local port srv_pid
  mkdir -p "$dir"
  port=$(free_port)
  timeout 40 "$srv" -role server -pattern "$pattern" -addr "127.0.0.1:$port" \
    -static-key "$skey" -server-payload "$payload" -messages "$n" \
    >"$dir/server.out" 2>"$dir/server.err" &
  srv_pid=$!
  local cli_args=(-role client -pattern "$pattern" -addr "127.0.0.1:$port"
    -static-key "$ckey" -messages "$n")
  if [[ -n $remote ]]; then
    cli_args+=(-remote-static "$remote")
  fi
  cli_rc=0
  timeout 40 "$cli" "${cli_args[@]}" >"$dir/client.out" 2>"$dir/client.err" || cli_rc=$?
  srv_rc=0
  wait "$srv_pid" || srv_rc=$?
}

# --- cases -------------------------------------------------------------------
messages=6
payload_len=3000
seed=1

# Both peers must derive the same public key from the same private key.
keys_problems=""
for label in check-a check-b check-c; do
  k=$(key_for "$label")
  go_pub=$("$go_peer" -print-public -static-key "$k" 2>/dev/null || true)
  cpp_pub=$("$cpp_peer" -print-public -static-key "$k" 2>/dev/null || true)
  cpp_pub=$(tr 'A-F' 'a-f' <<<"$cpp_pub")
  if [[ ! $go_pub =~ ^[0-9a-f]{64}$ ]]; then
    keys_problems+="go peer -print-public gave '$go_pub' for $k"$'\n'
  elif [[ $cpp_pub != "$go_pub" ]]; then
    keys_problems+="public key for $k: cpp '$cpp_pub' != go '$go_pub'"$'\n'
  fi
done
report "public-key derivation cpp==go" "$keys_problems" "$workdir"

for pattern in XX IK; do
  for direction in go-client-cpp-server cpp-client-go-server; do
    if [[ $direction == go-client-cpp-server ]]; then
      name="$pattern go-client->cpp-server" cli=$go_peer srv=$cpp_peer
    else
      name="$pattern cpp-client->go-server" cli=$cpp_peer srv=$go_peer
    fi
    dir=$workdir/$pattern-$direction
    rm -rf "$dir"
    skey=$(key_for "$pattern $direction server")
    ckey=$(key_for "$pattern $direction client")
    spub=$("$go_peer" -print-public -static-key "$skey")
    cpub=$("$go_peer" -print-public -static-key "$ckey")
    payload=$(pseudo_random_hex "$payload_len" "$seed")
    seed=$((seed + 1))
    remote=""
    if [[ $pattern == IK ]]; then remote=$spub; fi

    run_session "$dir" "$srv" "$cli" "$pattern" "$skey" "$ckey" "$remote" "$payload" "$messages"

    problems=""
    [[ $srv_rc -eq 0 ]] || problems+="server exited with $srv_rc"$'\n'
    [[ $cli_rc -eq 0 ]] || problems+="client exited with $cli_rc"$'\n'
    sj=$(json_line "$dir/server.out")
    cj=$(json_line "$dir/client.out")
    [[ -n $sj ]] || problems+="server did not print exactly one JSON line"$'\n'
    [[ -n $cj ]] || problems+="client did not print exactly one JSON line"$'\n'
    if [[ -n $sj && -n $cj ]]; then
      s_hash=$(json_hex "$sj" handshake_hash)
      c_hash=$(json_hex "$cj" handshake_hash)
      [[ $s_hash =~ ^[0-9a-f]{64}$ ]] || problems+="server handshake_hash '$s_hash' is not 32 bytes of hex"$'\n'
      [[ $s_hash == "$c_hash" ]] || problems+="handshake_hash differs: server $s_hash, client $c_hash"$'\n'
      [[ $(json_hex "$cj" remote_static) == "$spub" ]] ||
        problems+="client remote_static $(json_hex "$cj" remote_static) != server public key $spub"$'\n'
      [[ $(json_hex "$sj" remote_static) == "$cpub" ]] ||
        problems+="server remote_static $(json_hex "$sj" remote_static) != client public key $cpub"$'\n'
      [[ $(json_hex "$sj" server_payload) == "$payload" ]] ||
        problems+="server reports a server_payload other than the one it was given"$'\n'
      [[ $(json_hex "$cj" server_payload) == "$(json_hex "$sj" server_payload)" ]] ||
        problems+="client received a server_payload other than the one the server sent"$'\n'
      for side in sj cj; do
        j=${!side}
        [[ $(json_str "$j" pattern) == "$pattern" ]] ||
          problems+="$side: pattern field is '$(json_str "$j" pattern)', want $pattern"$'\n'
        [[ $(json_num "$j" messages) == "$messages" ]] ||
          problems+="$side: messages field is '$(json_num "$j" messages)', want $messages"$'\n'
      done
      [[ $(json_str "$sj" role) == server ]] || problems+="server: role field is not server"$'\n'
      [[ $(json_str "$cj" role) == client ]] || problems+="client: role field is not client"$'\n'
    fi
    report "$name" "$problems" "$dir"
  done
done

# Negative: IK where the client holds a wrong server public key. The server
# must not complete (non-zero exit or no JSON) and the client must fail
# (non-zero exit and no JSON).
for direction in go-client-cpp-server cpp-client-go-server; do
  if [[ $direction == go-client-cpp-server ]]; then
    name="IK wrong-server-key go-client->cpp-server" cli=$go_peer srv=$cpp_peer
  else
    name="IK wrong-server-key cpp-client->go-server" cli=$cpp_peer srv=$go_peer
  fi
  dir=$workdir/IK-wrongkey-$direction
  rm -rf "$dir"
  skey=$(key_for "IK wrongkey $direction server")
  ckey=$(key_for "IK wrongkey $direction client")
  wrong_pub=$("$go_peer" -print-public -static-key "$(key_for "IK wrongkey $direction other")")
  payload=$(pseudo_random_hex "$payload_len" "$seed")
  seed=$((seed + 1))

  run_session "$dir" "$srv" "$cli" IK "$skey" "$ckey" "$wrong_pub" "$payload" "$messages"

  problems=""
  if [[ $srv_rc -eq 0 && -n $(json_line "$dir/server.out") ]]; then
    problems+="server completed the session with a client that used a wrong server key"$'\n'
  fi
  [[ $cli_rc -ne 0 ]] || problems+="client exited 0"$'\n'
  [[ -z $(json_line "$dir/client.out") ]] || problems+="client printed a success JSON line"$'\n'
  [[ $srv_rc -ne 124 && $cli_rc -ne 124 ]] || problems+="a peer hung until the 40 s timeout"$'\n'
  report "$name" "$problems" "$dir"
done

echo "noise interop: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
