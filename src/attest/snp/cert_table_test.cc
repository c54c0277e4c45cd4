#include "perimeter/attest/snp/cert_table.h"

#include <gtest/gtest.h>

#include <cstring>
#include <tuple>

#include "tests/testing/matchers.h"

namespace perimeter::attest::snp {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

Guid G(std::string_view text) { return GuidFromString(text).value(); }

CertTableEntry Entry(std::string_view guid, std::size_t size, std::uint8_t fill) {
  CertTableEntry e;
  e.guid = G(guid);
  e.data.assign(size, fill);
  return e;
}

std::vector<CertTableEntry> ThreeCerts() {
  return {Entry(kGuidVcek, 100, 0x11), Entry(kGuidAsk, 200, 0x22), Entry(kGuidArk, 300, 0x33)};
}

void PutLe32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}

// A hand-made table: `n` headers (guid, offset, length), terminator, then
// `total` bytes overall, blob areas filled with 0x5A.
Bytes RawTable(const std::vector<std::tuple<Guid, std::uint32_t, std::uint32_t>>& headers, std::size_t total) {
  Bytes b(total, 0);
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const auto& [g, off, len] = headers[i];
    std::memcpy(b.data() + i * 24, g.data(), 16);
    PutLe32(b, i * 24 + 16, off);
    PutLe32(b, i * 24 + 20, len);
    for (std::uint64_t k = off; k < std::uint64_t{off} + len && k < total; ++k) b[static_cast<std::size_t>(k)] = 0x5A;
  }
  return b;
}

TEST(Guid, WireOrderIsRfc4122TextOrder) {
  Result<Guid> g = GuidFromString("63da758d-e664-4564-adc5-f4b93be8accd");
  ASSERT_THAT(g, IsOk());
  const Guid want = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                     0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
  EXPECT_EQ(*g, want);
  EXPECT_EQ(GuidToString(*g), "63da758d-e664-4564-adc5-f4b93be8accd");
}

TEST(Guid, WellKnownConstantsRoundTrip) {
  for (std::string_view s : {kGuidVcek, kGuidVlek, kGuidAsk, kGuidArk}) {
    Result<Guid> g = GuidFromString(s);
    ASSERT_THAT(g, IsOk()) << s;
    EXPECT_EQ(GuidToString(*g), s);
  }
  EXPECT_EQ(GuidToString(G("C0B406A4-A803-4952-9743-3FB6014CD0AE")), kGuidArk);
}

TEST(Guid, RejectsMalformed) {
  for (std::string_view s : {"", "63da758d-e664-4564-adc5-f4b93be8acc", "63da758d-e664-4564-adc5-f4b93be8accd0",
                             "63da758de-664-4564-adc5-f4b93be8accd", "63da758d-e664-4564-adc5-f4b93be8accg",
                             "{3da758d-e664-4564-adc5-f4b93be8accd}", "63da758d_e664_4564_adc5_f4b93be8accd",
                             "63da758d-e664-4564-adc5-f4b93be8ac-d"}) {
    EXPECT_THAT(GuidFromString(s), StatusIs(StatusCode::kInvalidArgument, "snp.bad_guid")) << s;
  }
}

TEST(CertTable, BuildParseRoundTrip) {
  const auto entries = ThreeCerts();
  Bytes table = BuildCertTable(entries);
  EXPECT_EQ(table.size(), 4 * 24 + 600u);
  Result<std::vector<CertTableEntry>> parsed = ParseCertTable(table);
  ASSERT_THAT(parsed, IsOk());
  ASSERT_EQ(parsed->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*parsed)[i].guid, entries[i].guid);
    EXPECT_EQ((*parsed)[i].data, entries[i].data);
  }
  // Offsets are from the start of the table, little-endian.
  EXPECT_EQ(table[16], 96);
  EXPECT_EQ(table[17], 0);
  EXPECT_EQ(table[20], 100);
}

TEST(CertTable, EmptyTableIsJustTheTerminator) {
  Bytes table = BuildCertTable({});
  EXPECT_EQ(table, Bytes(24, 0));
  Result<std::vector<CertTableEntry>> parsed = ParseCertTable(table);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_TRUE(parsed->empty());
  // A zero-filled page (the kernel's "no certificates") is also empty.
  parsed = ParseCertTable(Bytes(4096, 0));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_TRUE(parsed->empty());
}

TEST(CertTable, AcceptsTrailingZeroPadding) {
  Bytes table = BuildCertTable(ThreeCerts());
  table.resize(4 * 4096, 0);
  Result<std::vector<CertTableEntry>> parsed = ParseCertTable(table);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->size(), 3u);
}

TEST(CertTable, RejectsNonZeroTrailingOrGapBytes) {
  Bytes table = BuildCertTable(ThreeCerts());
  table.resize(8192, 0);
  table[8000] = 1;
  EXPECT_THAT(ParseCertTable(table), StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_trailing_data"));
  // A gap between the terminator and the first blob must be zero too.
  Bytes gap = RawTable({{G(kGuidVcek), 64, 8}}, 80);
  EXPECT_THAT(ParseCertTable(gap), IsOk());
  gap[50] = 7;
  EXPECT_THAT(ParseCertTable(gap), StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_trailing_data"));
}

TEST(CertTable, RejectsMissingTerminator) {
  EXPECT_THAT(ParseCertTable({}), StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_unterminated"));
  EXPECT_THAT(ParseCertTable(Bytes(23, 0)), StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_unterminated"));
  Bytes table = BuildCertTable(ThreeCerts());
  // Cut inside the header: no terminator left.
  for (std::size_t cut : {24u, 47u, 72u, 95u}) {
    EXPECT_THAT(ParseCertTable(ByteView(table.data(), cut)),
                StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_unterminated"))
        << cut;
  }
}

TEST(CertTable, RejectsTruncatedAtEveryLengthAfterTheHeader) {
  Bytes table = BuildCertTable(ThreeCerts());
  for (std::size_t cut = 96; cut < table.size(); ++cut) {
    EXPECT_THAT(ParseCertTable(ByteView(table.data(), cut)),
                StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_truncated"))
        << cut;
  }
}

TEST(CertTable, RejectsOffsetsAndLengthsOutsideTheBuffer) {
  // Offset + length would wrap a 32-bit sum.
  EXPECT_THAT(ParseCertTable(RawTable({{G(kGuidVcek), 0xFFFFFFF0u, 0x20}}, 64)),
              StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_truncated"));
  EXPECT_THAT(ParseCertTable(RawTable({{G(kGuidVcek), 48, 0xFFFFFFFFu}}, 64)),
              StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_truncated"));
  EXPECT_THAT(ParseCertTable(RawTable({{G(kGuidVcek), 60, 5}}, 64)),
              StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_truncated"));
  EXPECT_THAT(ParseCertTable(RawTable({{G(kGuidVcek), 60, 4}}, 64)), IsOk());
}

TEST(CertTable, RejectsBlobsInsideTheTable) {
  // Offset 0 and offsets into the header or terminator.
  for (std::uint32_t off : {0u, 10u, 24u, 47u}) {
    EXPECT_THAT(ParseCertTable(RawTable({{G(kGuidVcek), off, 4}}, 64)),
                StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_bad_entry"))
        << off;
  }
}

TEST(CertTable, RejectsZeroLengthAndNullGuidEntries) {
  EXPECT_THAT(ParseCertTable(RawTable({{G(kGuidVcek), 48, 0}}, 64)),
              StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_bad_entry"));
  EXPECT_THAT(ParseCertTable(RawTable({{Guid{}, 48, 4}}, 64)),
              StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_bad_entry"));
}

TEST(CertTable, RejectsOverlappingBlobs) {
  EXPECT_THAT(ParseCertTable(RawTable({{G(kGuidVcek), 72, 10}, {G(kGuidAsk), 81, 10}}, 100)),
              StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_overlap"));
  EXPECT_THAT(ParseCertTable(RawTable({{G(kGuidVcek), 72, 10}, {G(kGuidAsk), 72, 10}}, 100)),
              StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_overlap"));
  // One blob inside another.
  EXPECT_THAT(ParseCertTable(RawTable({{G(kGuidVcek), 72, 20}, {G(kGuidAsk), 75, 2}}, 100)),
              StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_overlap"));
  // Adjacent is fine.
  EXPECT_THAT(ParseCertTable(RawTable({{G(kGuidVcek), 72, 10}, {G(kGuidAsk), 82, 10}}, 100)), IsOk());
}

TEST(CertTable, RejectsDuplicateGuids) {
  EXPECT_THAT(ParseCertTable(RawTable({{G(kGuidVcek), 72, 10}, {G(kGuidVcek), 82, 10}}, 100)),
              StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_duplicate"));
}

TEST(CertTable, EntryLimit) {
  auto make = [](std::size_t n) {
    std::vector<CertTableEntry> entries;
    for (std::size_t i = 0; i < n; ++i) {
      CertTableEntry e;
      e.guid[0] = static_cast<std::uint8_t>(i + 1);
      e.guid[15] = static_cast<std::uint8_t>(i >> 8);
      e.data = {1, 2, 3};
      entries.push_back(std::move(e));
    }
    return BuildCertTable(entries);
  };
  EXPECT_THAT(ParseCertTable(make(kMaxCertTableEntries)), IsOk());
  EXPECT_THAT(ParseCertTable(make(kMaxCertTableEntries + 1)),
              StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_too_many_entries"));
}

TEST(CertTable, FlippingAnyHeaderBitNeverCrashesAndMostlyFails) {
  const Bytes table = BuildCertTable(ThreeCerts());
  for (std::size_t i = 0; i < 96 * 8; ++i) {
    Bytes m = table;
    m[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    Result<std::vector<CertTableEntry>> r = ParseCertTable(m);
    // A flipped GUID bit yields a different (valid) GUID; a flipped offset or
    // length bit must always be caught (blobs are packed with no slack).
    if ((i / 8) % 24 >= 16) {
      EXPECT_FALSE(r.ok()) << "bit " << i;
    }
  }
}

TEST(CertTable, FindCert) {
  const auto entries = ThreeCerts();
  Result<ByteView> ask = FindCert(entries, kGuidAsk);
  ASSERT_THAT(ask, IsOk());
  EXPECT_EQ(ask->size(), 200u);
  EXPECT_EQ((*ask)[0], 0x22);
  EXPECT_THAT(FindCert(entries, kGuidVlek), StatusIs(StatusCode::kNotFound, "snp.cert_not_found"));
  EXPECT_THAT(FindCert(entries, "not-a-guid"), StatusIs(StatusCode::kInvalidArgument, "snp.bad_guid"));
}

}  // namespace
}  // namespace perimeter::attest::snp
