// VerifyServerEvidence: every check lists in order, and every security check
// rejects what it must (each negative test fails if nothing is rejected).
#include "perimeter/client/evidence_verifier.h"

#include <gtest/gtest.h>

#include "client/testing/test_server.h"
#include "perimeter/attest/evidence.h"
#include "perimeter/crypto/xdh.h"

namespace perimeter::client {
namespace {

using attest::CheckResult;
using testing::DefaultEvidence;
using testing::DefaultPolicyYaml;
using testing::EvidenceSpec;
using testing::kAt;
using testing::kNotBefore;
using testing::MakeEvidence;
using testing::SharedPlatform;
using testing::TempDir;

Bytes NewPublicKey() {
  return ToBytes(crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519).value().public_key());
}

class EvidenceVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { SharedPlatform(); }  // RSA keygen once

  TrustConfig Trust(const std::string& policy_yaml = DefaultPolicyYaml(), const std::string& roots_yaml = "",
                    bool crl_file = false) {
    Result<std::string> path = testing::WriteTrustFile(dir_.path(), *SharedPlatform(), policy_yaml, roots_yaml, crl_file);
    EXPECT_TRUE(path.has_value());
    Result<TrustConfig> t = LoadTrustConfig(*path);
    EXPECT_TRUE(t.has_value()) << t.status();
    return std::move(t).value();
  }

  EvidenceVerification Run(const EvidenceSpec& spec, const TrustConfig& trust) {
    Bytes evidence = MakeEvidence(key_, spec).value();
    return VerifyServerEvidence(evidence, key_, trust, kAt);
  }

  static std::string FirstFailure(const EvidenceVerification& v) {
    const attest::Check* f = v.verdict.first_failure();
    return f ? f->reason : std::string();
  }

  TempDir dir_;
  Bytes key_ = NewPublicKey();
};

TEST_F(EvidenceVerifierTest, GoodEvidenceIsAcceptedWithEveryCheckInOrder) {
  EvidenceVerification v = Run(DefaultEvidence(), Trust());
  ASSERT_TRUE(v.verdict.accepted()) << v.verdict.ToText();
  ASSERT_TRUE(v.claims.has_value());
  EXPECT_NE(v.verdict.root.find("explicitly trusted root"), std::string::npos) << v.verdict.root;
  const auto& checks = v.verdict.checks;
  ASSERT_GE(checks.size(), 14u);
  EXPECT_EQ(checks[0].id, "evidence.format");
  EXPECT_EQ(checks[1].id, "snp.report_format");
  std::size_t binding = 0, first_policy = 0, last_snp = 0;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    if (checks[i].id == "channel.binding") binding = i;
    if (checks[i].id.rfind("snp.", 0) == 0) last_snp = i;
    if (checks[i].id.rfind("policy.", 0) == 0 && first_policy == 0) first_policy = i;
    EXPECT_NE(checks[i].result, CheckResult::kFailed) << checks[i].id;
  }
  EXPECT_GT(binding, last_snp);
  EXPECT_EQ(first_policy, binding + 1);
  // The CRL came with the evidence and was applied.
  bool crl_applied = false;
  for (const auto& c : checks) crl_applied = crl_applied || (c.id == "snp.crl" && c.result == CheckResult::kPassed);
  EXPECT_TRUE(crl_applied);
}

TEST_F(EvidenceVerifierTest, SimulatedRootIsUntrustedUnlessNamed) {
  const TrustConfig amd_only = Trust(DefaultPolicyYaml(), "  amd: true\n");
  EvidenceVerification v = Run(DefaultEvidence(), amd_only);
  EXPECT_FALSE(v.verdict.accepted());
  EXPECT_EQ(FirstFailure(v), "snp.ark_untrusted") << v.verdict.ToText();
  EXPECT_TRUE(v.verdict.root.empty());
  EXPECT_FALSE(v.claims.has_value());
  // Without the ARK in the evidence the chain is tried against AMD's own
  // Milan ARK (same name), whose key did not sign the simulated ASK.
  EvidenceSpec no_ark = DefaultEvidence();
  no_ark.include_ark = false;
  v = Run(no_ark, amd_only);
  EXPECT_FALSE(v.verdict.accepted());
  EXPECT_EQ(FirstFailure(v), "snp.ask_not_signed_by_ark") << v.verdict.ToText();
  // ... and the evidence's ARK must match a trusted root by key: another
  // platform's "ARK-Milan" does not count.
  EvidenceSpec other = DefaultEvidence();
  other.platform = testing::OtherPlatform();
  v = Run(other, Trust());
  EXPECT_EQ(FirstFailure(v), "snp.ark_untrusted") << v.verdict.ToText();
}

TEST_F(EvidenceVerifierTest, ChainWithoutArkFindsTheNamedRoot) {
  EvidenceSpec no_ark = DefaultEvidence();
  no_ark.include_ark = false;
  EvidenceVerification v = Run(no_ark, Trust());
  EXPECT_TRUE(v.verdict.accepted()) << v.verdict.ToText();
}

TEST_F(EvidenceVerifierTest, MeasurementNotAllowedIsRejected) {
  const std::string other = HexEncode(Bytes(48, 0x42));
  EvidenceVerification v = Run(DefaultEvidence(), Trust("  measurements: [" + other + "]\n"));
  EXPECT_FALSE(v.verdict.accepted());
  EXPECT_EQ(FirstFailure(v), "snp.policy_measurement");
  // The binding passed before the policy ran.
  for (const auto& c : v.verdict.checks) {
    if (c.id == "channel.binding") {
      EXPECT_EQ(c.result, CheckResult::kPassed);
    }
  }
}

TEST_F(EvidenceVerifierTest, HostDataNotAllowedIsRejected) {
  EvidenceSpec spec = DefaultEvidence();
  spec.report.host_data = Bytes(32, 0x77);
  const std::string m = HexEncode(testing::TestMeasurement());
  EvidenceVerification v =
      Run(spec, Trust("  measurements: [" + m + "]\n  host_data: [" + HexEncode(Bytes(32, 0x78)) + "]\n"));
  EXPECT_EQ(FirstFailure(v), "snp.policy_host_data") << v.verdict.ToText();
  v = Run(spec, Trust("  measurements: [" + m + "]\n  host_data: [" + HexEncode(Bytes(32, 0x78)) + ", " +
                      HexEncode(Bytes(32, 0x77)) + "]\n"));
  EXPECT_TRUE(v.verdict.accepted()) << v.verdict.ToText();
}

TEST_F(EvidenceVerifierTest, EvidenceBoundToAnotherKeyIsRejected) {
  EvidenceSpec spec = DefaultEvidence();
  spec.bind_to = NewPublicKey();
  EvidenceVerification v = Run(spec, Trust());
  EXPECT_FALSE(v.verdict.accepted());
  EXPECT_EQ(FirstFailure(v), "channel.binding_mismatch");
  // After the failure the policy is listed, not checked.
  bool seen_policy = false;
  for (const auto& c : v.verdict.checks) {
    if (c.id.rfind("policy.", 0) == 0) {
      seen_policy = true;
      EXPECT_EQ(c.result, CheckResult::kNotChecked);
    }
  }
  EXPECT_TRUE(seen_policy);
  // The same evidence checked against the key it does bind is fine.
  Bytes evidence = MakeEvidence(key_, spec).value();
  EXPECT_TRUE(VerifyServerEvidence(evidence, *spec.bind_to, Trust(), kAt).verdict.accepted());
  // A malformed key never matches.
  EXPECT_EQ(FirstFailure(VerifyServerEvidence(evidence, Bytes(31, 1), Trust(), kAt)), "channel.binding_mismatch");
}

TEST_F(EvidenceVerifierTest, DebugPolicyIsRejectedUnlessAllowed) {
  EvidenceSpec spec = DefaultEvidence();
  spec.report.policy = 0x30000 | (1u << 19);  // DEBUG
  EXPECT_EQ(FirstFailure(Run(spec, Trust())), "snp.policy_debug_allowed");
  EXPECT_TRUE(Run(spec, Trust(DefaultPolicyYaml() + "  allow_debug: true\n")).verdict.accepted());
}

TEST_F(EvidenceVerifierTest, TcbBelowMinimumIsRejected) {
  const attest::snp::TcbVersion t = SharedPlatform()->vcek_tcb();
  auto policy = [&](int ucode) {
    return DefaultPolicyYaml() + "  min_tcb: {Milan: {bl: " + std::to_string(t.boot_loader) + ", tee: " +
           std::to_string(t.tee) + ", snp: " + std::to_string(t.snp) + ", ucode: " + std::to_string(ucode) + "}}\n";
  };
  EXPECT_EQ(FirstFailure(Run(DefaultEvidence(), Trust(policy(t.microcode + 1)))), "snp.policy_tcb_too_old");
  EXPECT_TRUE(Run(DefaultEvidence(), Trust(policy(t.microcode))).verdict.accepted());
}

TEST_F(EvidenceVerifierTest, RevokingCrlIsRejected) {
  const auto& p = *SharedPlatform();
  crypto::Crl revoking = p.MakeCrl({p.ask().SerialNumber()}, kNotBefore, kNotBefore + 3650LL * 86400).value();
  EvidenceSpec spec = DefaultEvidence();
  spec.crl = revoking;
  EXPECT_EQ(FirstFailure(Run(spec, Trust())), "snp.cert_revoked");
  // A CRL in the trust file wins over the evidence's clean one.
  TrustConfig trust = Trust();
  trust.crls.push_back(revoking);
  EXPECT_EQ(FirstFailure(Run(DefaultEvidence(), trust)), "snp.cert_revoked");
  // Another root's CRL in the evidence does not verify.
  spec.crl = testing::OtherPlatform()->crl();
  EXPECT_EQ(FirstFailure(Run(spec, Trust())), "snp.crl_bad_signature");
  // No CRL at all, with require_crl: rejected by the policy.
  EvidenceSpec none = DefaultEvidence();
  none.include_crl = false;
  EXPECT_EQ(FirstFailure(Run(none, Trust())), "snp.policy_crl_required");
}

TEST_F(EvidenceVerifierTest, TamperedReportIsRejected) {
  Bytes good = MakeEvidence(key_, DefaultEvidence()).value();
  attest::Evidence e =
      attest::ParseEvidence(std::string_view(reinterpret_cast<const char*>(good.data()), good.size())).value();
  for (std::size_t offset : {0x00u, 0x90u, 0xC0u, 0x1A0u, 0x29Fu}) {
    attest::Evidence t = e;
    t.report[offset] ^= 0x01;
    Bytes doc = ToBytes(attest::SerializeEvidence(t).value());
    EvidenceVerification v = VerifyServerEvidence(doc, key_, Trust(), kAt);
    EXPECT_FALSE(v.verdict.accepted()) << offset;
    EXPECT_FALSE(v.claims.has_value());
  }
  // A flip inside the measurement: exactly the report signature catches it.
  attest::Evidence t = e;
  t.report[0x90] ^= 0x80;
  EvidenceVerification v = VerifyServerEvidence(ToBytes(attest::SerializeEvidence(t).value()), key_, Trust(), kAt);
  EXPECT_EQ(FirstFailure(v), "snp.report_signature_invalid");
}

TEST_F(EvidenceVerifierTest, MalformedEvidenceIsRejectedFirst) {
  const TrustConfig trust = Trust();
  auto check = [&](const std::string& doc, const std::string& reason) {
    EvidenceVerification v = VerifyServerEvidence(AsBytes(doc), key_, trust, kAt);
    ASSERT_FALSE(v.verdict.checks.empty());
    EXPECT_EQ(v.verdict.checks[0].id, "evidence.format");
    EXPECT_EQ(v.verdict.checks[0].result, CheckResult::kFailed);
    EXPECT_EQ(FirstFailure(v), reason) << doc.substr(0, 80);
    for (std::size_t i = 1; i < v.verdict.checks.size(); ++i) {
      EXPECT_EQ(v.verdict.checks[i].result, CheckResult::kNotChecked) << v.verdict.checks[i].id;
    }
    EXPECT_FALSE(v.verdict.accepted());
  };
  check("", "attest.evidence_bad_json");
  check("not json", "attest.evidence_bad_json");
  check("{\"version\":2}", "attest.evidence_unsupported_version");
  Bytes good = MakeEvidence(key_, DefaultEvidence()).value();
  std::string text(good.begin(), good.end());
  std::string extra = text;
  extra.insert(extra.size() - 1, ",\"x\":1");
  check(extra, "attest.evidence_unknown_field");
  // A VEK that is valid base64 but not a certificate.
  attest::Evidence e = attest::ParseEvidence(text).value();
  e.vek = Bytes{0x30, 0x03, 0x02, 0x01, 0x01};
  check(attest::SerializeEvidence(e).value(), "crypto.x509_parse_failed");
  e = attest::ParseEvidence(text).value();
  e.crl = Bytes{0x30, 0x00};
  check(attest::SerializeEvidence(e).value(), "crypto.crl_parse_failed");
}

TEST_F(EvidenceVerifierTest, VerificationTimeOutsideTheWindowIsRejected) {
  Bytes evidence = MakeEvidence(key_, DefaultEvidence()).value();
  EvidenceVerification v = VerifyServerEvidence(evidence, key_, Trust(), kNotBefore - 1);
  EXPECT_FALSE(v.verdict.accepted());
  EXPECT_EQ(FirstFailure(v), "snp.cert_not_yet_valid");
}

}  // namespace
}  // namespace perimeter::client
