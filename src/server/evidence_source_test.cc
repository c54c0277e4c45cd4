#include "perimeter/server/evidence_source.h"

#include <gtest/gtest.h>

#include <fstream>

#include "perimeter/attest/evidence.h"
#include "perimeter/attest/noise_binding.h"
#include "perimeter/attest/snp/report.h"
#include "perimeter/attest/snp/simulated/platform.h"
#include "perimeter/base/base64.h"
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

// FakeProvider (with its dummy VCEK) under a name the evidence parser knows.
class HostProvider : public testing::FakeProvider {
 public:
  Result<attest::snp::RawEvidence> GetEvidence(ByteView rd, std::uint32_t vmpl) override {
    auto raw = FakeProvider::GetEvidence(rd, vmpl);
    if (raw.has_value()) raw->provider = "sev-guest";
    return raw;
  }
};

// A provider without a VCEK in its certificate table.
class NoVekProvider : public testing::FakeProvider {
 public:
  Result<attest::snp::RawEvidence> GetEvidence(ByteView rd, std::uint32_t vmpl) override {
    auto raw = FakeProvider::GetEvidence(rd, vmpl);
    if (raw.has_value()) {
      raw->certs.clear();
      raw->provider = "sev-guest";  // a name the evidence parser knows
    }
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

std::string Pem(std::string_view label, const Bytes& der) {
  const std::string b64 = Base64Encode(der);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + std::string(label) + "-----\n";
}

void WriteFile(const std::string& path, std::string_view data) { std::ofstream(path, std::ios::binary) << data; }
void WriteFile(const std::string& path, const Bytes& data) {
  WriteFile(path, std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

attest::Evidence ParseDoc(const EvidenceSource& source) {
  const std::shared_ptr<const Bytes> doc = source.evidence();
  return attest::ParseEvidence(std::string_view(reinterpret_cast<const char*>(doc->data()), doc->size())).value();
}

// Finding: hardware providers never put a CRL into the evidence, and a host
// without a certificate table made the server refuse to start. crl_file
// and vek_file supply them (tested here on the simulated platform and on a
// provider whose certificate table is empty).
TEST(EvidenceSource, CrlFileGoesIntoTheEvidence) {
  testing::TempDir dir;
  const Bytes crl = Platform()->crl().ToDer();
  WriteFile(dir.File("crl.der"), crl);
  WriteFile(dir.File("crl.pem"), Pem("X509 CRL", crl));
  for (const char* file : {"crl.der", "crl.pem"}) {
    // A hardware provider (never asked for evidence here) gets the CRL...
    Result<ProviderSetup> hw = NewProviderSetup("sev-guest", "", "", {}, {});
    ASSERT_THAT(hw, IsOk());
    EXPECT_FALSE(hw->crl.has_value());
    ASSERT_THAT(AddEvidenceFiles(*hw, dir.File(file), ""), IsOk()) << file;
    ASSERT_TRUE(hw->crl.has_value());
    EXPECT_EQ(*hw->crl, crl);
    // ... and the evidence carries it (simulated platform, CRL from the file).
    Result<ProviderSetup> setup = NewSimulatedProviderSetup(Platform(), ToBytes("w"), {}, {});
    ASSERT_THAT(setup, IsOk());
    setup->crl.reset();
    ASSERT_THAT(AddEvidenceFiles(*setup, dir.File(file), ""), IsOk());
    EvidenceSource::Options o;
    o.setup = std::move(setup).value();
    auto source = EvidenceSource::New(std::move(o));
    ASSERT_THAT(source, IsOk());
    const attest::Evidence e = ParseDoc(**source);
    ASSERT_TRUE(e.crl.has_value());
    EXPECT_EQ(*e.crl, crl);
  }
}

TEST(EvidenceSource, VekFileIsUsedWhenTheHostSuppliesNone) {
  testing::TempDir dir;
  const Bytes vcek = Platform()->vcek().ToDer();
  WriteFile(dir.File("vcek.pem"), Pem("CERTIFICATE", vcek));
  WriteFile(dir.File("vcek.der"), vcek);
  for (const char* file : {"vcek.pem", "vcek.der"}) {
    EvidenceSource::Options o;
    o.setup.provider = std::make_unique<NoVekProvider>();
    ASSERT_THAT(AddEvidenceFiles(o.setup, "", dir.File(file)), IsOk()) << file;
    auto source = EvidenceSource::New(std::move(o));
    ASSERT_THAT(source, IsOk());
    EXPECT_EQ(ParseDoc(**source).vek, vcek);
  }
  // A host that supplies its own VEK keeps it.
  EvidenceSource::Options o;
  o.setup.provider = std::make_unique<HostProvider>();
  ASSERT_THAT(AddEvidenceFiles(o.setup, "", dir.File("vcek.der")), IsOk());
  auto source = EvidenceSource::New(std::move(o));
  ASSERT_THAT(source, IsOk());
  EXPECT_EQ(ParseDoc(**source).vek, Bytes(300, 0x30));
}

TEST(EvidenceSource, BadEvidenceFilesStopTheStart) {
  testing::TempDir dir;
  WriteFile(dir.File("junk"), std::string_view("not a crl"));
  WriteFile(dir.File("ark.der"), Platform()->ark().ToDer());  // RSA: not a VEK
  ProviderSetup setup;
  EXPECT_THAT(AddEvidenceFiles(setup, dir.File("junk"), ""),
              StatusIs(StatusCode::kInvalidArgument, "server.bad_crl_file"));
  EXPECT_THAT(AddEvidenceFiles(setup, dir.File("ark.der"), ""),  // a certificate is not a CRL
              StatusIs(StatusCode::kInvalidArgument, "server.bad_crl_file"));
  EXPECT_THAT(AddEvidenceFiles(setup, "", dir.File("junk")),
              StatusIs(StatusCode::kInvalidArgument, "server.bad_vek_file"));
  EXPECT_THAT(AddEvidenceFiles(setup, "", dir.File("ark.der")),
              StatusIs(StatusCode::kInvalidArgument, "server.bad_vek_file"));
  EXPECT_THAT(AddEvidenceFiles(setup, dir.File("missing"), ""), StatusIs(StatusCode::kUnavailable, "server.io"));
  EXPECT_FALSE(setup.crl.has_value());
  EXPECT_FALSE(setup.fallback_vek.has_value());
  EXPECT_THAT(AddEvidenceFiles(setup, "", ""), IsOk());
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
