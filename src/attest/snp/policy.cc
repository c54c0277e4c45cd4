#include "perimeter/attest/snp/policy.h"

#include "perimeter/crypto/constant_time.h"

namespace perimeter::attest::snp {
namespace {

void Add(Verdict& v, const char* id, const char* title, bool ok, const char* reason, std::string detail) {
  v.Add({id, title, ok ? CheckResult::kPassed : CheckResult::kFailed, ok ? "" : reason, std::move(detail)});
}

void NotApplicable(Verdict& v, const char* id, const char* title) {
  v.Add({id, title, CheckResult::kNotApplicable, "", "not required by the policy"});
}

template <std::size_t N>
ByteView View(const std::array<std::uint8_t, N>& a) {
  return ByteView(a.data(), N);
}

std::string Short(ByteView b) { return HexEncode(b.first(std::min<std::size_t>(b.size(), 12))) + "..."; }

}  // namespace

void Evaluate(const Claims& claims, const Policy& policy, Verdict& verdict) {
  const AttestationReport& r = claims.report;
  const GuestPolicy gp = r.DecodedPolicy();

  Add(verdict, "policy.debug", "guest debugging forbidden", policy.allow_debug || !gp.debug,
      "snp.policy_debug_allowed", gp.debug ? "POLICY.DEBUG = 1" : "POLICY.DEBUG = 0");
  Add(verdict, "policy.migrate_ma", "migration agent forbidden",
      policy.allow_migration_agent || !gp.migrate_ma, "snp.policy_migration_agent",
      gp.migrate_ma ? "POLICY.MIGRATE_MA = 1" : "POLICY.MIGRATE_MA = 0");
  if (policy.allow_smt) {
    NotApplicable(verdict, "policy.smt", "SMT disabled on the platform");
  } else {
    bool smt = r.DecodedPlatformInfo().smt_en;
    Add(verdict, "policy.smt", "SMT disabled on the platform", !smt, "snp.policy_smt_enabled",
        smt ? "PLATFORM_INFO.SMT_EN = 1" : "PLATFORM_INFO.SMT_EN = 0");
  }
  Add(verdict, "policy.vmpl", "VMPL allowed", r.vmpl <= policy.max_vmpl, "snp.policy_vmpl",
      "VMPL " + std::to_string(r.vmpl) + ", at most " + std::to_string(policy.max_vmpl));

  if (policy.measurements.empty()) {
    NotApplicable(verdict, "policy.measurement", "launch measurement allowed");
  } else {
    bool found = false;
    for (const Bytes& m : policy.measurements) found = found || crypto::ConstantTimeEquals(m, View(r.measurement));
    Add(verdict, "policy.measurement", "launch measurement allowed", found, "snp.policy_measurement",
        HexEncode(View(r.measurement)) + (found ? " is allowed" : " is not among the " +
                                                                  std::to_string(policy.measurements.size()) +
                                                                  " allowed"));
  }
  if (policy.host_data.empty()) {
    NotApplicable(verdict, "policy.host_data", "HOST_DATA allowed");
  } else {
    bool found = false;
    for (const Bytes& h : policy.host_data) found = crypto::ConstantTimeEquals(h, View(r.host_data)) || found;
    Add(verdict, "policy.host_data", "HOST_DATA allowed", found, "snp.policy_host_data",
        "HOST_DATA " + Short(View(r.host_data)) +
            (found ? " is allowed" : " is not among the " + std::to_string(policy.host_data.size()) + " allowed"));
  }
  if (!policy.report_data) {
    NotApplicable(verdict, "policy.report_data", "REPORT_DATA binding");
  } else {
    bool ok = crypto::ConstantTimeEquals(*policy.report_data, View(r.report_data));
    Add(verdict, "policy.report_data", "REPORT_DATA binding", ok, "snp.policy_report_data",
        ok ? "REPORT_DATA binds the expected value" : "REPORT_DATA " + Short(View(r.report_data)) +
                                                          " does not bind the expected value");
  }
  auto min = policy.min_tcb.find(claims.product);
  if (min == policy.min_tcb.end()) {
    NotApplicable(verdict, "policy.min_tcb", "REPORTED_TCB at least the minimum");
  } else {
    const TcbVersion& t = claims.reported_tcb;
    const TcbVersion& m = min->second;
    std::string detail = "bl " + std::to_string(t.boot_loader) + ">=" + std::to_string(m.boot_loader) +
                         ", tee " + std::to_string(t.tee) + ">=" + std::to_string(m.tee) + ", snp " +
                         std::to_string(t.snp) + ">=" + std::to_string(m.snp) + ", ucode " +
                         std::to_string(t.microcode) + ">=" + std::to_string(m.microcode);
    if (claims.product == Product::kTurin) {
      detail = "fmc " + std::to_string(t.fmc) + ">=" + std::to_string(m.fmc) + ", " + detail;
    }
    Add(verdict, "policy.min_tcb", "REPORTED_TCB at least the minimum", TcbAtLeast(t, m),
        "snp.policy_tcb_too_old", detail);
  }
  if (!policy.family_id) {
    NotApplicable(verdict, "policy.family_id", "FAMILY_ID as required");
  } else {
    Add(verdict, "policy.family_id", "FAMILY_ID as required", *policy.family_id == ToBytes(View(r.family_id)),
        "snp.policy_family_id", "FAMILY_ID " + HexEncode(View(r.family_id)));
  }
  if (!policy.image_id) {
    NotApplicable(verdict, "policy.image_id", "IMAGE_ID as required");
  } else {
    Add(verdict, "policy.image_id", "IMAGE_ID as required", *policy.image_id == ToBytes(View(r.image_id)),
        "snp.policy_image_id", "IMAGE_ID " + HexEncode(View(r.image_id)));
  }
  if (!policy.author_key_digest) {
    NotApplicable(verdict, "policy.author_key", "author key as required");
  } else {
    bool ok = r.author_key_en() && *policy.author_key_digest == ToBytes(View(r.author_key_digest));
    Add(verdict, "policy.author_key", "author key as required", ok, "snp.policy_author_key",
        r.author_key_en() ? "AUTHOR_KEY_DIGEST " + Short(View(r.author_key_digest)) : "AUTHOR_KEY_EN = 0");
  }
  if (!policy.require_crl) {
    NotApplicable(verdict, "policy.crl", "revocation checked");
  } else {
    Add(verdict, "policy.crl", "revocation checked", claims.crl_checked, "snp.policy_crl_required",
        claims.crl_checked ? "the ARK's CRL was applied" : "no CRL was applied");
  }
}

}  // namespace perimeter::attest::snp
