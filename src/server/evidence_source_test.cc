#include "perimeter/server/evidence_source.h"

#include <gtest/gtest.h>

#include "perimeter/attest/evidence.h"
#include "perimeter/attest/noise_binding.h"
#include "perimeter/attest/snp/report.h"
#include "perimeter/attest/snp/simulated/platform.h"
#include "src/server/server_test_util.h"

namespace perimeter::server {
namespace {

namespace sim = attest::snp::simulated;
using testing::IsOk;
using testing::StatusIs;

// One simulated platform for the whole binary (RSA-4096 keys take seconds).
std::shared_ptr<const sim::SimulatedPlatform> Platform() {
  static const auto* platform = [] {
    sim::CreateOptions o;
    o.not_before = 1'700'000'000;
    o.days = 3650;
    return new std::shared_ptr<const sim::SimulatedPlatform>(
        std::make_shared<const sim::SimulatedPlatform>(sim::SimulatedPlatform::Create(o).value()));
  }();
  return *platform;
}

TEST(EvidenceSource, SimulatedEvidenceIsBoundToTheStaticKey) {
  const Bytes workload = ToBytes("workload binary bytes");
  const Bytes config = ToBytes("pod_id: demo\n");
  const Bytes host_data(32, 0xab);
  Result<ProviderSetup> setup = NewSimulatedProviderSetup(Platform(), workload, config, host_data);
  ASSERT_THAT(setup, IsOk());
  EXPECT_EQ(setup->measurement, sim::SimulatedMeasurement(workload, config).value());
  EvidenceSource::Options o;
  o.setup = std::move(setup).value();
  Result<std::unique_ptr<EvidenceSource>> source = EvidenceSource::New(std::move(o));
  ASSERT_THAT(source, IsOk());
  const std::shared_ptr<const Bytes> doc = (*source)->evidence();
  ASSERT_NE(doc, nullptr);
  Result<attest::Evidence> e = attest::ParseEvidence(std::string_view(reinterpret_cast<const char*>(doc->data()), doc->size()));
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->provider, "insecure-simulated");
  EXPECT_EQ(e->vek, Platform()->vcek().ToDer());
  ASSERT_TRUE(e->ask.has_value() && e->ark.has_value() && e->crl.has_value());
  EXPECT_EQ(*e->ask, Platform()->ask().ToDer());
  EXPECT_EQ(*e->ark, Platform()->ark().ToDer());
  EXPECT_EQ(*e->crl, Platform()->crl().ToDer());
  Result<attest::snp::AttestationReport> report = attest::snp::ParseReport(e->report);
  ASSERT_THAT(report, IsOk());
  const Bytes binding = attest::NoiseBindingReportData((*source)->static_public_key()).value();
  EXPECT_EQ(ToBytes(report->report_data), binding);
  EXPECT_EQ(ToBytes(report->measurement), (*source)->measurement());
  EXPECT_EQ(ToBytes(report->host_data), host_data);

  // A refresh gives a new report for the same key.
  const Bytes before = *doc;
  const Bytes key_before = ToBytes((*source)->static_public_key());
  ASSERT_THAT((*source)->Refresh(), IsOk());
  EXPECT_NE(*(*source)->evidence(), before);
  EXPECT_EQ(ToBytes((*source)->static_public_key()), key_before);
  EXPECT_EQ(*doc, before);  // readers keep the document they hold
}

TEST(EvidenceSource, EachSourceHasItsOwnKey) {
  auto a = testing::NewFakeEvidenceSource();
  auto b = testing::NewFakeEvidenceSource();
  EXPECT_NE(ToBytes(a->static_public_key()), ToBytes(b->static_public_key()));
}

// A provider that ignores the requested REPORT_DATA.
class UnboundProvider : public testing::FakeProvider {
 public:
  Result<attest::snp::RawEvidence> GetEvidence(ByteView, std::uint32_t vmpl) override {
    return FakeProvider::GetEvidence(Bytes(64, 0x11), vmpl);
  }
};

// A provider without a VCEK in its certificate table.
class NoVekProvider : public testing::FakeProvider {
 public:
  Result<attest::snp::RawEvidence> GetEvidence(ByteView rd, std::uint32_t vmpl) override {
    auto raw = FakeProvider::GetEvidence(rd, vmpl);
    if (raw.has_value()) raw->certs.clear();
    return raw;
  }
};

TEST(EvidenceSource, RejectsReportsNotBoundToTheKey) {
  EvidenceSource::Options o;
  o.setup.provider = std::make_unique<UnboundProvider>();
  EXPECT_THAT(EvidenceSource::New(std::move(o)),
              StatusIs(StatusCode::kInternal, "server.evidence_binding_mismatch"));
}

TEST(EvidenceSource, RejectsEvidenceWithoutVek) {
  EvidenceSource::Options o;
  o.setup.provider = std::make_unique<NoVekProvider>();
  EXPECT_THAT(EvidenceSource::New(std::move(o)), StatusIs(StatusCode::kFailedPrecondition, "server.evidence_no_vek"));
}

TEST(EvidenceSource, ProviderSetupErrors) {
  EXPECT_THAT(NewProviderSetup("tdx", "", "", {}, {}), StatusIs(StatusCode::kInvalidArgument, "server.bad_provider"));
  EXPECT_THAT(NewProviderSetup("sev-guest", "", "", {}, Bytes(32, 1)),
              StatusIs(StatusCode::kInvalidArgument, "server.bad_host_data"));
  EXPECT_THAT(NewProviderSetup("simulated", "", "", {}, {}),
              StatusIs(StatusCode::kInvalidArgument, "server.bad_provider"));
  EXPECT_THAT(NewSimulatedProviderSetup(Platform(), {}, {}, Bytes(31, 0)),
              StatusIs(StatusCode::kInvalidArgument, "server.bad_host_data"));
  testing::TempDir dir;
  EXPECT_THAT(NewProviderSetup("simulated", dir.File("none"), "", {}, {}),
              StatusIs(StatusCode::kNotFound, sim::kSimPlatformMissing));
}

}  // namespace
}  // namespace perimeter::server
