#include "perimeter/attest/snp/kds.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "tests/testing/matchers.h"

namespace perimeter::attest::snp {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

Bytes ChipId(std::uint8_t fill, std::size_t nonzero = 64) {
  Bytes id(64, 0);
  for (std::size_t i = 0; i < nonzero; ++i) id[i] = static_cast<std::uint8_t>(fill + i);
  return id;
}

TEST(Kds, VcekUrlMilanGenoa) {
  TcbVersion tcb{0, 3, 0, 8, 115};
  Result<KdsResource> r = VcekResource(Product::kMilan, ChipId(1), tcb);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->url, "https://kdsintf.amd.com/vcek/v1/Milan/" + HexEncode(ChipId(1)) +
                        "?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115");
  EXPECT_EQ(r->cache_path, "vcek/v1/Milan/" + HexEncode(ChipId(1)) + "/bl3-tee0-snp8-ucode115.der");
  EXPECT_EQ(VcekResource(Product::kGenoa, ChipId(1), tcb)->url.find("/vcek/v1/Genoa/"), 23u);
}

TEST(Kds, VcekUrlTurinUsesEightByteHwidAndFmc) {
  TcbVersion tcb{1, 1, 1, 4, 82};
  Result<KdsResource> r = VcekResource(Product::kTurin, ChipId(0x10, 8), tcb);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->url,
            "https://kdsintf.amd.com/vcek/v1/Turin/1011121314151617"
            "?fmcSPL=01&blSPL=01&teeSPL=01&snpSPL=04&ucodeSPL=82");
  // Non-zero bytes past the 8-byte hwID are not a Turin CHIP_ID.
  EXPECT_THAT(VcekResource(Product::kTurin, ChipId(0x10, 9), tcb),
              StatusIs(StatusCode::kInvalidArgument, "snp.kds_bad_chip_id"));
}

TEST(Kds, RejectsUnknownProductAndBadChipIds) {
  TcbVersion tcb;
  EXPECT_THAT(VcekResource(Product::kUnknown, ChipId(1), tcb),
              StatusIs(StatusCode::kInvalidArgument, "snp.kds_unknown_product"));
  EXPECT_THAT(VcekResource(Product::kMilan, Bytes(63, 1), tcb),
              StatusIs(StatusCode::kInvalidArgument, "snp.kds_bad_chip_id"));
  EXPECT_THAT(VcekResource(Product::kMilan, Bytes(64, 0), tcb),
              StatusIs(StatusCode::kInvalidArgument, "snp.kds_bad_chip_id"));
  EXPECT_THAT(CertChainResource(Product::kUnknown, KdsKeyKind::kVcek),
              StatusIs(StatusCode::kInvalidArgument, "snp.kds_unknown_product"));
}

TEST(Kds, ChainAndCrlUrls) {
  EXPECT_EQ(CertChainResource(Product::kMilan, KdsKeyKind::kVcek)->url,
            "https://kdsintf.amd.com/vcek/v1/Milan/cert_chain");
  EXPECT_EQ(CertChainResource(Product::kGenoa, KdsKeyKind::kVlek)->url,
            "https://kdsintf.amd.com/vlek/v1/Genoa/cert_chain");
  EXPECT_EQ(CrlResource(Product::kTurin, KdsKeyKind::kVcek)->url, "https://kdsintf.amd.com/vcek/v1/Turin/crl");
  EXPECT_EQ(CrlResource(Product::kTurin, KdsKeyKind::kVcek)->cache_path, "vcek/v1/Turin/crl.der");
}

// A fetcher that serves from a map and counts calls; no network.
class FakeFetcher : public KdsFetcher {
 public:
  std::map<std::string, Bytes> bodies;
  int calls = 0;
  Result<Bytes> Fetch(const std::string& url) override {
    ++calls;
    auto it = bodies.find(url);
    if (it == bodies.end()) return UnavailableError("snp.kds_fetch_failed", "404");
    return it->second;
  }
};

std::string TempDir() {
  auto dir = std::filesystem::temp_directory_path() /
             ("perimeter-kds-" + std::to_string(::getpid()) + "-" +
              std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  return dir.string();
}

TEST(KdsCache, OfflineMissIsNotFound) {
  KdsCache cache(TempDir(), nullptr);
  auto r = CrlResource(Product::kMilan, KdsKeyKind::kVcek).value();
  EXPECT_THAT(cache.Get(r), StatusIs(StatusCode::kNotFound, "snp.kds_not_cached"));
}

TEST(KdsCache, ServesCachedFilesWithoutFetching) {
  std::string dir = TempDir();
  auto r = CrlResource(Product::kMilan, KdsKeyKind::kVcek).value();
  std::filesystem::create_directories(std::filesystem::path(dir) / "vcek/v1/Milan");
  std::ofstream(std::filesystem::path(dir) / r.cache_path, std::ios::binary) << "crl-bytes";
  FakeFetcher fetcher;
  KdsCache cache(dir, &fetcher);
  EXPECT_EQ(cache.Get(r).value(), ToBytes("crl-bytes"));
  EXPECT_EQ(fetcher.calls, 0);
  std::filesystem::remove_all(dir);
}

TEST(KdsCache, FetchesOnceAndStores) {
  std::string dir = TempDir();
  auto r = VcekResource(Product::kGenoa, ChipId(7), TcbVersion{0, 10, 0, 23, 84}).value();
  FakeFetcher fetcher;
  fetcher.bodies[r.url] = ToBytes("vcek-der");
  KdsCache cache(dir, &fetcher);
  EXPECT_EQ(cache.Get(r).value(), ToBytes("vcek-der"));
  EXPECT_EQ(cache.Get(r).value(), ToBytes("vcek-der"));
  EXPECT_EQ(fetcher.calls, 1);
  EXPECT_TRUE(std::filesystem::exists(cache.PathOf(r)));
  // A failed fetch is reported and stores nothing.
  auto missing = CrlResource(Product::kGenoa, KdsKeyKind::kVlek).value();
  EXPECT_THAT(cache.Get(missing), StatusIs(StatusCode::kUnavailable, "snp.kds_fetch_failed"));
  EXPECT_FALSE(std::filesystem::exists(cache.PathOf(missing)));
  std::filesystem::remove_all(dir);
}

TEST(KdsCache, RefusesPathsOutsideTheCache) {
  KdsCache cache(TempDir(), nullptr);
  EXPECT_THAT(cache.Get({"https://x", "../etc/passwd"}),
              StatusIs(StatusCode::kInvalidArgument, "snp.kds_bad_cache_path"));
  EXPECT_THAT(cache.Get({"https://x", "/etc/passwd"}),
              StatusIs(StatusCode::kInvalidArgument, "snp.kds_bad_cache_path"));
  EXPECT_THAT(cache.Get({"https://x", "a?b"}),
              StatusIs(StatusCode::kInvalidArgument, "snp.kds_bad_cache_path"));
}

// The libcurl fetcher, without leaving the machine: a closed port on the
// loopback address, and a plain-HTTP URL (only HTTPS is allowed).
TEST(KdsCurlFetcher, FailuresAreReportedNotThrown) {
  std::unique_ptr<KdsFetcher> fetcher = NewCurlFetcher();
  EXPECT_THAT(fetcher->Fetch("https://127.0.0.1:1/vcek/v1/Milan/cert_chain"),
              StatusIs(StatusCode::kUnavailable, "snp.kds_fetch_failed"));
  EXPECT_THAT(fetcher->Fetch("http://127.0.0.1:1/vcek/v1/Milan/cert_chain"),
              StatusIs(StatusCode::kUnavailable, "snp.kds_fetch_failed"));
}

}  // namespace
}  // namespace perimeter::attest::snp
