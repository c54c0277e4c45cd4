#include "perimeter/attest/evidence.h"

#include <gtest/gtest.h>

#include "perimeter/attest/noise_binding.h"
#include "perimeter/base/base64.h"
#include "tests/testing/matchers.h"

namespace perimeter::attest {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

Evidence Sample() {
  Evidence e;
  e.report = Bytes(1184, 0x11);
  e.vek = Bytes(900, 0x22);
  e.ask = Bytes(1300, 0x33);
  e.crl = Bytes(700, 0x44);
  e.provider = "insecure-simulated";
  e.endorsement_json = R"({"bundle":{"x":1}})";
  return e;
}

TEST(Evidence, RoundTrips) {
  Evidence e = Sample();
  Result<std::string> text = SerializeEvidence(e);
  ASSERT_THAT(text, IsOk());
  EXPECT_EQ(text->rfind("{\"version\":1,\"tee\":\"sev-snp\",\"report\":\"", 0), 0u);
  Result<Evidence> back = ParseEvidence(*text);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->report, e.report);
  EXPECT_EQ(back->vek, e.vek);
  EXPECT_EQ(*back->ask, *e.ask);
  EXPECT_FALSE(back->ark.has_value());
  EXPECT_EQ(*back->crl, *e.crl);
  EXPECT_EQ(back->provider, "insecure-simulated");
  EXPECT_EQ(back->endorsement_json, R"({"bundle":{"x":1}})");
}

std::string Doc(const std::string& members) {
  return "{\"version\":1,\"tee\":\"sev-snp\",\"report\":\"" + Base64Encode(Bytes(1184, 1)) + "\",\"vek\":\"" +
         Base64Encode(Bytes(10, 2)) + "\"" + members + "}";
}

TEST(Evidence, RejectsWhatItMust) {
  const auto kInvalid = StatusCode::kInvalidArgument;
  EXPECT_THAT(ParseEvidence(Doc("")), IsOk());
  EXPECT_THAT(ParseEvidence("not json"), StatusIs(kInvalid, "attest.evidence_bad_json"));
  EXPECT_THAT(ParseEvidence("[1]"), StatusIs(kInvalid, "attest.evidence_bad_json"));
  EXPECT_THAT(ParseEvidence(std::string(65001, ' ')), StatusIs(kInvalid, "attest.evidence_too_large"));
  EXPECT_THAT(ParseEvidence(Doc(",\"extra\":1")), StatusIs(kInvalid, "attest.evidence_unknown_field"));
  EXPECT_THAT(ParseEvidence(R"({"tee":"sev-snp"})"), StatusIs(kInvalid, "attest.evidence_missing_field"));
  std::string v2 = Doc("");
  v2.replace(v2.find("\"version\":1"), 11, "\"version\":2");
  EXPECT_THAT(ParseEvidence(v2), StatusIs(kInvalid, "attest.evidence_unsupported_version"));
  std::string vs = Doc("");
  vs.replace(vs.find("\"version\":1"), 11, "\"version\":\"1\"");
  EXPECT_THAT(ParseEvidence(vs), StatusIs(kInvalid, "attest.evidence_unsupported_version"));
  std::string tdx = Doc("");
  tdx.replace(tdx.find("sev-snp"), 7, "tdx");
  EXPECT_THAT(ParseEvidence(tdx), StatusIs(kInvalid, "attest.evidence_unsupported_tee"));
  std::string short_report = "{\"version\":1,\"tee\":\"sev-snp\",\"report\":\"" + Base64Encode(Bytes(1183, 1)) +
                             "\",\"vek\":\"AA==\"}";
  EXPECT_THAT(ParseEvidence(short_report), StatusIs(kInvalid, "attest.evidence_bad_field"));
  EXPECT_THAT(ParseEvidence(Doc(",\"ask\":\"@@@@\"")), StatusIs(kInvalid, "attest.evidence_bad_field"));
  EXPECT_THAT(ParseEvidence(Doc(",\"ask\":\"\"")), StatusIs(kInvalid, "attest.evidence_bad_field"));
  EXPECT_THAT(ParseEvidence(Doc(",\"crl\":\"@@@@\"")), StatusIs(kInvalid, "attest.evidence_bad_field"));
  EXPECT_THAT(ParseEvidence(Doc(",\"crl\":7")), StatusIs(kInvalid, "attest.evidence_bad_field"));
  EXPECT_THAT(ParseEvidence(Doc(",\"ark\":5")), StatusIs(kInvalid, "attest.evidence_bad_field"));
  EXPECT_THAT(ParseEvidence(Doc(",\"provider\":\"hardware\"")), StatusIs(kInvalid, "attest.evidence_bad_field"));
  EXPECT_THAT(ParseEvidence(Doc(",\"endorsement\":[]")), StatusIs(kInvalid, "attest.evidence_bad_field"));
  std::string no_vek = "{\"version\":1,\"tee\":\"sev-snp\",\"report\":\"" + Base64Encode(Bytes(1184, 1)) + "\"}";
  EXPECT_THAT(ParseEvidence(no_vek), StatusIs(kInvalid, "attest.evidence_missing_field"));
}

TEST(Evidence, EveryTruncationIsRejected) {
  std::string text = SerializeEvidence(Sample()).value();
  for (std::size_t len = 0; len < text.size(); len += 7) {
    EXPECT_FALSE(ParseEvidence(text.substr(0, len)).has_value()) << len;
  }
}

TEST(Evidence, SerializeRefusesBadInput) {
  Evidence e = Sample();
  e.report.pop_back();
  EXPECT_THAT(SerializeEvidence(e), StatusIs(StatusCode::kInvalidArgument, "attest.evidence_bad_field"));
  e = Sample();
  e.endorsement_json = "{\"x\":\"" + std::string(70000, 'a') + "\"}";
  EXPECT_THAT(SerializeEvidence(e), StatusIs(StatusCode::kInvalidArgument, "attest.evidence_too_large"));
  e.endorsement_json = "[1]";
  EXPECT_THAT(SerializeEvidence(e), StatusIs(StatusCode::kInvalidArgument, "attest.evidence_bad_field"));
  e = Sample();
  e.ask = Bytes(50000, 1);
  EXPECT_THAT(SerializeEvidence(e), StatusIs(StatusCode::kInvalidArgument, "attest.evidence_too_large"));
}


// docs/wire-protocol.md section 4.3: the worked example (the server key is
// RFC 7748 section 6.1's "Bob" public key).
TEST(NoiseBinding, MatchesTheWorkedExample) {
  Result<Bytes> key = HexDecode("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  ASSERT_THAT(key, IsOk());
  Result<Bytes> rd = NoiseBindingReportData(*key);
  ASSERT_THAT(rd, IsOk());
  EXPECT_EQ(HexEncode(*rd),
            "4ce1bd6cd23ce9c5566c1d5a42e04e8c34eb00062b7ea2292e3f3aff9a77e104"
            "ac7d09d9c009f267ba77fe87d88a07230a1b3b6c064d4c13c8231224589803f8");
}

TEST(NoiseBinding, RejectsKeysOfTheWrongSize) {
  EXPECT_THAT(NoiseBindingReportData(Bytes(31, 1)), StatusIs(StatusCode::kInvalidArgument, "attest.binding_bad_key"));
  EXPECT_THAT(NoiseBindingReportData(Bytes(33, 1)), StatusIs(StatusCode::kInvalidArgument, "attest.binding_bad_key"));
  EXPECT_THAT(NoiseBindingReportData(Bytes()), StatusIs(StatusCode::kInvalidArgument, "attest.binding_bad_key"));
}

}  // namespace
}  // namespace perimeter::attest
