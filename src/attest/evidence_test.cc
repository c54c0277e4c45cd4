#include "perimeter/attest/evidence.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace perimeter::attest
