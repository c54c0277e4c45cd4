// The trust file: strict parsing, AMD's roots by default, the simulated ARK
// only when named, and a stable reason for every kind of mistake.
#include "perimeter/client/trust_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <set>
#include <utility>
#include <vector>

#include "client/testing/test_server.h"
#include "perimeter/attest/snp/amd_roots.h"
#include "tests/testing/matchers.h"

namespace perimeter::client {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;
using testing::SharedPlatform;
using testing::TempDir;

const std::string kM = std::string(96, 'a');

class TrustConfigTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { SharedPlatform(); }
  void SetUp() override {
    // ark.pem and crl.der of the simulated platform, for files to name.
    ASSERT_TRUE(testing::WriteTrustFile(dir_.path(), *SharedPlatform(), "  allow_any_measurement: true\n").has_value());
  }
  Result<TrustConfig> Parse(const std::string& yaml) { return ParseTrustConfig(yaml, dir_.path()); }
  TempDir dir_;
};

bool Contains(const attest::snp::TrustedRoots& roots, const crypto::Certificate& c) {
  for (const auto& r : roots.arks) {
    if (r == c) return true;
  }
  return false;
}

TEST_F(TrustConfigTest, MinimalFileTrustsAmdOnly) {
  Result<TrustConfig> t = Parse("version: 1\npolicy:\n  measurements: [" + kM + "]\n");
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(t->roots.arks.size(), attest::snp::AmdArks().size());
  EXPECT_FALSE(Contains(t->roots, SharedPlatform()->ark()));
  EXPECT_EQ(t->policy.measurements.size(), 1u);
  EXPECT_TRUE(t->policy.host_data.empty());
  EXPECT_TRUE(t->policy.require_crl);
  EXPECT_FALSE(t->policy.allow_debug);
  EXPECT_EQ(t->policy.max_vmpl, 0u);
}

TEST_F(TrustConfigTest, FullFileParses) {
  Result<TrustConfig> t = Parse(
      "version: 1\n"
      "roots:\n  amd: false\n  arks:\n    - ark.pem\n"
      "crls: [crl.der]\n"
      "policy:\n"
      "  measurements: [" + kM + ", " + std::string(96, 'B') + "]\n"
      "  host_data: [" + std::string(64, '1') + "]\n"
      "  min_tcb: {Milan: {bl: 3, tee: 0, snp: 8, ucode: 115}, Turin: {fmc: 1, bl: 1, tee: 1, snp: 1, ucode: 1}}\n"
      "  allow_debug: true\n  allow_migration_agent: false\n  allow_smt: false\n  max_vmpl: 2\n  require_crl: false\n");
  ASSERT_THAT(t, IsOk());
  ASSERT_EQ(t->roots.arks.size(), 1u);
  EXPECT_TRUE(t->roots.arks[0] == SharedPlatform()->ark());
  EXPECT_EQ(t->crls.size(), 1u);
  EXPECT_EQ(t->policy.measurements.size(), 2u);
  EXPECT_EQ(t->policy.host_data.size(), 1u);
  EXPECT_EQ(t->policy.min_tcb.at(attest::snp::Product::kMilan).microcode, 115);
  EXPECT_EQ(t->policy.min_tcb.at(attest::snp::Product::kTurin).fmc, 1);
  EXPECT_TRUE(t->policy.allow_debug);
  EXPECT_FALSE(t->policy.allow_smt);
  EXPECT_EQ(t->policy.max_vmpl, 2u);
  EXPECT_FALSE(t->policy.require_crl);
  EXPECT_FALSE(t->policy.report_data.has_value());
}

TEST_F(TrustConfigTest, NamedArkIsAddedToAmdRoots) {
  Result<TrustConfig> t = Parse("version: 1\nroots:\n  arks: [ark.pem]\npolicy:\n  allow_any_measurement: true\n");
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(t->roots.arks.size(), attest::snp::AmdArks().size() + 1);
  EXPECT_TRUE(Contains(t->roots, SharedPlatform()->ark()));
}

TEST_F(TrustConfigTest, LoadResolvesPathsAgainstTheFilesDirectory) {
  Result<TrustConfig> t = LoadTrustConfig(dir_.File("trust.yaml"));
  ASSERT_THAT(t, IsOk());
  EXPECT_TRUE(Contains(t->roots, SharedPlatform()->ark()));
  EXPECT_THAT(LoadTrustConfig(dir_.File("missing.yaml")), StatusIs(StatusCode::kNotFound, "trust.file_missing"));
}

TEST_F(TrustConfigTest, EveryMistakeHasItsReason) {
  const std::string p = "policy:\n  measurements: [" + kM + "]\n";
  struct Case {
    std::string yaml;
    StatusCode code;
    const char* reason;
  };
  const Case cases[] = {
      {"", StatusCode::kInvalidArgument, "trust.missing_field"},
      {"- 1\n", StatusCode::kInvalidArgument, "trust.bad_type"},
      {"version: 1\n", StatusCode::kInvalidArgument, "trust.missing_field"},
      {p, StatusCode::kInvalidArgument, "trust.missing_field"},
      {"version: 2\n" + p, StatusCode::kInvalidArgument, "trust.unsupported_version"},
      {"version: one\n" + p, StatusCode::kInvalidArgument, "trust.bad_type"},
      {"version: 1\nextra: 1\n" + p, StatusCode::kInvalidArgument, "trust.unknown_key"},
      {"version: 1\nversion: 1\n" + p, StatusCode::kInvalidArgument, "trust.duplicate_key"},
      {"version: 1\nroots: {amd: true, sim: true}\n" + p, StatusCode::kInvalidArgument, "trust.unknown_key"},
      {"version: 1\nroots: {amd: yes}\n" + p, StatusCode::kInvalidArgument, "trust.bad_type"},
      {"version: 1\nroots: {amd: false}\n" + p, StatusCode::kInvalidArgument, "trust.no_roots"},
      {"version: 1\nroots: {amd: false, arks: []}\n" + p, StatusCode::kInvalidArgument, "trust.no_roots"},
      {"version: 1\nroots: {arks: ark.pem}\n" + p, StatusCode::kInvalidArgument, "trust.bad_type"},
      {"version: 1\nroots: {arks: [nope.pem]}\n" + p, StatusCode::kNotFound, "trust.file_missing"},
      {"version: 1\nroots: {arks: [trust.yaml]}\n" + p, StatusCode::kInvalidArgument, "trust.bad_certificate"},
      {"version: 1\ncrls: [nope.der]\n" + p, StatusCode::kNotFound, "trust.file_missing"},
      {"version: 1\ncrls: [ark.pem]\n" + p, StatusCode::kInvalidArgument, "trust.bad_crl"},
      // The simulated CRL is not signed by any AMD root.
      {"version: 1\ncrls: [crl.der]\n" + p, StatusCode::kInvalidArgument, "trust.bad_crl"},
      {"version: 1\npolicy: {}\n", StatusCode::kInvalidArgument, "trust.no_measurements"},
      {"version: 1\npolicy: {measurements: []}\n", StatusCode::kInvalidArgument, "trust.no_measurements"},
      {"version: 1\npolicy: {measurements: [" + kM + "], allow_any_measurement: true}\n",
       StatusCode::kInvalidArgument, "trust.bad_value"},
      {"version: 1\npolicy: {measurements: [" + std::string(95, 'a') + "]}\n", StatusCode::kInvalidArgument,
       "trust.bad_hex"},
      {"version: 1\npolicy: {measurements: [" + std::string(94, 'a') + "]}\n", StatusCode::kInvalidArgument,
       "trust.bad_length"},
      {"version: 1\npolicy: {measurements: [" + std::string(95, 'a') + "g]}\n", StatusCode::kInvalidArgument,
       "trust.bad_hex"},
      {"version: 1\npolicy: {measurements: [" + kM + "], host_data: [" + std::string(66, '0') + "]}\n",
       StatusCode::kInvalidArgument, "trust.bad_length"},
      {"version: 1\npolicy: {measurements: [" + kM + "], host_data: " + std::string(64, '0') + "}\n",
       StatusCode::kInvalidArgument, "trust.bad_type"},
      // An empty list is not "any" (omitting the key is): a template that
      // renders no values must fail closed.
      {"version: 1\npolicy: {measurements: [" + kM + "], host_data: []}\n", StatusCode::kInvalidArgument,
       "trust.bad_value"},
      {"version: 1\npolicy:\n  measurements: [" + kM + "]\n  host_data:\n", StatusCode::kInvalidArgument,
       "trust.bad_type"},
      {"version: 1\npolicy: {measurements: [" + kM + "], mesurements: []}\n", StatusCode::kInvalidArgument,
       "trust.unknown_key"},
      {"version: 1\npolicy: {measurements: [" + kM + "], min_tcb: {Naples: {bl: 1, tee: 1, snp: 1, ucode: 1}}}\n",
       StatusCode::kInvalidArgument, "trust.unknown_key"},
      {"version: 1\npolicy: {measurements: [" + kM + "], min_tcb: {Milan: {fmc: 1, bl: 1, tee: 1, snp: 1, ucode: 1}}}\n",
       StatusCode::kInvalidArgument, "trust.unknown_key"},
      {"version: 1\npolicy: {measurements: [" + kM + "], min_tcb: {Milan: {bl: 1, tee: 1, snp: 1}}}\n",
       StatusCode::kInvalidArgument, "trust.missing_field"},
      {"version: 1\npolicy: {measurements: [" + kM + "], min_tcb: {Milan: {bl: 256, tee: 1, snp: 1, ucode: 1}}}\n",
       StatusCode::kInvalidArgument, "trust.bad_value"},
      {"version: 1\npolicy: {measurements: [" + kM + "], max_vmpl: 4}\n", StatusCode::kInvalidArgument,
       "trust.bad_value"},
      {"version: 1\npolicy: {measurements: [" + kM + "], max_vmpl: -1}\n", StatusCode::kInvalidArgument,
       "trust.bad_type"},
      {"version: 1\npolicy: {measurements: [" + kM + "], allow_debug: 1}\n", StatusCode::kInvalidArgument,
       "trust.bad_type"},
      {"version: 1\npolicy: [" + kM + "]\n", StatusCode::kInvalidArgument, "trust.bad_type"},
      {"version: 1\npolicy: {measurements: [" + kM + "\n", StatusCode::kInvalidArgument, "trust.bad_yaml"},
      {"version: 1\n" + p + "---\nversion: 1\n" + p, StatusCode::kInvalidArgument, "trust.bad_yaml"},
      // yaml-cpp 0.7's LoadAll never returns on these (an endless stream of
      // null documents; found by trust_config_fuzz).
      {",", StatusCode::kInvalidArgument, "trust.bad_yaml"},
      {"{version: 1, policy: {allow_any_measurement: true}}, x", StatusCode::kInvalidArgument, "trust.bad_yaml"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Parse(c.yaml), StatusIs(c.code, c.reason)) << c.yaml;
  }
}

TEST_F(TrustConfigTest, HostDataOmittedMeansAnyListedMeansThose) {
  Result<TrustConfig> any = Parse("version: 1\npolicy: {measurements: [" + kM + "]}\n");
  ASSERT_THAT(any, IsOk());
  EXPECT_TRUE(any->policy.host_data.empty());
  Result<TrustConfig> one = Parse("version: 1\npolicy: {measurements: [" + kM + "], host_data: [" +
                                  std::string(64, '2') + "]}\n");
  ASSERT_THAT(one, IsOk());
  EXPECT_EQ(one->policy.host_data, std::vector<Bytes>{Bytes(32, 0x22)});
}

TEST_F(TrustConfigTest, FingerprintCoversRootsCrlsAndEveryPolicyField) {
  const std::string base =
      "version: 1\nroots: {amd: true, arks: [ark.pem]}\npolicy:\n  measurements: [" + kM + ", " +
      std::string(96, 'b') + "]\n  host_data: [" + std::string(64, '1') + ", " + std::string(64, '2') + "]\n";
  Result<TrustConfig> t = Parse(base);
  ASSERT_THAT(t, IsOk());
  Result<Bytes> fp = TrustConfigFingerprint(*t);
  ASSERT_THAT(fp, IsOk());
  EXPECT_EQ(fp->size(), 32u);
  // Stable, and blind to the order of lists with set semantics.
  EXPECT_EQ(TrustConfigFingerprint(Parse(base).value()).value(), *fp);
  Result<TrustConfig> reordered =
      Parse("version: 1\nroots: {arks: [ark.pem], amd: true}\npolicy:\n  host_data: [" + std::string(64, '2') + ", " +
            std::string(64, '1') + "]\n  measurements: [" + std::string(96, 'b') + ", " + kM + "]\n");
  ASSERT_THAT(reordered, IsOk());
  EXPECT_EQ(TrustConfigFingerprint(*reordered).value(), *fp);

  // Any change of what the configuration accepts changes it.
  std::vector<std::pair<std::string, std::function<void(TrustConfig&)>>> changes = {
      {"an ARK fewer", [](TrustConfig& c) { c.roots.arks.pop_back(); }},
      {"a CRL", [](TrustConfig& c) { c.crls.push_back(SharedPlatform()->crl()); }},
      {"a measurement fewer", [](TrustConfig& c) { c.policy.measurements.pop_back(); }},
      {"a measurement changed", [](TrustConfig& c) { c.policy.measurements[0][47] ^= 1; }},
      {"any measurement", [](TrustConfig& c) { c.policy.measurements.clear(); }},
      {"a HOST_DATA fewer", [](TrustConfig& c) { c.policy.host_data.pop_back(); }},
      {"any HOST_DATA", [](TrustConfig& c) { c.policy.host_data.clear(); }},
      {"report_data", [](TrustConfig& c) { c.policy.report_data = Bytes(64, 0); }},
      {"min_tcb", [](TrustConfig& c) { c.policy.min_tcb[attest::snp::Product::kMilan] = {}; }},
      {"min_tcb value",
       [](TrustConfig& c) { c.policy.min_tcb[attest::snp::Product::kMilan] = {.fmc = 0, .boot_loader = 1}; }},
      {"allow_debug", [](TrustConfig& c) { c.policy.allow_debug = true; }},
      {"allow_migration_agent", [](TrustConfig& c) { c.policy.allow_migration_agent = true; }},
      {"allow_smt", [](TrustConfig& c) { c.policy.allow_smt = false; }},
      {"max_vmpl", [](TrustConfig& c) { c.policy.max_vmpl = 1; }},
      {"family_id", [](TrustConfig& c) { c.policy.family_id = Bytes(16, 0); }},
      {"image_id", [](TrustConfig& c) { c.policy.image_id = Bytes(16, 0); }},
      {"author_key_digest", [](TrustConfig& c) { c.policy.author_key_digest = Bytes(48, 0); }},
      {"require_crl", [](TrustConfig& c) { c.policy.require_crl = false; }},
  };
  std::set<Bytes> seen = {*fp};
  for (auto& [what, change] : changes) {
    TrustConfig c = *t;
    change(c);
    Result<Bytes> other = TrustConfigFingerprint(c);
    ASSERT_THAT(other, IsOk());
    EXPECT_TRUE(seen.insert(*other).second) << what;
  }
  // roots_summary only describes: not part of it.
  TrustConfig c = *t;
  c.roots_summary = "something else";
  EXPECT_EQ(TrustConfigFingerprint(c).value(), *fp);
}

}  // namespace
}  // namespace perimeter::client
