#include "perimeter/attest/snp/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "perimeter/attest/snp/report_format.h"
#include "perimeter/attest/snp/tcb.h"
#include "perimeter/crypto/hash.h"
#include "tests/testing/matchers.h"

namespace perimeter::attest::snp {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;
using json = nlohmann::json;

const std::string kSnpDir = std::string(PERIMETER_TESTDATA_DIR) + "/snp/";

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Reads a report file; ".hex" files hold the report as hex text.
Bytes ReadReport(const std::string& relative) {
  std::string text = ReadText(kSnpDir + relative);
  if (relative.ends_with(".hex")) {
    std::string hex;
    for (char c : text) {
      if (!std::isspace(static_cast<unsigned char>(c))) hex += c;
    }
    Result<Bytes> b = HexDecode(hex);
    EXPECT_TRUE(b.has_value()) << relative;
    return b.has_value() ? *b : Bytes{};
  }
  return ToBytes(text);
}

json LoadIndex() {
  json j = json::parse(ReadText(kSnpDir + "index.json"), nullptr, false);
  EXPECT_FALSE(j.is_discarded());
  return j;
}

std::uint64_t ParseHexU64(const std::string& s) {
  return std::stoull(s.starts_with("0x") ? s.substr(2) : s, nullptr, 16);
}

template <std::size_t N>
std::string HexOf(const std::array<std::uint8_t, N>& a) {
  return HexEncode(ByteView(a.data(), a.size()));
}

// index.json gives R and S as big-endian 48-byte hex; the report stores
// them little-endian in 72-byte fields.
std::string BigEndianScalarHex(const std::array<std::uint8_t, kSignatureComponentSize>& le) {
  Bytes be(le.begin(), le.begin() + 48);
  std::reverse(be.begin(), be.end());
  return HexEncode(be);
}

// Product of a report entry: from CPUID (v3+), else from the VEK issuer
// ("SEV-Milan", "SEV-VLEK-Milan", ...).
Product EntryProduct(const json& entry, const AttestationReport& r) {
  Product p = ReportProduct(r);
  if (p != Product::kUnknown) return p;
  std::string issuer = entry.at("signing_cert_issuer");
  if (issuer.find("Milan") != std::string::npos) return Product::kMilan;
  if (issuer.find("Genoa") != std::string::npos) return Product::kGenoa;
  if (issuer.find("Turin") != std::string::npos) return Product::kTurin;
  return Product::kUnknown;
}

void ExpectTcb(const json& decoded, std::uint64_t raw, Product product) {
  TcbVersion t = DecodeTcb(raw, product);
  EXPECT_EQ(t.boot_loader, decoded.at("bl").get<int>());
  EXPECT_EQ(t.tee, decoded.at("tee").get<int>());
  EXPECT_EQ(t.snp, decoded.at("snp").get<int>());
  EXPECT_EQ(t.microcode, decoded.at("ucode").get<int>());
  EXPECT_EQ(EncodeTcb(t, product), raw) << "reserved TCB bytes are zero in real reports";
}

std::string VersionString(std::uint8_t major, std::uint8_t minor, std::uint8_t build) {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(build);
}

// Checks one field named in index.json; returns false if the name is unknown
// so that a field added to index.json cannot go unchecked.
bool CheckField(const std::string& name, const json& v, const AttestationReport& r, Product product) {
  SCOPED_TRACE(name);
  if (name == "version") EXPECT_EQ(r.version, v.get<std::uint32_t>());
  else if (name == "guest_svn") EXPECT_EQ(r.guest_svn, v.get<std::uint32_t>());
  else if (name == "policy") EXPECT_EQ(r.policy, ParseHexU64(v));
  else if (name == "family_id") EXPECT_EQ(HexOf(r.family_id), v.get<std::string>());
  else if (name == "image_id") EXPECT_EQ(HexOf(r.image_id), v.get<std::string>());
  else if (name == "vmpl") EXPECT_EQ(r.vmpl, v.get<std::uint32_t>());
  else if (name == "signature_algo") EXPECT_EQ(r.signature_algo, v.get<std::uint32_t>());
  else if (name == "platform_info") EXPECT_EQ(r.platform_info, ParseHexU64(v));
  else if (name == "key_info") EXPECT_EQ(r.key_info, ParseHexU64(v));
  else if (name == "author_key_en") EXPECT_EQ(r.author_key_en(), v.get<int>() != 0);
  else if (name == "mask_chip_key") EXPECT_EQ(r.mask_chip_key(), v.get<int>() != 0);
  else if (name == "signing_key") EXPECT_EQ(SigningKeyName(r.signing_key()), v.get<std::string>());
  else if (name == "report_data") EXPECT_EQ(HexOf(r.report_data), v.get<std::string>());
  else if (name == "measurement") EXPECT_EQ(HexOf(r.measurement), v.get<std::string>());
  else if (name == "host_data") EXPECT_EQ(HexOf(r.host_data), v.get<std::string>());
  else if (name == "id_key_digest") EXPECT_EQ(HexOf(r.id_key_digest), v.get<std::string>());
  else if (name == "author_key_digest") EXPECT_EQ(HexOf(r.author_key_digest), v.get<std::string>());
  else if (name == "report_id") EXPECT_EQ(HexOf(r.report_id), v.get<std::string>());
  else if (name == "report_id_ma") EXPECT_EQ(HexOf(r.report_id_ma), v.get<std::string>());
  else if (name == "cpuid_fam_id") EXPECT_EQ(r.cpuid_fam_id, ParseHexU64(v));
  else if (name == "cpuid_mod_id") EXPECT_EQ(r.cpuid_mod_id, ParseHexU64(v));
  else if (name == "cpuid_step") EXPECT_EQ(r.cpuid_step, ParseHexU64(v));
  else if (name == "chip_id") EXPECT_EQ(HexOf(r.chip_id), v.get<std::string>());
  else if (name == "current_tcb") EXPECT_EQ(r.current_tcb, ParseHexU64(v));
  else if (name == "reported_tcb") EXPECT_EQ(r.reported_tcb, ParseHexU64(v));
  else if (name == "committed_tcb") EXPECT_EQ(r.committed_tcb, ParseHexU64(v));
  else if (name == "launch_tcb") EXPECT_EQ(r.launch_tcb, ParseHexU64(v));
  else if (name == "current_tcb_decoded") ExpectTcb(v, r.current_tcb, product);
  else if (name == "reported_tcb_decoded") ExpectTcb(v, r.reported_tcb, product);
  else if (name == "committed_tcb_decoded") ExpectTcb(v, r.committed_tcb, product);
  else if (name == "launch_tcb_decoded") ExpectTcb(v, r.launch_tcb, product);
  else if (name == "current_version")
    EXPECT_EQ(VersionString(r.current_major, r.current_minor, r.current_build), v.get<std::string>());
  else if (name == "committed_version")
    EXPECT_EQ(VersionString(r.committed_major, r.committed_minor, r.committed_build), v.get<std::string>());
  else if (name == "launch_mit_vector") EXPECT_EQ(r.launch_mit_vector, ParseHexU64(v));
  else if (name == "current_mit_vector") EXPECT_EQ(r.current_mit_vector, ParseHexU64(v));
  else if (name == "sig_r") EXPECT_EQ(BigEndianScalarHex(r.signature_r), v.get<std::string>());
  else if (name == "sig_s") EXPECT_EQ(BigEndianScalarHex(r.signature_s), v.get<std::string>());
  else return false;
  return true;
}

// A real report to mutate in negative tests (version 3, Genoa).
Bytes BaseReport() { return ReadReport("reports/genoa-v3-azure-trustee/report.bin"); }

void Put32(Bytes& b, std::size_t off, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

TEST(SnpReport, EveryIndexedReportParsesWithEveryListedField) {
  json index = LoadIndex();
  ASSERT_TRUE(index.contains("reports"));
  std::size_t checked = 0;
  for (const json& entry : index.at("reports")) {
    const std::string file = entry.at("report_file");
    SCOPED_TRACE(file);
    Bytes bytes = ReadReport(file);
    Result<Bytes> digest = crypto::Hash(crypto::HashAlg::kSha256, bytes);
    ASSERT_TRUE(digest.has_value());
    EXPECT_EQ(HexEncode(*digest), entry.at("report_sha256").get<std::string>());

    Result<AttestationReport> r = ParseReport(bytes);
    ASSERT_THAT(r, IsOk());
    Product product = EntryProduct(entry, *r);
    ASSERT_NE(product, Product::kUnknown);
    std::string listed = entry.at("product");
    if (listed.starts_with("unknown")) {
      EXPECT_EQ(ReportProduct(*r), Product::kUnknown);
      EXPECT_FALSE(r->HasCpuid());
    } else {
      EXPECT_EQ(ProductName(ReportProduct(*r)), listed);
    }
    for (const auto& [name, value] : entry.at("fields").items()) {
      EXPECT_TRUE(CheckField(name, value, *r, product)) << "unchecked index.json field " << name;
    }
    // Fields index.json leaves implicit.
    if (!entry.at("fields").contains("launch_mit_vector")) {
      EXPECT_EQ(r->launch_mit_vector, 0u);
      EXPECT_EQ(r->current_mit_vector, 0u);
    }
    EXPECT_TRUE(r->DecodedPolicy().reserved_must_be_one);
    // The reported TCB is the one the VEK certifies.
    const json& vek = entry.at("vek_tcb");
    TcbVersion reported = DecodeTcb(r->reported_tcb, product);
    EXPECT_EQ(reported.boot_loader, vek.at("blSPL").get<int>());
    EXPECT_EQ(reported.tee, vek.at("teeSPL").get<int>());
    EXPECT_EQ(reported.snp, vek.at("snpSPL").get<int>());
    EXPECT_EQ(reported.microcode, vek.at("ucodeSPL").get<int>());
    if (r->signing_key() == SigningKey::kVcek) {
      EXPECT_EQ(HexOf(r->chip_id), entry.at("vek_hwID").get<std::string>());
    }

    // Raw bytes, signed region, signature and the exact round trip.
    EXPECT_EQ(r->raw, bytes);
    ASSERT_EQ(r->SignedRegion().size(), kSignedRegionSize);
    EXPECT_TRUE(std::equal(r->SignedRegion().begin(), r->SignedRegion().end(), bytes.begin()));
    Bytes sig = r->AmdSignature();
    ASSERT_EQ(sig.size(), 2 * kSignatureComponentSize);
    EXPECT_TRUE(std::equal(sig.begin(), sig.end(), bytes.begin() + 0x2A0));
    EXPECT_EQ(SerializeReport(*r), bytes);
    AttestationReport without_raw = *r;
    without_raw.raw.clear();
    EXPECT_EQ(SerializeReport(without_raw), bytes);
    EXPECT_TRUE(without_raw.SignedRegion().empty());

    // Both renderings carry the measurement.
    std::string text = ReportToText(*r, product);
    EXPECT_THAT(text, ::testing::HasSubstr("measurement: " + HexOf(r->measurement)));
    json j = json::parse(ReportToJson(*r, product), nullptr, false);
    ASSERT_FALSE(j.is_discarded());
    EXPECT_EQ(j.at("measurement"), HexOf(r->measurement));
    EXPECT_EQ(j.at("version"), r->version);
    EXPECT_EQ(j.at("reported_tcb_decoded").at("snp"), reported.snp);
    ++checked;
  }
  EXPECT_EQ(checked, 12u);
}

TEST(SnpReport, HclWrapperIsNotARawReport) {
  for (const char* f : {"reports/genoa-v3-azure-trustee/hcl-report.bin",
                        "reports/milan-v2-azure-hcl-trustee/hcl-report.bin"}) {
    SCOPED_TRACE(f);
    Bytes hcl = ReadReport(f);
    EXPECT_THAT(ParseReport(hcl), StatusIs(StatusCode::kInvalidArgument, "snp.report_bad_size"));
    // The raw report sits at [32, 1216) of the wrapper (PROVENANCE.md).
    ASSERT_GE(hcl.size(), 32 + kReportSize);
    EXPECT_THAT(ParseReport(ByteView(hcl).subspan(32, kReportSize)), IsOk());
  }
}

TEST(SnpReport, RejectsEveryWrongSize) {
  Bytes base = BaseReport();
  ASSERT_EQ(base.size(), kReportSize);
  for (std::size_t n = 0; n < kReportSize; ++n) {
    EXPECT_THAT(ParseReport(ByteView(base.data(), n)),
                StatusIs(StatusCode::kInvalidArgument, "snp.report_bad_size"))
        << n;
  }
  Bytes longer = base;
  longer.push_back(0);
  EXPECT_THAT(ParseReport(longer), StatusIs(StatusCode::kInvalidArgument, "snp.report_bad_size"));
}

TEST(SnpReport, RejectsUnsupportedVersions) {
  for (std::uint32_t v : {0u, 1u, 4u, 6u, 0x100u, 0xFFFFFFFFu}) {
    Bytes b = BaseReport();
    Put32(b, 0x000, v);
    EXPECT_THAT(ParseReport(b), StatusIs(StatusCode::kInvalidArgument, "snp.report_unsupported_version"))
        << v;
  }
}

TEST(SnpReport, RejectsOtherSignatureAlgorithms) {
  for (std::uint32_t algo : {0u, 2u, 0x101u}) {
    Bytes b = BaseReport();
    Put32(b, 0x034, algo);
    EXPECT_THAT(ParseReport(b), StatusIs(StatusCode::kInvalidArgument, "snp.report_bad_signature_algo"))
        << algo;
  }
}

TEST(SnpReport, RejectsPolicyWithoutMustBeOneBit) {
  Bytes b = BaseReport();
  b[0x008 + 2] &= static_cast<std::uint8_t>(~0x02);  // policy bit 17
  EXPECT_THAT(ParseReport(b), StatusIs(StatusCode::kInvalidArgument, "snp.report_bad_policy"));
}

TEST(SnpReport, RejectsPolicyReservedBits) {
  for (int bit : {26, 31, 32, 63}) {
    Bytes b = BaseReport();
    b[0x008 + static_cast<std::size_t>(bit / 8)] |= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_THAT(ParseReport(b), StatusIs(StatusCode::kInvalidArgument, "snp.report_reserved_nonzero"))
        << bit;
  }
  // Bits 16-25 are defined and accepted.
  Bytes b = BaseReport();
  b[0x008 + 3] |= 0x03;  // bits 24, 25
  Result<AttestationReport> r = ParseReport(b);
  ASSERT_THAT(r, IsOk());
  EXPECT_TRUE(r->DecodedPolicy().ciphertext_hiding);
  EXPECT_TRUE(r->DecodedPolicy().page_swap_disable);
}

TEST(SnpReport, RejectsKeyInfoReservedBitsAndSigningKeys) {
  for (std::uint32_t v : {0x20u, 0x80000000u}) {
    Bytes b = BaseReport();
    Put32(b, 0x048, v);
    EXPECT_THAT(ParseReport(b), StatusIs(StatusCode::kInvalidArgument, "snp.report_reserved_nonzero")) << v;
  }
  for (std::uint32_t key = 2; key <= 6; ++key) {
    Bytes b = BaseReport();
    Put32(b, 0x048, key << 2);
    EXPECT_THAT(ParseReport(b), StatusIs(StatusCode::kInvalidArgument, "snp.report_bad_signing_key")) << key;
  }
  Bytes b = BaseReport();
  Put32(b, 0x048, (7u << 2) | 0x3u);
  Result<AttestationReport> r = ParseReport(b);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->signing_key(), SigningKey::kNone);
  EXPECT_TRUE(r->author_key_en());
  EXPECT_TRUE(r->mask_chip_key());
}

// Every reserved byte of every version, one at a time.
TEST(SnpReport, RejectsEveryNonzeroReservedByte) {
  struct Case {
    const char* file;
    std::uint32_t version;
  };
  for (const Case& c : {Case{"reports/milan-v2-go-sev-guest/report.bin", 2},
                        Case{"reports/genoa-v3-azure-trustee/report.bin", 3},
                        Case{"reports/genoa-v5-oak-oc/report.bin", 5}}) {
    Bytes base = ReadReport(c.file);
    ASSERT_THAT(ParseReport(base), IsOk());
    std::vector<std::pair<std::size_t, std::size_t>> ranges = {
        {0x04C, 0x050}, {c.version >= 3 ? 0x18Bu : 0x188u, 0x1A0}, {0x1EB, 0x1EC},
        {0x1EF, 0x1F0}, {c.version >= 5 ? 0x208u : 0x1F8u, 0x2A0}, {0x330, 0x4A0}};
    std::size_t count = 0;
    for (auto [lo, hi] : ranges) {
      for (std::size_t i = lo; i < hi; ++i) {
        Bytes b = base;
        b[i] = 0x01;
        EXPECT_THAT(ParseReport(b), StatusIs(StatusCode::kInvalidArgument, "snp.report_reserved_nonzero"))
            << c.file << " offset " << i;
        ++count;
      }
    }
    EXPECT_GT(count, 500u);
  }
}

TEST(SnpReport, VersionSpecificFieldsAreOnlyReadWhereDefined) {
  // Version 5 stores mitigation vectors at 0x1F8/0x200; they round-trip.
  Bytes v5 = ReadReport("reports/genoa-v5-oak-oc/report.bin");
  Result<AttestationReport> r5 = ParseReport(v5);
  ASSERT_THAT(r5, IsOk());
  EXPECT_TRUE(r5->HasMitigationVectors());
  EXPECT_EQ(r5->launch_mit_vector, 1u);
  // The same bytes claimed as version 3 hold reserved data there: rejected.
  Bytes as_v3 = v5;
  Put32(as_v3, 0x000, 3);
  EXPECT_THAT(ParseReport(as_v3), StatusIs(StatusCode::kInvalidArgument, "snp.report_reserved_nonzero"));
  // A version 3 report claimed as version 2 carries CPUID in reserved bytes.
  Bytes as_v2 = BaseReport();
  Put32(as_v2, 0x000, 2);
  EXPECT_THAT(ParseReport(as_v2), StatusIs(StatusCode::kInvalidArgument, "snp.report_reserved_nonzero"));
  // Serialization of a version 2 report never writes CPUID fields.
  Result<AttestationReport> r2 = ParseReport(ReadReport("reports/milan-v2-trustee/report.bin"));
  ASSERT_THAT(r2, IsOk());
  AttestationReport edited = *r2;
  edited.cpuid_fam_id = 0x19;
  edited.launch_mit_vector = 5;
  EXPECT_EQ(SerializeReport(edited), r2->raw);
}

TEST(SnpReport, PlatformInfoUnknownBitsAreKeptNotRejected) {
  Bytes b = BaseReport();
  b[0x040] |= 0xC0;  // bit 6 (reserved) and bit 7 (TIO_EN)
  b[0x041] |= 0x01;  // bit 8 (reserved)
  Result<AttestationReport> r = ParseReport(b);
  ASSERT_THAT(r, IsOk());
  EXPECT_TRUE(r->DecodedPlatformInfo().tio_en);
  EXPECT_EQ(SerializeReport(*r), b);
}

TEST(SnpReport, DecodesPolicyAndPlatformInfo) {
  GuestPolicy p = DecodeGuestPolicy(0x3001F);
  EXPECT_EQ(p.abi_minor, 0x1F);
  EXPECT_EQ(p.abi_major, 0);
  EXPECT_TRUE(p.smt);
  EXPECT_TRUE(p.reserved_must_be_one);
  EXPECT_FALSE(p.debug);
  EXPECT_FALSE(p.migrate_ma);
  EXPECT_TRUE(DecodeGuestPolicy(0xB0000).debug);
  for (std::uint64_t raw : {0x3001Full, 0xB0000ull, 0x3FF0000ull | 0x1234ull, 0x20000ull}) {
    EXPECT_EQ(EncodeGuestPolicy(DecodeGuestPolicy(raw)), raw) << raw;
  }
  PlatformInfo pi = DecodePlatformInfo(0x27);
  EXPECT_TRUE(pi.smt_en);
  EXPECT_TRUE(pi.tsme_en);
  EXPECT_TRUE(pi.ecc_en);
  EXPECT_FALSE(pi.rapl_dis);
  EXPECT_FALSE(pi.ciphertext_hiding_en);
  EXPECT_TRUE(pi.alias_check_complete);
  EXPECT_FALSE(pi.tio_en);
  EXPECT_TRUE(DecodePlatformInfo(0x80).tio_en);
}

TEST(SnpReport, RenderingsOfAVersion2ReportWithoutProduct) {
  Result<AttestationReport> r = ParseReport(ReadReport("reports/milan-v2-go-sev-guest/report.bin"));
  ASSERT_THAT(r, IsOk());
  std::string text = ReportToText(*r, Product::kUnknown);
  EXPECT_THAT(text, ::testing::HasSubstr("product: unknown\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("reported_tcb: 0x4405000000000002\n"));
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("reported_tcb.snp")));
  EXPECT_THAT(text, ::testing::HasSubstr("policy.debug: true\n"));
  json j = json::parse(ReportToJson(*r, Product::kUnknown), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_TRUE(j.at("cpuid_fam_id").is_null());
  EXPECT_FALSE(j.contains("reported_tcb_decoded"));
  EXPECT_EQ(j.at("signing_key"), "VCEK");
  std::string milan = ReportToText(*r, Product::kMilan);
  EXPECT_THAT(milan, ::testing::HasSubstr("reported_tcb.snp: 5\n"));
  EXPECT_THAT(milan, ::testing::HasSubstr("reported_tcb.microcode: 68\n"));
  EXPECT_THAT(milan, ::testing::HasSubstr("current_version: 1.49.3\n"));
}

}  // namespace
}  // namespace perimeter::attest::snp
