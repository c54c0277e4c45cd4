#include "perimeter/attest/snp/configfs_tsm_provider.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "perimeter/attest/snp/cert_table.h"
#include "perimeter/attest/snp/report.h"
#include "tests/testing/matchers.h"

namespace perimeter::attest::snp {
namespace {

namespace fs = std::filesystem;
using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

// What the fake "kernel" does when the entry is used.
struct KernelBehaviour {
  std::string provider = "sev_guest\n";
  std::size_t outblob_size = kReportSize;
  bool write_auxblob = true;
  Bytes auxblob;
  bool corrupt_report_data = false;
  unsigned extra_generation_bumps = 0;  // a concurrent writer
  bool drop_generation = false;
};

void WriteRaw(const fs::path& p, ByteView data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

Bytes ReadRaw(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Real POSIX file operations on a temp tree, plus what configfs-tsm does:
// mkdir populates the attributes, writes bump `generation`, writing inblob
// produces outblob/auxblob, rmdir takes the attributes away with the entry.
class FakeConfigfs final : public TsmFileOps {
 public:
  explicit FakeConfigfs(KernelBehaviour* k) : k_(k), real_(NewPosixTsmFileOps()) {}

  Status MakeDir(const std::string& path) override {
    Status s = real_->MakeDir(path);
    if (!s.ok()) return s;
    ++made;
    generation_ = 0;
    privlevel_ = 0;
    WriteRaw(fs::path(path) / "provider", AsBytes(k_->provider));
    WriteRaw(fs::path(path) / "inblob", {});
    WriteRaw(fs::path(path) / "privlevel", {});
    if (!k_->drop_generation) WriteGeneration(path);
    return s;
  }
  Status RemoveDir(const std::string& path) override {
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(path, ec)) fs::remove(f.path(), ec);
    Status s = real_->RemoveDir(path);
    if (s.ok()) ++removed;
    return s;
  }
  Status WriteFile(const std::string& path, ByteView data) override {
    Status s = real_->WriteFile(path, data);
    if (!s.ok()) return s;
    const fs::path p(path);
    ++generation_;
    if (p.filename() == "privlevel") privlevel_ = static_cast<std::uint32_t>(std::stoul(std::string(data.begin(), data.end())));
    if (p.filename() == "inblob") {
      written_inblob = Bytes(data.begin(), data.end());
      Bytes report(k_->outblob_size, 0);
      if (report.size() >= 0x90) {
        report[0] = 2;
        report[0x30] = static_cast<std::uint8_t>(privlevel_);
        std::copy(data.begin(), data.end(), report.begin() + 0x50);
        if (k_->corrupt_report_data) report[0x60] ^= 1;
      }
      WriteRaw(p.parent_path() / "outblob", report);
      if (k_->write_auxblob) WriteRaw(p.parent_path() / "auxblob", k_->auxblob);
      generation_ += k_->extra_generation_bumps;
    }
    if (!k_->drop_generation) WriteGeneration(p.parent_path().string());
    return s;
  }
  Result<Bytes> ReadFile(const std::string& path, std::size_t max_size) override {
    return real_->ReadFile(path, max_size);
  }
  bool IsDirectory(const std::string& path) override { return real_->IsDirectory(path); }

  int made = 0;
  int removed = 0;
  Bytes written_inblob;

 private:
  void WriteGeneration(const std::string& dir) {
    WriteRaw(fs::path(dir) / "generation", AsBytes(std::to_string(generation_) + "\n"));
  }

  KernelBehaviour* k_;
  std::unique_ptr<TsmFileOps> real_;
  unsigned generation_ = 0;
  std::uint32_t privlevel_ = 0;
};

class ConfigfsTsmProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("perimeter-tsm-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    CertTableEntry vcek;
    vcek.guid = GuidFromString(kGuidVcek).value();
    vcek.data = Bytes(500, 0x42);
    kernel_.auxblob = BuildCertTable({vcek});
  }
  void TearDown() override { fs::remove_all(root_); }

  // The provider plus a pointer to its fake file system.
  std::unique_ptr<ConfigfsTsmProvider> Make(std::string entry_name = "") {
    auto fake = std::make_unique<FakeConfigfs>(&kernel_);
    fake_ = fake.get();
    ConfigfsTsmProvider::Options o;
    o.root = root_.string();
    o.entry_name = std::move(entry_name);
    return std::make_unique<ConfigfsTsmProvider>(o, std::move(fake));
  }

  bool RootIsEmpty() const { return fs::is_empty(root_); }

  static Bytes ReportData() {
    Bytes d(64);
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(0xC0 + i);
    return d;
  }

  fs::path root_;
  KernelBehaviour kernel_;
  FakeConfigfs* fake_ = nullptr;
};

TEST_F(ConfigfsTsmProviderTest, ReportDataRoundTripsAndCertsAreParsed) {
  auto p = Make();
  Result<RawEvidence> ev = p->GetEvidence(ReportData());
  ASSERT_THAT(ev, IsOk());
  EXPECT_EQ(ev->provider, "configfs-tsm");
  ASSERT_EQ(ev->report.size(), kReportSize);
  EXPECT_EQ(Bytes(ev->report.begin() + 0x50, ev->report.begin() + 0x90), ReportData());
  EXPECT_EQ(fake_->written_inblob, ReportData());
  ASSERT_EQ(ev->certs.size(), 1u);
  EXPECT_EQ(GuidToString(ev->certs[0].guid), kGuidVcek);
  EXPECT_EQ(ev->certs[0].data, Bytes(500, 0x42));
  EXPECT_EQ(fake_->made, 1);
  EXPECT_EQ(fake_->removed, 1);
  EXPECT_TRUE(RootIsEmpty());
}

TEST_F(ConfigfsTsmProviderTest, WritesPrivlevelForNonZeroVmpl) {
  auto p = Make("fixed-entry");
  Result<RawEvidence> ev = p->GetEvidence(ReportData(), 2);
  ASSERT_THAT(ev, IsOk());
  EXPECT_EQ(ev->report[0x30], 2);
  EXPECT_TRUE(RootIsEmpty());
  EXPECT_THAT(p->GetEvidence(ReportData(), 4), StatusIs(StatusCode::kInvalidArgument, "snp.provider_bad_vmpl"));
}

TEST_F(ConfigfsTsmProviderTest, PaddedAuxBlobAndAbsentOrEmptyAuxBlob) {
  kernel_.auxblob.resize(4096, 0);
  auto p = Make();
  Result<RawEvidence> ev = p->GetEvidence(ReportData());
  ASSERT_THAT(ev, IsOk());
  EXPECT_EQ(ev->certs.size(), 1u);

  kernel_.auxblob.clear();
  ev = p->GetEvidence(ReportData());
  ASSERT_THAT(ev, IsOk());
  EXPECT_TRUE(ev->certs.empty());

  kernel_.write_auxblob = false;
  ev = p->GetEvidence(ReportData());
  ASSERT_THAT(ev, IsOk());
  EXPECT_TRUE(ev->certs.empty());
  EXPECT_TRUE(RootIsEmpty());
}

TEST_F(ConfigfsTsmProviderTest, MissingRootIsUnavailable) {
  ConfigfsTsmProvider::Options o;
  o.root = (root_ / "no-such-dir").string();
  ConfigfsTsmProvider p(o);  // the real POSIX file operations
  EXPECT_THAT(p.GetEvidence(ReportData()), StatusIs(StatusCode::kUnavailable, "snp.provider_unavailable"));
}

TEST_F(ConfigfsTsmProviderTest, RealFileOpsWithoutAKernelAreUnavailable) {
  // A plain directory: mkdir works, but no attributes appear.
  ConfigfsTsmProvider::Options o;
  o.root = root_.string();
  ConfigfsTsmProvider p(o);
  EXPECT_THAT(p.GetEvidence(ReportData()), StatusIs(StatusCode::kUnavailable, "snp.provider_unavailable"));
  EXPECT_TRUE(RootIsEmpty());
}

TEST_F(ConfigfsTsmProviderTest, RejectsBadReportDataBeforeTouchingTheTree) {
  auto p = Make();
  EXPECT_THAT(p->GetEvidence(Bytes(63, 1)), StatusIs(StatusCode::kInvalidArgument, "snp.provider_bad_report_data"));
  EXPECT_THAT(p->GetEvidence(Bytes(65, 1)), StatusIs(StatusCode::kInvalidArgument, "snp.provider_bad_report_data"));
  EXPECT_THAT(p->GetEvidence({}), StatusIs(StatusCode::kInvalidArgument, "snp.provider_bad_report_data"));
  EXPECT_EQ(fake_->made, 0);
}

TEST_F(ConfigfsTsmProviderTest, WrongProvider) {
  kernel_.provider = "tdx_guest\n";
  auto p = Make();
  EXPECT_THAT(p->GetEvidence(ReportData()), StatusIs(StatusCode::kFailedPrecondition, "snp.provider_wrong_tsm"));
  EXPECT_EQ(fake_->removed, 1);
  EXPECT_TRUE(RootIsEmpty());
  EXPECT_TRUE(fake_->written_inblob.empty());
}

TEST_F(ConfigfsTsmProviderTest, GenerationChangedByAConcurrentWriter) {
  kernel_.extra_generation_bumps = 1;
  auto p = Make();
  EXPECT_THAT(p->GetEvidence(ReportData()),
              StatusIs(StatusCode::kUnavailable, "snp.provider_generation_changed"));
  EXPECT_EQ(fake_->removed, 1);
  EXPECT_TRUE(RootIsEmpty());
}

TEST_F(ConfigfsTsmProviderTest, MissingGenerationIsUnavailable) {
  kernel_.drop_generation = true;
  auto p = Make();
  EXPECT_THAT(p->GetEvidence(ReportData()), StatusIs(StatusCode::kUnavailable, "snp.provider_unavailable"));
  EXPECT_TRUE(RootIsEmpty());
}

TEST_F(ConfigfsTsmProviderTest, TruncatedAndOversizedOutblob) {
  auto p = Make();
  for (std::size_t size : {std::size_t{0}, std::size_t{100}, kReportSize - 1, kReportSize + 1, std::size_t{4096}}) {
    kernel_.outblob_size = size;
    EXPECT_THAT(p->GetEvidence(ReportData()), StatusIs(StatusCode::kDataLoss, "snp.provider_bad_report_size"))
        << size;
  }
  EXPECT_EQ(fake_->removed, fake_->made);
  EXPECT_TRUE(RootIsEmpty());
}

TEST_F(ConfigfsTsmProviderTest, ReportNotBoundToOurReportData) {
  kernel_.corrupt_report_data = true;
  auto p = Make();
  EXPECT_THAT(p->GetEvidence(ReportData()), StatusIs(StatusCode::kDataLoss, "snp.provider_report_mismatch"));
  EXPECT_TRUE(RootIsEmpty());
}

TEST_F(ConfigfsTsmProviderTest, MalformedAuxBlob) {
  kernel_.auxblob.resize(kernel_.auxblob.size() - 1);  // last blob cut short
  auto p = Make();
  EXPECT_THAT(p->GetEvidence(ReportData()), StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_truncated"));
  kernel_.auxblob = Bytes(10, 0xFF);
  EXPECT_THAT(p->GetEvidence(ReportData()), StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_unterminated"));
  kernel_.auxblob = Bytes(kMaxAuxBlobSize + 1, 0);
  EXPECT_THAT(p->GetEvidence(ReportData()),
              StatusIs(StatusCode::kResourceExhausted, "snp.provider_blob_too_large"));
  EXPECT_EQ(fake_->removed, 3);
  EXPECT_TRUE(RootIsEmpty());
}

TEST_F(ConfigfsTsmProviderTest, FixedEntryNameThatExistsFails) {
  fs::create_directory(root_ / "taken");
  auto p = Make("taken");
  EXPECT_THAT(p->GetEvidence(ReportData()), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_EQ(fake_->removed, 0);  // not ours: left alone
  EXPECT_TRUE(fs::exists(root_ / "taken"));
}

TEST(PosixTsmFileOps, ReadsAreBounded) {
  auto ops = NewPosixTsmFileOps();
  const fs::path p = fs::temp_directory_path() / ("perimeter-tsm-read-" + std::to_string(::getpid()));
  WriteRaw(p, Bytes(100, 7));
  Result<Bytes> r = ops->ReadFile(p.string(), 100);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->size(), 100u);
  EXPECT_THAT(ops->ReadFile(p.string(), 99), StatusIs(StatusCode::kResourceExhausted, "snp.provider_blob_too_large"));
  EXPECT_THAT(ops->ReadFile(p.string() + ".missing", 99), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(ReadRaw(p), Bytes(100, 7));
  fs::remove(p);
}

}  // namespace
}  // namespace perimeter::attest::snp
