// The verification checklist on AMD's real reports and certificates
// (tests/testdata/snp, see its PROVENANCE.md): every report verifies as
// index.json says, and each check rejects what it must, with its reason.
#include "perimeter/attest/snp/verifier.h"

#include <gtest/gtest.h>

#include <cstdio>

#include <fstream>
#include <sstream>
#include <ctime>
#include <iomanip>

#include <nlohmann/json.hpp>

#include "perimeter/attest/snp/amd_roots.h"
#include "perimeter/attest/snp/policy.h"
#include "tests/testing/matchers.h"

namespace perimeter::attest::snp {
namespace {

std::string Data(const std::string& rel) { return std::string(PERIMETER_TESTDATA_DIR) + "/snp/" + rel; }

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Bytes ReadBytes(const std::string& path) { return ToBytes(ReadText(path)); }

crypto::Certificate LoadCert(const std::string& rel) {
  std::string text = ReadText(Data(rel));
  if (text.find("-----BEGIN") != std::string::npos) {
    return crypto::Certificate::ParsePemBundle(text).value().front();
  }
  return crypto::Certificate::FromDer(ToBytes(text)).value();
}

std::int64_t ParseTime(const std::string& iso) {
  // "YYYY-MM-DDTHH:MM:SS+00:00"
  std::tm tm{};
  std::istringstream in(iso.substr(0, 19));
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  return static_cast<std::int64_t>(timegm(&tm));
}

struct Case {
  std::string dir;
  Bytes report;
  crypto::Certificate vek;
  std::vector<crypto::Certificate> chain;
  std::int64_t not_before;
  std::int64_t not_after;
  Product product;
};

std::vector<Case> LoadCases() {
  auto index = nlohmann::json::parse(ReadText(Data("index.json")));
  std::vector<Case> cases;
  for (const auto& r : index["reports"]) {
    std::string file = r["report_file"];
    Bytes report = ReadBytes(Data(file));
    if (file.size() > 4 && file.substr(file.size() - 4) == ".hex") {
      std::string hex;
      for (char c : ReadText(Data(file))) {
        if (std::isxdigit(static_cast<unsigned char>(c))) hex += c;
      }
      report = HexDecode(hex).value();
    }
    std::string name = r["vek_productName"];
    Product p = name.rfind("Milan", 0) == 0 ? Product::kMilan
                : name.rfind("Genoa", 0) == 0 ? Product::kGenoa
                                              : Product::kTurin;
    cases.push_back({r["dir"], report, LoadCert(r["verified_by_certs"][0]),
                     crypto::Certificate::ParsePemBundle(ReadText(Data(r["cert_chain_file"]))).value(),
                     ParseTime(r["vek_validity"][0]), ParseTime(r["vek_validity"][1]), p});
  }
  return cases;
}

VerifyInput InputFor(const Case& c) {
  VerifyInput in;
  in.report = c.report;
  in.vek = c.vek;
  in.chain = c.chain;
  in.at_unix_seconds = c.not_before + 86400;
  return in;
}

const Check* Find(const Verdict& v, std::string_view id) {
  for (const Check& c : v.checks) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

std::string Reason(const VerifyResult& r) {
  const Check* f = r.verdict.first_failure();
  return f ? f->reason : "";
}

TEST(SnpVerifier, EveryRealReportVerifiesWithItsChain) {
  std::vector<Case> cases = LoadCases();
  ASSERT_EQ(cases.size(), 12u);
  for (const Case& c : cases) {
    VerifyResult r = Verify(InputFor(c), TrustedRoots::Amd());
    EXPECT_TRUE(r.verdict.accepted()) << c.dir << "\n" << r.verdict.ToText();
    ASSERT_TRUE(r.claims.has_value()) << c.dir;
    EXPECT_EQ(r.claims->product, c.product) << c.dir;
    EXPECT_EQ(r.verdict.root, "AMD " + ArkCommonName(c.product) + " (pinned)") << c.dir;
    EXPECT_EQ(r.verdict.checks.size(), 11u);
    // Without a CRL, revocation is listed as not checked, never as passed.
    EXPECT_EQ(Find(r.verdict, "snp.crl")->result, CheckResult::kNotChecked);
  }
}

TEST(SnpVerifier, ChainWithoutTheArkUsesTheTrustedRoot) {
  for (const Case& c : LoadCases()) {
    VerifyInput in = InputFor(c);
    in.chain.pop_back();  // KDS order: ASK/ASVK then ARK
    EXPECT_TRUE(Verify(in, TrustedRoots::Amd()).verdict.accepted()) << c.dir;
    in.chain.clear();  // evidence that carries only its VEK
    EXPECT_TRUE(Verify(in, TrustedRoots::Amd()).verdict.accepted()) << c.dir;
  }
}

TEST(SnpVerifier, TruncatedOrUnknownVersionIsRejectedFirst) {
  Case c = LoadCases()[0];
  for (std::size_t len : {0u, 1u, 1183u}) {
    VerifyInput in = InputFor(c);
    Bytes cut(c.report.begin(), c.report.begin() + static_cast<std::ptrdiff_t>(len));
    in.report = cut;
    VerifyResult r = Verify(in, TrustedRoots::Amd());
    EXPECT_EQ(Reason(r), "snp.report_bad_size") << len;
    EXPECT_EQ(r.verdict.checks.front().result, CheckResult::kFailed);
    EXPECT_EQ(r.verdict.checks.back().result, CheckResult::kNotChecked);  // later steps not reached
    EXPECT_FALSE(r.claims.has_value());
  }
  Bytes v4 = c.report;
  v4[0] = 4;
  VerifyInput in = InputFor(c);
  in.report = v4;
  EXPECT_EQ(Reason(Verify(in, TrustedRoots::Amd())), "snp.report_unsupported_version");
}

TEST(SnpVerifier, ProductMismatchIsRejected) {
  std::vector<Case> cases = LoadCases();
  const Case* genoa = nullptr;
  const Case* milan_v3 = nullptr;
  for (const Case& c : cases) {
    if (c.dir == "reports/genoa-v3-azure-trustee") genoa = &c;
    if (c.dir == "reports/milan-v3-oak-cb") milan_v3 = &c;
  }
  ASSERT_TRUE(genoa && milan_v3);
  VerifyInput in = InputFor(*genoa);
  in.vek = milan_v3->vek;  // a Milan VCEK for a Genoa report
  EXPECT_EQ(Reason(Verify(in, TrustedRoots::Amd())), "snp.product_mismatch");
  in = InputFor(*genoa);
  in.product_hint = Product::kMilan;
  EXPECT_EQ(Reason(Verify(in, TrustedRoots::Amd())), "snp.product_mismatch");
}

TEST(SnpVerifier, UntrustedRootIsRejected) {
  Case c = LoadCases()[0];  // Genoa
  TrustedRoots only_milan;
  only_milan.arks.push_back(AmdRoots(Product::kMilan).ark);
  VerifyResult r = Verify(InputFor(c), only_milan);
  EXPECT_EQ(Reason(r), "snp.ark_untrusted");
  EXPECT_TRUE(r.verdict.root.empty());
}

TEST(SnpVerifier, WrongIntermediateIsRejected) {
  std::vector<Case> cases = LoadCases();
  for (const Case& c : cases) {
    if (c.dir != "reports/milan-v3-oak-cb") continue;
    VerifyInput in = InputFor(c);
    in.chain = {AmdRoots(Product::kMilan).asvk, AmdRoots(Product::kMilan).ark};  // ASVK for a VCEK
    EXPECT_EQ(Reason(Verify(in, TrustedRoots::Amd())), "snp.ask_wrong_kind");
  }
}

TEST(SnpVerifier, VekNotSignedByTheAskIsRejected) {
  for (const Case& c : LoadCases()) {
    if (c.dir != "reports/milan-v2-trustee") continue;
    for (const char* neg : {"reports/milan-v2-trustee/NEG-vcek-invalid-legacy.der",
                            "reports/milan-v2-trustee/NEG-vcek-invalid-new.der"}) {
      VerifyInput in = InputFor(c);
      in.vek = LoadCert(neg);
      std::string reason = Reason(Verify(in, TrustedRoots::Amd()));
      // The NEG certificates are either malformed VEKs or badly signed ones.
      EXPECT_TRUE(reason == "snp.vek_not_signed_by_ask" || reason.rfind("snp.vek_", 0) == 0) << neg << " " << reason;
    }
  }
}

TEST(SnpVerifier, CertificatesOutsideTheirValidityAreRejected) {
  Case c = LoadCases()[3];
  VerifyInput in = InputFor(c);
  in.at_unix_seconds = c.not_after + 1;
  EXPECT_EQ(Reason(Verify(in, TrustedRoots::Amd())), "snp.cert_expired");
  in.at_unix_seconds = c.not_before - 1;
  EXPECT_EQ(Reason(Verify(in, TrustedRoots::Amd())), "snp.cert_not_yet_valid");
}

TEST(SnpVerifier, MilanCrlIsAppliedAndChecked) {
  crypto::Crl crl = crypto::Crl::FromDer(ReadBytes(Data("crl/Milan.crl.der"))).value();
  const std::int64_t inside = crl.ThisUpdate() + 3600;
  int milan_vceks = 0;
  for (const Case& c : LoadCases()) {
    if (c.product != Product::kMilan || c.not_after <= inside || c.not_before >= inside) continue;
    VerifyInput in = InputFor(c);
    in.crl = crl;
    in.at_unix_seconds = inside;
    VerifyResult r = Verify(in, TrustedRoots::Amd());
    EXPECT_TRUE(r.verdict.accepted()) << c.dir << r.verdict.ToText();
    EXPECT_EQ(Find(r.verdict, "snp.crl")->result, CheckResult::kPassed);
    EXPECT_TRUE(r.claims->crl_checked);
    in.at_unix_seconds = *crl.NextUpdate() + 1;
    EXPECT_EQ(Reason(Verify(in, TrustedRoots::Amd())), "snp.crl_expired");
    in.at_unix_seconds = crl.ThisUpdate() - 1;
    EXPECT_EQ(Reason(Verify(in, TrustedRoots::Amd())), "snp.crl_not_yet_valid");
    Bytes tampered = crl.ToDer();
    tampered[tampered.size() - 10] ^= 1;  // inside the signature
    in.crl = crypto::Crl::FromDer(tampered).value();
    in.at_unix_seconds = inside;
    EXPECT_EQ(Reason(Verify(in, TrustedRoots::Amd())), "snp.crl_bad_signature");
    ++milan_vceks;
  }
  EXPECT_GE(milan_vceks, 5);
}

// Issue point 6: every byte of the signed region changed is rejected by the
// report signature. Where the change also breaks a field the parser checks
// strictly (version, algorithm, reserved bytes, CPUID), the verifier stops
// there first, and the signature is checked directly to show it rejects too.
TEST(SnpVerifier, EveryByteOfTheSignedRegionIsCovered) {
  ChainCache cache;  // the chain is the same for every changed report
  for (const Case& c : LoadCases()) {
    const crypto::EcdsaPublicKey key = ParseVekCertificate(c.vek).value().public_key;
    const Bytes signature = ParseReport(c.report).value().AmdSignature();
    int signature_rejections = 0, earlier_rejections = 0;
    for (std::size_t i = 0; i < 0x2A0; ++i) {
      Bytes changed = c.report;
      changed[i] ^= 0x01;
      VerifyInput in = InputFor(c);
      in.report = changed;
      VerifyResult r = Verify(in, TrustedRoots::Amd(), &cache);
      ASSERT_FALSE(r.verdict.accepted()) << c.dir << " byte " << i;
      if (Reason(r) == "snp.report_signature_invalid") {
        ++signature_rejections;
      } else {
        ++earlier_rejections;
        const std::string reason = Reason(r);
        EXPECT_TRUE(reason.rfind("snp.report_", 0) == 0 || reason == "snp.product_mismatch" ||
                    reason == "snp.product_unknown")
            << c.dir << " byte " << i << ": " << reason;
        // The strict parser stopped first; the signature rejects this byte
        // too, which the verifier would have reported had it got that far.
        EXPECT_FALSE(key.Verify(ByteView(changed).first(0x2A0), signature,
                                crypto::EcdsaSignatureFormat::kAmdLittleEndian)
                         .ok())
            << c.dir << " byte " << i;
      }
    }
    EXPECT_EQ(signature_rejections + earlier_rejections, 0x2A0);
    // The earlier rejections are the strictly parsed fields (version,
    // signature algorithm, must-be-zero reserved bytes, CPUID ids).
    EXPECT_GT(signature_rejections, 0x2A0 * 2 / 3) << c.dir;
    std::printf("%s: %d bytes rejected by the signature check, %d by earlier checks\n", c.dir.c_str(),
                signature_rejections, earlier_rejections);
  }
}

TEST(SnpVerifier, SignatureBytesAndTruncationsAreRejected) {
  Case c = LoadCases()[6];
  for (std::size_t i = 0x2A0; i < 0x2A0 + 144; ++i) {
    Bytes changed = c.report;
    changed[i] ^= 0x80;
    VerifyInput in = InputFor(c);
    in.report = changed;
    EXPECT_FALSE(Verify(in, TrustedRoots::Amd()).verdict.accepted()) << i;
  }
  for (std::size_t len = 0; len < c.report.size(); len += 37) {
    Bytes cut(c.report.begin(), c.report.begin() + static_cast<std::ptrdiff_t>(len));
    VerifyInput in = InputFor(c);
    in.report = cut;
    EXPECT_EQ(Reason(Verify(in, TrustedRoots::Amd())), "snp.report_bad_size") << len;
  }
}

TEST(SnpVerifier, CacheSkipsOnlyWhatVerifiedBeforeAndOnlyInItsWindow) {
  Case c = LoadCases()[6];
  ChainCache cache;
  VerifyResult first = Verify(InputFor(c), TrustedRoots::Amd(), &cache);
  ASSERT_TRUE(first.verdict.accepted());
  EXPECT_EQ(cache.size(), 2u);  // the chain and the parsed VCEK
  VerifyResult second = Verify(InputFor(c), TrustedRoots::Amd(), &cache);
  ASSERT_TRUE(second.verdict.accepted());
  EXPECT_NE(Find(second.verdict, "snp.vek_signed")->detail.find("(cached)"), std::string::npos);
  // Outside the window the full checks run again, and fail.
  VerifyInput late = InputFor(c);
  late.at_unix_seconds = c.not_after + 1;
  EXPECT_EQ(Reason(Verify(late, TrustedRoots::Amd(), &cache)), "snp.cert_expired");
  // A different VEK is a different chain: not taken from the cache.
  VerifyInput other = InputFor(c);
  other.vek = LoadCases()[3].vek;
  VerifyResult r = Verify(other, TrustedRoots::Amd(), &cache);
  EXPECT_EQ(Find(r.verdict, "snp.vek_signed")->detail.find("(cached)"), std::string::npos);
  // The report signature is never cached.
  Bytes changed = c.report;
  changed[0x90] ^= 1;  // MEASUREMENT
  VerifyInput tampered = InputFor(c);
  tampered.report = changed;
  EXPECT_EQ(Reason(Verify(tampered, TrustedRoots::Amd(), &cache)), "snp.report_signature_invalid");
}

TEST(SnpVerifier, VekOfAnotherProductThanTheRootIsRejected) {
  std::vector<Case> cases = LoadCases();
  VerifyInput in = InputFor(cases[0]);  // Genoa report + Genoa VCEK
  in.chain = {AmdRoots(Product::kGenoa).ask, AmdRoots(Product::kMilan).ark};
  TrustedRoots roots = TrustedRoots::Amd();
  EXPECT_EQ(Reason(Verify(in, roots)), "snp.ark_wrong_product");
}

TEST(SnpVerifier, ReportSignedByAnotherChipIsRejected) {
  std::vector<Case> cases = LoadCases();
  // Same product, same ASK, different chip: the signature check fails.
  VerifyInput in = InputFor(cases[6]);  // milan-v3-oak-cb
  in.vek = cases[3].vek;               // milan-v2-go-sev-guest's VCEK
  in.at_unix_seconds = std::max(cases[6].not_before, cases[3].not_before) + 86400;
  EXPECT_EQ(Reason(Verify(in, TrustedRoots::Amd())), "snp.report_signature_invalid");
}

TEST(SnpPolicy, StrictDefaultsAndEachRuleRejects) {
  Case c = LoadCases()[6];
  VerifyResult r = Verify(InputFor(c), TrustedRoots::Amd());
  ASSERT_TRUE(r.claims.has_value());
  const Claims& claims = *r.claims;
  Policy policy;
  policy.require_crl = false;
  Verdict v = r.verdict;
  Evaluate(claims, policy, v);
  EXPECT_TRUE(v.accepted()) << v.ToText();

  auto reason_with = [&](const Policy& p) {
    Verdict verdict;
    Evaluate(claims, p, verdict);
    const Check* f = verdict.first_failure();
    return f ? f->reason : std::string();
  };
  Policy p = policy;
  p.measurements = {Bytes(48, 0)};
  EXPECT_EQ(reason_with(p), "snp.policy_measurement");
  p.measurements.push_back(ToBytes(ByteView(claims.report.measurement.data(), 48)));
  EXPECT_EQ(reason_with(p), "");
  p = policy;
  p.host_data = {Bytes(32, 1)};
  EXPECT_EQ(reason_with(p), "snp.policy_host_data");
  p.host_data.push_back(ToBytes(ByteView(claims.report.host_data.data(), 32)));
  EXPECT_EQ(reason_with(p), "");
  p = policy;
  p.report_data = Bytes(64, 2);
  EXPECT_EQ(reason_with(p), "snp.policy_report_data");
  p = policy;
  p.min_tcb[Product::kMilan] = TcbVersion{0, 255, 0, 0, 0};
  EXPECT_EQ(reason_with(p), "snp.policy_tcb_too_old");
  p = policy;
  p.min_tcb[Product::kMilan] = claims.reported_tcb;
  EXPECT_EQ(reason_with(p), "");
  p = policy;
  p.family_id = Bytes(16, 9);
  EXPECT_EQ(reason_with(p), "snp.policy_family_id");
  p = policy;
  p.image_id = Bytes(16, 9);
  EXPECT_EQ(reason_with(p), "snp.policy_image_id");
  p = policy;
  p.author_key_digest = Bytes(48, 3);
  EXPECT_EQ(reason_with(p), "snp.policy_author_key");
  p = policy;
  p.require_crl = true;
  EXPECT_EQ(reason_with(p), "snp.policy_crl_required");
  // Debug, migration agent, SMT and VMPL on a report that has them.
  Claims debug = claims;
  debug.report.policy |= (1u << 19) | (1u << 18);
  debug.report.vmpl = 2;
  debug.report.platform_info |= 1;
  p = policy;
  EXPECT_EQ(reason_with(p), "");
  Verdict dv;
  Evaluate(debug, policy, dv);
  EXPECT_EQ(Find(dv, "policy.debug")->reason, "snp.policy_debug_allowed");
  EXPECT_EQ(Find(dv, "policy.migrate_ma")->reason, "snp.policy_migration_agent");
  EXPECT_EQ(Find(dv, "policy.vmpl")->reason, "snp.policy_vmpl");
  p.allow_smt = false;
  Verdict sv;
  Evaluate(debug, p, sv);
  EXPECT_EQ(Find(sv, "policy.smt")->reason, "snp.policy_smt_enabled");
  p.allow_debug = p.allow_migration_agent = true;
  p.allow_smt = true;
  p.max_vmpl = 3;
  Verdict ok;
  Evaluate(debug, p, ok);
  EXPECT_TRUE(ok.accepted()) << ok.ToText();
}

}  // namespace
}  // namespace perimeter::attest::snp
