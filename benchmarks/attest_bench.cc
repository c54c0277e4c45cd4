// attest_bench: SEV-SNP verifications per second, next to the cost of the
// raw signature verifications they cannot avoid, measured in the same run.
//
//   full chain:  snp::Verify without a cache (ARK self-signature, ASK and
//                VCEK signatures (RSASSA-PSS 4096), report signature (ECDSA
//                P-384), plus parsing and every other check)
//                vs. the four raw signature verifications alone;
//   cached:      snp::Verify with a warm ChainCache (the chain verified
//                before) vs. the raw report signature verification alone
//                (ECDSA P-384 with an already imported key).
// Target: verification at most 15 % above the raw signature cost.
// Data: a real Milan report and its VCEK (tests/testdata/snp).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "perimeter/attest/snp/amd_roots.h"
#include "perimeter/attest/snp/report.h"
#include "perimeter/attest/snp/vek_certificate.h"
#include "perimeter/attest/snp/verifier.h"
#include "perimeter/crypto/ecdsa.h"

namespace perimeter::attest::snp {
namespace {

std::string Read(const std::string& rel) {
  std::ifstream in(std::string(PERIMETER_TESTDATA_DIR) + "/snp/" + rel, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Fixture {
  Bytes report = ToBytes(Read("reports/milan-v3-oak-cb/report.bin"));
  crypto::Certificate vcek = crypto::Certificate::FromDer(ToBytes(Read("reports/milan-v3-oak-cb/vcek.der"))).value();
  std::vector<crypto::Certificate> chain =
      crypto::Certificate::ParsePemBundle(Read("amd-roots/ask_ark_milan.pem")).value();
  std::int64_t at = 1782864000;  // 2026-07-01, inside every window

  VerifyInput Input() const {
    VerifyInput in;
    in.report = report;
    in.vek = vcek;
    in.chain = chain;
    in.at_unix_seconds = at;
    return in;
  }
};

const Fixture& F() {
  static const Fixture* f = new Fixture();
  return *f;
}

void BM_RawSignatures_FullChain(benchmark::State& state) {
  const Fixture& f = F();
  const crypto::Certificate& ark = AmdRoots(Product::kMilan).ark;
  const crypto::Certificate& ask = AmdRoots(Product::kMilan).ask;
  AttestationReport r = ParseReport(f.report).value();
  for (auto _ : state) {
    bool ok = ark.VerifySignedBy(ark).ok() && ask.VerifySignedBy(ark).ok() && f.vcek.VerifySignedBy(ask).ok();
    auto key = crypto::EcdsaPublicKey::FromSpkiDer(f.vcek.SubjectPublicKeyInfoDer());
    ok = ok && key.has_value() &&
         key->Verify(r.SignedRegion(), r.AmdSignature(), crypto::EcdsaSignatureFormat::kAmdLittleEndian).ok();
    if (!ok) state.SkipWithError("raw verification failed");
  }
}
BENCHMARK(BM_RawSignatures_FullChain);

void BM_Verify_FullChain(benchmark::State& state) {
  VerifyInput in = F().Input();
  TrustedRoots roots = TrustedRoots::Amd();
  for (auto _ : state) {
    VerifyResult r = Verify(in, roots);
    if (!r.verdict.accepted()) state.SkipWithError("verification failed");
  }
}
BENCHMARK(BM_Verify_FullChain);

void BM_RawSignature_Report(benchmark::State& state) {
  const Fixture& f = F();
  AttestationReport r = ParseReport(f.report).value();
  // The key is imported once: the strictest comparison for the cached mode.
  auto key = crypto::EcdsaPublicKey::FromSpkiDer(f.vcek.SubjectPublicKeyInfoDer()).value();
  const Bytes signature = r.AmdSignature();
  for (auto _ : state) {
    if (!key.Verify(r.SignedRegion(), signature, crypto::EcdsaSignatureFormat::kAmdLittleEndian).ok()) {
      state.SkipWithError("raw verification failed");
    }
  }
}
BENCHMARK(BM_RawSignature_Report);

void BM_Verify_Cached(benchmark::State& state) {
  VerifyInput in = F().Input();
  TrustedRoots roots = TrustedRoots::Amd();
  ChainCache cache;
  (void)Verify(in, roots, &cache);
  for (auto _ : state) {
    VerifyResult r = Verify(in, roots, &cache);
    if (!r.verdict.accepted()) state.SkipWithError("verification failed");
  }
}
BENCHMARK(BM_Verify_Cached);

class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Iteration && !r.error_occurred && r.iterations > 0) {
        ns[r.benchmark_name()] = r.GetAdjustedRealTime() *
                                 benchmark::GetTimeUnitMultiplier(benchmark::kNanosecond) /
                                 benchmark::GetTimeUnitMultiplier(r.time_unit);
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> ns;
};

}  // namespace
}  // namespace perimeter::attest::snp

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  perimeter::attest::snp::RecordingReporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  auto get = [&](const char* n) {
    auto it = rep.ns.find(n);
    return it == rep.ns.end() ? -1.0 : it->second;
  };
  bool ok = true;
  std::printf("\nSEV-SNP verification vs raw signature cost (target: at most 1.15x)\n");
  std::printf("%-12s %14s %14s %12s %8s\n", "mode", "verify us", "raw sigs us", "verifies/s", "ratio");
  struct Row { const char* mode; const char* verify; const char* raw; };
  for (Row row : {Row{"full chain", "BM_Verify_FullChain", "BM_RawSignatures_FullChain"},
                  Row{"cached", "BM_Verify_Cached", "BM_RawSignature_Report"}}) {
    double v = get(row.verify), raw = get(row.raw);
    if (v <= 0 || raw <= 0) {
      std::printf("%-12s (filtered out or failed)\n", row.mode);
      continue;
    }
    double ratio = v / raw;
    ok = ok && ratio <= 1.15;
    std::printf("%-12s %14.1f %14.1f %12.0f %8.3f %s\n", row.mode, v / 1e3, raw / 1e3, 1e9 / v, ratio,
                ratio <= 1.15 ? "met" : "NOT MET");
  }
  std::printf("\nattest_bench targets: %s\n", ok ? "all met" : "NOT all met");
  benchmark::Shutdown();
  return 0;
}
