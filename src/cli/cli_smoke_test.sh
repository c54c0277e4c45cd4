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

# attest show: a real SEV-SNP report (text and JSON), a hex report, a
# truncated file.
testdata="$(cd "$(dirname "$0")/../../tests/testdata" && pwd)"
report="$testdata/snp/reports/genoa-v3-azure-trustee/report.bin"
measurement=f57dc09a507c6ecd82369bffb600f0003792f4d99bc26e985ec0c266fc34faf3706faf814c9e61065768a6ff917c89ae
"$bin" attest show "$report" > "$work/show.txt" || fail "attest show text"
grep -q "^measurement: $measurement\$" "$work/show.txt" || fail "attest show measurement"
grep -q "^product: Genoa\$" "$work/show.txt" || fail "attest show product"
grep -q "^reported_tcb.snp: 23\$" "$work/show.txt" || fail "attest show decoded tcb"
"$bin" attest show --json "$report" > "$work/show.json" || fail "attest show --json"
grep -q "\"measurement\": \"$measurement\"" "$work/show.json" || fail "attest show json measurement"
"$bin" attest show --product milan "$testdata/snp/reports/milan-v2-virtee-sev/report.hex" > "$work/v2.txt" \
  || fail "attest show hex v2"
grep -q "^product: Milan\$" "$work/v2.txt" || fail "attest show --product"
if "$bin" attest show --product turin "$report" >/dev/null 2>"$work/err"; then fail "product mismatch accepted"; fi
grep -q "cli.product_mismatch" "$work/err" || fail "product mismatch reason"
head -c 1183 "$report" > "$work/truncated.bin"
if "$bin" attest show "$work/truncated.bin" >/dev/null 2>"$work/err"; then fail "truncated report accepted"; fi
grep -q "snp.report_bad_size" "$work/err" || fail "truncated report reason"
# attest verify: a real Milan report with its chain and CRL at a fixed time is
# accepted (exit 0); a flipped measurement byte, an expired time and an
# unallowed measurement are rejected (exit 1) with their reasons.
milan="$testdata/snp/reports/milan-v3-oak-cb"
verify=("$bin" attest verify --report "$milan/report.bin" --vcek "$milan/vcek.der"
        --chain "$testdata/snp/amd-roots/ask_ark_milan.pem" --crl "$testdata/snp/crl/Milan.crl.der"
        --require-crl)
"${verify[@]}" --at 2026-07-01T00:00:00Z > "$work/verify.txt" || fail "attest verify rejected a real report"
grep -q "^verdict: ACCEPTED" "$work/verify.txt" || fail "attest verify verdict"
grep -q "root: AMD ARK-Milan (pinned)" "$work/verify.txt" || fail "attest verify root"
"${verify[@]}" --at 2026-07-01T00:00:00Z --json > "$work/verify.json" || fail "attest verify --json"
grep -q '"accepted": true' "$work/verify.json" || fail "attest verify json"
cp "$milan/report.bin" "$work/tampered.bin"
printf '\xff' | dd of="$work/tampered.bin" bs=1 seek=$((0x90)) conv=notrunc status=none
if "$bin" attest verify --report "$work/tampered.bin" --vcek "$milan/vcek.der" --at 2026-07-01T00:00:00Z \
     > "$work/verify.txt"; then fail "tampered report accepted"; fi
grep -q "snp.report_signature_invalid" "$work/verify.txt" || fail "tampered report reason"
if "${verify[@]}" --at 2040-01-01T00:00:00Z > "$work/verify.txt"; then fail "expired chain accepted"; fi
grep -q "snp.cert_expired" "$work/verify.txt" || fail "expired reason"
if "${verify[@]}" --at 2026-07-01T00:00:00Z --measurement "$(printf '%096d' 0)" > "$work/verify.txt"; then fail "measurement policy"; fi
grep -q "snp.policy_measurement" "$work/verify.txt" || fail "measurement policy reason"

# sim init / sim report: an INSECURE simulated platform (fixed dates), its key
# files (mode 0600, never printed), no overwrite, and a report attest show reads.
sim="$work/sim"
"$bin" sim init "$sim" --product turin --not-before 2025-01-01T00:00:00Z --days 365 \
  --tcb fmc=1,bl=2,tee=3,snp=4,ucode=5 > "$work/sim_init.out" || fail "sim init"
grep -q "^product: Turin\$" "$work/sim_init.out" || fail "sim init product"
grep -q "PRIVATE KEY" "$work/sim_init.out" && fail "sim init printed a key"
for f in ark.pem ask.pem cert_chain.pem vcek.der vcek.pem crl.der platform.json; do
  [[ -s "$sim/$f" ]] || fail "sim init did not write $f"
done
for f in ark.key ask.key vcek.key; do
  [[ $(stat -c %a "$sim/$f") == 600 ]] || fail "sim key file mode $f"
done
if "$bin" sim init "$sim" 2>"$work/err"; then fail "sim init overwrote a platform"; fi
grep -q "snp.sim_platform_exists" "$work/err" || fail "sim init overwrite reason"
sim_measurement=$(printf 'ab%.0s' $(seq 48))
"$bin" sim report --dir "$sim" --out "$work/sim.bin" --version 5 --report-data 0102 \
  --measurement "$sim_measurement" --vmpl 2 > /dev/null || fail "sim report"
[[ $(stat -c %s "$work/sim.bin") == 1184 ]] || fail "sim report size"
"$bin" attest show "$work/sim.bin" > "$work/sim_show.txt" || fail "attest show sim report"
grep -q "^product: Turin\$" "$work/sim_show.txt" || fail "sim report product"
grep -q "^version: 5\$" "$work/sim_show.txt" || fail "sim report version"
grep -q "^vmpl: 2\$" "$work/sim_show.txt" || fail "sim report vmpl"
grep -q "^measurement: $sim_measurement\$" "$work/sim_show.txt" || fail "sim report measurement"
grep -q "^report_data: 0102$(printf '00%.0s' $(seq 62))\$" "$work/sim_show.txt" || fail "sim report report_data"
grep -q "^reported_tcb.fmc: 1\$" "$work/sim_show.txt" || fail "sim report tcb"
if "$bin" sim report --dir "$work/nowhere" --out "$work/x.bin" 2>"$work/err"; then fail "sim report without platform"; fi
grep -q "snp.sim_platform_missing" "$work/err" || fail "sim report missing platform reason"
if "$bin" sim report --dir "$sim" --out "$work/x.bin" --measurement 00 2>"$work/err"; then fail "short measurement"; fi
grep -q "cli.bad_argument" "$work/err" || fail "sim report bad measurement reason"
# attest verify with the VCEK from a certificate table, and from an evidence
# document (fixtures in tests/testdata/snp-derived).
"$bin" attest verify --report "$milan/report.bin" --cert-table "$testdata/snp-derived/milan-v3-oak-cb.certtable.bin" \
  --at 2026-07-01T00:00:00Z > "$work/verify.txt" || fail "attest verify --cert-table"
"$bin" attest verify --evidence "$testdata/snp-derived/milan-v3-oak-cb.evidence.json" \
  --at 2026-07-01T00:00:00Z > "$work/verify.txt" || fail "attest verify --evidence"
head -c 100 "$testdata/snp-derived/milan-v3-oak-cb.certtable.bin" > "$work/table.bin"
if "$bin" attest verify --report "$milan/report.bin" --cert-table "$work/table.bin" 2>"$work/err"; then
  fail "truncated certificate table accepted"
fi
grep -q "snp.cert_table" "$work/err" || fail "truncated certificate table reason"
# attest verify with the VCEK, chain and CRL from an offline KDS cache laid out
# as snp/kds.h names them; a cache without the VCEK fails with its reason.
chip=$("$bin" attest show "$milan/report.bin" | sed -n 's/^chip_id: //p')
cache="$work/kds"
mkdir -p "$cache/vcek/v1/Milan/$chip"
cp "$milan/vcek.der" "$cache/vcek/v1/Milan/$chip/bl4-tee0-snp24-ucode219.der"
cp "$testdata/snp/amd-roots/ask_ark_milan.pem" "$cache/vcek/v1/Milan/cert_chain.pem"
cp "$testdata/snp/crl/Milan.crl.der" "$cache/vcek/v1/Milan/crl.der"
"$bin" attest verify --report "$milan/report.bin" --kds-cache "$cache" --require-crl \
  --at 2026-07-01T00:00:00Z > "$work/verify.txt" || fail "attest verify --kds-cache"
grep -q "\[pass\] revocation checked" "$work/verify.txt" || fail "kds cache CRL not applied"
if "$bin" attest verify --report "$testdata/snp/reports/genoa-v5-oak-oc/report.bin" --kds-cache "$cache" \
     2>"$work/err"; then fail "empty kds cache accepted"; fi
grep -q "snp.kds_not_cached" "$work/err" || fail "kds cache miss reason"
echo "cli_smoke: 1 passed, 0 failed"
