#include "perimeter/client/evidence_verifier.h"

#include <string>
#include <utility>

#include "perimeter/attest/evidence.h"
#include "perimeter/attest/noise_binding.h"
#include "perimeter/attest/snp/amd_roots.h"
#include "perimeter/attest/snp/policy.h"
#include "perimeter/attest/snp/vek_certificate.h"
#include "perimeter/crypto/constant_time.h"

namespace perimeter::client {
namespace {

namespace snp = attest::snp;
using attest::Check;
using attest::CheckResult;
using attest::Verdict;

constexpr const char* kFormatTitle = "evidence document (version, members, certificates)";
constexpr const char* kBindingTitle = "REPORT_DATA binds the server's Noise static key";

// Appends `from`'s checks as "not checked" (ids and titles only): how the
// stages after a failure are listed.
void AppendNotChecked(Verdict& to, const Verdict& from) {
  for (const Check& c : from.checks) {
    to.Add({c.id, c.title, CheckResult::kNotChecked, "", ""});
  }
}

// The ids and titles of the checks snp::Verify and snp::Evaluate would list.
// Running them on empty input is cheap (Verify stops at the report size) and
// keeps this list in step with theirs.
Verdict SnpChecklist() {
  snp::VerifyInput empty;
  return snp::Verify(empty, snp::TrustedRoots::Amd()).verdict;
}
Verdict PolicyChecklist(const snp::Policy& policy) {
  Verdict v;
  snp::Evaluate(snp::Claims{}, policy, v);
  return v;
}

void AddBindingNotChecked(Verdict& v) {
  v.Add({std::string(kCheckChannelBinding), kBindingTitle, CheckResult::kNotChecked, "", ""});
}

// The trusted ARK the evidence chains to, found before snp::Verify so that
// the right one of several roots with the same name (AMD's Milan ARK and a
// simulated "ARK-Milan") is used and the right CRL picked. Only a choice:
// snp::Verify checks everything again.
const crypto::Certificate* FindRoot(const std::optional<crypto::Certificate>& ark,
                                    const std::optional<crypto::Certificate>& ask, const crypto::Certificate& vek,
                                    const TrustConfig& trust) {
  if (ark.has_value()) {
    for (const crypto::Certificate& t : trust.roots.arks) {
      if (t.SubjectPublicKeyInfoDer() == ark->SubjectPublicKeyInfoDer()) return &t;
    }
    return nullptr;
  }
  if (ask.has_value()) {
    for (const crypto::Certificate& t : trust.roots.arks) {
      if (t.Subject() == ask->Issuer() && ask->VerifySignedBy(t).ok()) return &t;
    }
    return nullptr;
  }
  Result<snp::VekInfo> info = snp::ParseVekCertificate(vek);
  if (!info.has_value()) return nullptr;
  for (const crypto::Certificate& t : trust.roots.arks) {
    snp::Product p = snp::Product::kUnknown;
    if (snp::IsPinnedAmdArk(t, &p) && p == info->product) return &t;
  }
  return nullptr;
}

}  // namespace

EvidenceVerification VerifyServerEvidence(ByteView evidence, ByteView server_static_public_key,
                                          const TrustConfig& trust, std::int64_t at_unix_seconds,
                                          snp::ChainCache* cache) {
  EvidenceVerification out;
  Verdict& verdict = out.verdict;
  auto format_failed = [&](const Status& s, const std::string& what) {
    verdict.Add({std::string(kCheckEvidenceFormat), kFormatTitle, CheckResult::kFailed, std::string(s.reason()),
                 what + std::string(s.message())});
    AppendNotChecked(verdict, SnpChecklist());
    AddBindingNotChecked(verdict);
    AppendNotChecked(verdict, PolicyChecklist(trust.policy));
    return std::move(out);
  };

  // 1. The document.
  std::string_view text(reinterpret_cast<const char*>(evidence.data()), evidence.size());
  Result<attest::Evidence> parsed = attest::ParseEvidence(text);
  if (!parsed.has_value()) return format_failed(parsed.error(), "");
  const attest::Evidence& e = *parsed;
  Result<crypto::Certificate> vek = crypto::Certificate::FromDer(e.vek);
  if (!vek.has_value()) return format_failed(vek.error(), "vek: ");
  std::optional<crypto::Certificate> ask, ark;
  if (e.ask.has_value()) {
    Result<crypto::Certificate> c = crypto::Certificate::FromDer(*e.ask);
    if (!c.has_value()) return format_failed(c.error(), "ask: ");
    ask = std::move(c).value();
  }
  if (e.ark.has_value()) {
    Result<crypto::Certificate> c = crypto::Certificate::FromDer(*e.ark);
    if (!c.has_value()) return format_failed(c.error(), "ark: ");
    ark = std::move(c).value();
  }
  std::optional<crypto::Crl> evidence_crl;
  if (e.crl.has_value()) {
    Result<crypto::Crl> c = crypto::Crl::FromDer(*e.crl);
    if (!c.has_value()) return format_failed(c.error(), "crl: ");
    evidence_crl = std::move(c).value();
  }
  std::string detail = "version " + std::to_string(attest::kEvidenceVersion) + ", tee " + e.tee +
                       ", report " + std::to_string(e.report.size()) + " bytes" + (ask ? ", ASK" : "") +
                       (ark ? ", ARK" : "") + (evidence_crl ? ", CRL" : "");
  if (!e.provider.empty()) detail += ", provider \"" + e.provider + "\" (informational)";
  verdict.Add({std::string(kCheckEvidenceFormat), kFormatTitle, CheckResult::kPassed, "", detail});

  // 2. SEV-SNP: chain, CRL, signature.
  snp::VerifyInput in;
  in.report = e.report;
  in.vek = *vek;
  in.at_unix_seconds = at_unix_seconds;
  const crypto::Certificate* root = FindRoot(ark, ask, *vek, trust);
  if (ask.has_value()) in.chain.push_back(*ask);
  if (ark.has_value()) {
    in.chain.push_back(*ark);
  } else if (root != nullptr) {
    in.chain.push_back(*root);  // matched by key in snp::Verify
  }
  bool crl_from_trust = false;
  if (root != nullptr) {
    for (const crypto::Crl& crl : trust.crls) {
      if (crl.VerifySignedBy(*root).ok()) {
        in.crl = crl;
        crl_from_trust = true;
        break;
      }
    }
  }
  if (!crl_from_trust && evidence_crl.has_value()) in.crl = evidence_crl;
  snp::VerifyResult r = snp::Verify(in, trust.roots, cache);
  for (Check& c : r.verdict.checks) {
    if (c.id == "snp.crl" && c.result == CheckResult::kPassed) {
      c.detail += crl_from_trust ? " (CRL from the trust file)" : " (CRL from the evidence)";
    }
    verdict.Add(std::move(c));
  }
  verdict.root = r.verdict.root;
  if (!r.claims.has_value()) {
    AddBindingNotChecked(verdict);
    AppendNotChecked(verdict, PolicyChecklist(trust.policy));
    return out;
  }

  // 3. The binding to the Noise static key.
  const snp::AttestationReport& report = r.claims->report;
  ByteView report_data(report.report_data.data(), report.report_data.size());
  Result<Bytes> expected = attest::NoiseBindingReportData(server_static_public_key);
  if (!expected.has_value()) {
    verdict.Add({std::string(kCheckChannelBinding), kBindingTitle, CheckResult::kFailed,
                 std::string(kChannelBindingMismatch), std::string(expected.error().message())});
    AppendNotChecked(verdict, PolicyChecklist(trust.policy));
    return out;
  }
  if (!crypto::ConstantTimeEquals(*expected, report_data)) {
    verdict.Add({std::string(kCheckChannelBinding), kBindingTitle, CheckResult::kFailed,
                 std::string(kChannelBindingMismatch),
                 "REPORT_DATA " + HexEncode(report_data.first(12)) + "... is not the binding of server key " +
                     HexEncode(server_static_public_key)});
    AppendNotChecked(verdict, PolicyChecklist(trust.policy));
    return out;
  }
  verdict.Add({std::string(kCheckChannelBinding), kBindingTitle, CheckResult::kPassed, "",
               "server static key " + HexEncode(server_static_public_key)});

  // 4. The policy.
  snp::Policy policy = trust.policy;
  policy.report_data.reset();  // the binding above is the REPORT_DATA rule
  snp::Evaluate(*r.claims, policy, verdict);
  if (verdict.accepted()) out.claims = std::move(r.claims);
  return out;
}

}  // namespace perimeter::client
