#!/usr/bin/env bash
# SEV-SNP verifier interoperability test: `perimeter attest verify` against an
# independent verifier built on github.com/google/go-sev-guest
# (tests/interop/snp-check, modules pinned by its go.sum).
#
# Usage: run_snp_check.sh PATH/TO/perimeter TESTDATA_DIR WORKDIR
#
# Both verifiers judge the same report, VEK, chain and time; every case has an
# expected verdict, and it passes iff both verifiers give that verdict.
#
# Real reports (TESTDATA_DIR/snp/index.json, listed by `snp-check -list-index`):
#   <name>/valid             at the middle of the VEK's validity      accept
#   <name>/measurement-flip  byte 0x90 (MEASUREMENT) inverted          reject
#   <name>/report-data-flip  byte 0x50 (REPORT_DATA) inverted          reject
#   <name>/signature-flip    byte 0x2A0 (signature R) inverted         reject
#   <name>/after-vek-expiry  one day after the VEK's notAfter          reject
#   <name>/crl               Milan VCEK reports, with crl/Milan.crl.der at
#                            a time inside the CRL's validity           accept
# Simulated platform (`perimeter sim init` / `sim report`):
#   sim/valid-trust-root     --trust-root DIR/ark.pem                  accept
#   sim/valid-crl            same, with DIR/crl.der                    accept
#   sim/builtin-roots        no trust root: AMD's roots                reject
#   sim/{measurement,report-data,signature}-flip  with the trust root  reject
#   sim/after-vek-expiry     one day after the sim VCEK's notAfter     reject
#
# go-sev-guest's verify package checks authenticity only (VEK form, chain,
# validity, CRL, signature), not a guest policy, so our verifier runs with a
# permissive policy (OURS_POLICY_FLAGS) to compare like with like.
#
# A verdict is "accepted" (exit 0 and JSON "accepted": true), "rejected" (exit
# non-zero and JSON "accepted": false) or "error" (anything else, e.g. a usage
# error without a JSON verdict); an error never passes.
# The last line is "snp check: N passed, F failed"; the exit status is
# non-zero if F > 0 or N == 0.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 PATH/TO/perimeter TESTDATA_DIR WORKDIR" >&2
  exit 2
fi

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
perimeter=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
testdata=$(cd "$2" && pwd)
mkdir -p "$3"
workdir=$(cd "$3" && pwd)
snp_check=$workdir/snp-check
index=$testdata/snp/index.json

if [[ ! -x $perimeter ]]; then
  echo "run_snp_check.sh: not an executable: $perimeter" >&2
  exit 2
fi
if [[ ! -f $index ]]; then
  echo "run_snp_check.sh: no $index" >&2
  exit 2
fi

OURS_POLICY_FLAGS=(--allow-debug --allow-migration-agent --max-vmpl 3)

# --- build snp-check ---------------------------------------------------------
go_bin=${GO:-}
if [[ -z $go_bin ]]; then
  if [[ -x /usr/lib/go-1.23/bin/go ]]; then
    go_bin=/usr/lib/go-1.23/bin/go
  elif command -v go >/dev/null 2>&1; then
    go_bin=$(command -v go)
  else
    echo "run_snp_check.sh: no Go toolchain found (set GO=...; scripts/setup.sh installs golang-1.23-go)" >&2
    exit 2
  fi
fi
# -mod=readonly: go.mod/go.sum are authoritative and never rewritten. GOWORK=off
# ignores any enclosing go.work; GOTOOLCHAIN=local never downloads a toolchain.
(
  cd "$script_dir/snp-check"
  GOFLAGS=-mod=readonly GOWORK=off GOTOOLCHAIN=local \
    "$go_bin" build -o "$snp_check" .
)

# --- helpers -----------------------------------------------------------------
passed=0
failed=0

# verdict WHO EXIT_CODE OUTPUT_FILE -> accepted | rejected | error
# ours rejects with any non-zero exit; snp-check with 1 (2 is a usage error).
verdict() {
  local who=$1 rc=$2 accepted
  accepted=$(tr -d '\n' <"$3" | grep -oE '^[[:space:]]*\{.*"accepted"[[:space:]]*:[[:space:]]*(true|false)' |
    grep -oE '(true|false)$' | head -1 || true)
  if [[ $rc -eq 0 && $accepted == true ]]; then
    echo accepted
  elif [[ $accepted == false ]] && { [[ $who == ours && $rc -ne 0 ]] || [[ $rc -eq 1 ]]; }; then
    echo rejected
  else
    echo error
  fi
}

# run_case NAME EXPECTED REPORT VEK CHAIN AT [key=value ...]
# keys: product, trust_root, crl
run_case() {
  local name=$1 expected=$2 report=$3 vek=$4 chain=$5 at=$6
  shift 6
  local product="" trust_root="" crl="" kv
  for kv in "$@"; do
    case $kv in
      product=*) product=${kv#product=} ;;
      trust_root=*) trust_root=${kv#trust_root=} ;;
      crl=*) crl=${kv#crl=} ;;
    esac
  done
  local dir=$workdir/cases/${name//\//_}
  mkdir -p "$dir"
  local ours_args=(attest verify --report "$report" --vcek "$vek" --chain "$chain" --at "$at" --json)
  local go_args=(-report "$report" -vcek "$vek" -chain "$chain" -at "$at")
  if [[ -n $product ]]; then
    ours_args+=(--product "$product")
    go_args+=(-product "$product")
  fi
  if [[ -n $trust_root ]]; then
    ours_args+=(--trust-root "$trust_root")
    go_args+=(-trust-root "$trust_root")
  fi
  if [[ -n $crl ]]; then
    ours_args+=(--crl "$crl")
    go_args+=(-crl "$crl")
  fi
  ours_args+=("${OURS_POLICY_FLAGS[@]}")
  local ours_rc=0 go_rc=0
  timeout 60 "$perimeter" "${ours_args[@]}" >"$dir/ours.out" 2>"$dir/ours.err" || ours_rc=$?
  timeout 60 "$snp_check" "${go_args[@]}" >"$dir/go.out" 2>"$dir/go.err" || go_rc=$?
  local ours go
  ours=$(verdict ours "$ours_rc" "$dir/ours.out")
  go=$(verdict go "$go_rc" "$dir/go.out")
  local agreement=agree
  [[ $ours == "$go" && $ours != error ]] || agreement=DISAGREE
  echo "snp-check $name: ours=$ours go-sev-guest=$go: $agreement"
  if [[ $agreement == agree && $ours == "$expected" ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    [[ $agreement == DISAGREE ]] || echo "    both $ours, expected $expected"
    echo "    ours: exit $ours_rc; $perimeter ${ours_args[*]}"
    {
      sed -nE 's/.*"(reason|error)"[[:space:]]*:[[:space:]]*"([^"]+)".*/\1: \2/p' "$dir/ours.out" | head -5
      head -c 600 "$dir/ours.err"
    } | sed 's/^/      /'
    echo "    go-sev-guest: exit $go_rc; $(head -c 600 "$dir/go.out")"
    [[ ! -s $dir/go.err ]] || head -c 600 "$dir/go.err" | sed 's/^/      /'
  fi
}

# mutate NAME REPORT OFFSET -> path of a raw copy with the byte inverted
mutate() {
  local out=$workdir/mutated/$1.bin
  mkdir -p "$workdir/mutated"
  "$snp_check" -mutate "$3" -report "$2" -out "$out"
  echo "$out"
}

mutations=("measurement-flip 0x90" "report-data-flip 0x50" "signature-flip 0x2A0")

# --- real reports ------------------------------------------------------------
"$snp_check" -list-index "$index" >"$workdir/index.tsv"
crl=$testdata/snp/crl/Milan.crl.der
crl_time=2026-07-15T00:00:00Z # inside Milan.crl.der's [thisUpdate, nextUpdate]

while IFS=$'\t' read -r name report vek chain not_before at after product version signing; do
  # A VEK file that bundles the chain (VCEK, ASK, ARK): give both its first
  # certificate, the VEK.
  if [[ $(grep -c 'BEGIN CERTIFICATE' "$vek" || true) -gt 1 ]]; then
    mkdir -p "$workdir/vek"
    "$snp_check" -first-cert "$vek" -out "$workdir/vek/$name.pem"
    vek=$workdir/vek/$name.pem
  fi
  opts=()
  if [[ $version -lt 3 ]]; then
    opts+=("product=${product,,}")
  fi
  run_case "$name/valid" accepted "$report" "$vek" "$chain" "$at" "${opts[@]}"
  for m in "${mutations[@]}"; do
    read -r mname off <<<"$m"
    run_case "$name/$mname" rejected "$(mutate "$name-$mname" "$report" "$off")" \
      "$vek" "$chain" "$at" "${opts[@]}"
  done
  run_case "$name/after-vek-expiry" rejected "$report" "$vek" "$chain" "$after" "${opts[@]}"
  # The Milan CRL, for Milan VCEKs valid at crl_time.
  if [[ $product == Milan && $signing == VCEK && -f $crl ]] &&
    (($(date -u -d "$not_before" +%s) < $(date -u -d "$crl_time" +%s))) &&
    (($(date -u -d "$after" +%s) - 86400 > $(date -u -d "$crl_time" +%s))); then
    run_case "$name/crl" accepted "$report" "$vek" "$chain" "$crl_time" "${opts[@]}" "crl=$crl"
  fi
done <"$workdir/index.tsv"

# --- simulated platform ------------------------------------------------------
sim_dir=$workdir/sim
rm -rf "$sim_dir"
if "$perimeter" sim init "$sim_dir" --product milan --not-before 2026-01-01T00:00:00Z --days 365 \
  >"$workdir/sim-init.out" 2>&1; then
  sim_report=$workdir/sim-report.bin
  measurement=$(printf 'secure-perimeter snp-check measurement' | sha384sum | cut -c1-96)
  report_data=$(printf 'secure-perimeter snp-check report data' | sha512sum | cut -c1-128)
  if "$perimeter" sim report --dir "$sim_dir" --out "$sim_report" --version 5 \
    --measurement "$measurement" --report-data "$report_data" >"$workdir/sim-report.out" 2>&1 &&
    sim_not_after=$("$snp_check" -not-after "$sim_dir/vcek.der" 2>>"$workdir/sim-report.out") &&
    [[ -f $sim_report && -f $sim_dir/cert_chain.pem && -f $sim_dir/ark.pem && -f $sim_dir/crl.der ]]; then
    sim_at=2026-07-01T00:00:00Z
    sim_after=$(date -u -d "@$(($(date -u -d "$sim_not_after" +%s) + 86400))" +%Y-%m-%dT%H:%M:%SZ)
    sv=$sim_dir/vcek.der sc=$sim_dir/cert_chain.pem sr=trust_root=$sim_dir/ark.pem
    run_case sim/valid-trust-root accepted "$sim_report" "$sv" "$sc" "$sim_at" "$sr"
    run_case sim/valid-crl accepted "$sim_report" "$sv" "$sc" "$sim_at" "$sr" "crl=$sim_dir/crl.der"
    run_case sim/builtin-roots rejected "$sim_report" "$sv" "$sc" "$sim_at"
    for m in "${mutations[@]}"; do
      read -r mname off <<<"$m"
      run_case "sim/$mname" rejected "$(mutate "sim-$mname" "$sim_report" "$off")" \
        "$sv" "$sc" "$sim_at" "$sr"
    done
    run_case sim/after-vek-expiry rejected "$sim_report" "$sv" "$sc" "$sim_after" "$sr"
  else
    echo "snp-check sim: FAIL: perimeter sim report failed or left files missing:"
    head -c 2000 "$workdir/sim-report.out" | sed 's/^/    /'
    failed=$((failed + 1))
  fi
else
  echo "snp-check sim: FAIL: perimeter sim init failed:"
  head -c 2000 "$workdir/sim-init.out" | sed 's/^/    /'
  failed=$((failed + 1))
fi

echo "snp check: $passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
