// Tests for vek_certificate.h: every real VCEK/VLEK of tests/testdata/snp
// (expected values from index.json), the two trustee NEG fixtures, and
// certificates built by testing/cert_builder.h with one defect each.
#include "perimeter/attest/snp/vek_certificate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attest/snp/testing/cert_builder.h"
#include "perimeter/attest/snp/amd_roots.h"
#include "tests/testing/matchers.h"

namespace perimeter::attest::snp {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;
using testing::AmdVekExtensions;
using testing::CertTemplate;
using testing::DerInteger;
using testing::DerOctetString;
using testing::DerTlv;
using testing::VekSpec;
using testing::WithValue;
using testing::Without;
namespace oid = crypto::amd_oid;

std::string DataPath(std::string_view rel) {
  return std::string(PERIMETER_TESTDATA_DIR) + "/snp/" + std::string(rel);
}

std::string ReadText(std::string_view rel) {
  std::ifstream in(DataPath(rel), std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing test data " << rel;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

crypto::Certificate LoadCert(std::string_view rel) {
  const std::string text = ReadText(rel);
  if (rel.ends_with(".pem")) {  // first block is the VEK
    return crypto::Certificate::ParsePemBundle(text).value_or_die_todo().front();
  }
  return crypto::Certificate::FromDer(AsBytes(text)).value_or_die_todo();
}

nlohmann::json Index() {
  nlohmann::json j = nlohmann::json::parse(ReadText("index.json"), nullptr, false);
  EXPECT_FALSE(j.is_discarded());
  return j;
}

std::uint64_t HexU64(const std::string& hex) { return std::stoull(hex, nullptr, 16); }

Bytes ReportBytes(const std::string& dir) {
  std::ifstream bin(DataPath(dir + "/report.bin"), std::ios::binary);
  if (bin.good()) {
    return Bytes(std::istreambuf_iterator<char>(bin), std::istreambuf_iterator<char>());
  }
  std::string hex = ReadText(dir + "/report.hex");
  std::erase_if(hex, [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
  return HexDecode(hex).value_or_die_todo();
}

// ---- Real certificates ------------------------------------------------------

// Every certificate of index.json that carries AMD extensions (11 VCEKs of
// which 2 share a chip, the Turin VCEK, the VLEK, and the 2 NEG fixtures).
TEST(VekRealCertificates, EveryIndexedVekParsesWithExactValues) {
  int checked = 0;
  const nlohmann::json index = Index();
  for (const auto& c : index["certificates"]) {
    if (!c.contains("productName")) continue;  // ARK/ASK/ASVK entries
    const std::string file = c["file"];
    SCOPED_TRACE(file);
    Result<VekInfo> info = ParseVekCertificate(LoadCert(file));
    ASSERT_THAT(info, IsOk());
    ++checked;
    EXPECT_EQ(info->product_name, c["productName"].get<std::string>());
    EXPECT_EQ(info->struct_version, c["structVersion"].get<int>());
    EXPECT_EQ(info->spl.bl, c["blSPL"].get<int>());
    EXPECT_EQ(info->spl.tee, c["teeSPL"].get<int>());
    EXPECT_EQ(info->spl.snp, c["snpSPL"].get<int>());
    EXPECT_EQ(info->spl.ucode, c["ucodeSPL"].get<int>());
    EXPECT_EQ(info->spl.spl5, c["spl5"].get<int>());
    EXPECT_EQ(info->spl.spl6, c["spl6"].get<int>());
    EXPECT_EQ(info->spl.spl7, c["spl7"].get<int>());
    if (c.contains("spl4")) {
      EXPECT_EQ(info->spl.spl4, std::optional<std::uint8_t>(c["spl4"].get<int>()));
    } else {
      EXPECT_EQ(info->spl.spl4, std::nullopt);
    }
    if (c.contains("fmcSPL")) {
      EXPECT_EQ(info->spl.fmc, std::optional<std::uint8_t>(c["fmcSPL"].get<int>()));
      EXPECT_EQ(info->product, Product::kTurin);
    } else {
      EXPECT_EQ(info->spl.fmc, std::nullopt);
    }
    if (c.contains("cspID")) {
      EXPECT_EQ(info->kind, VekKind::kVlek);
      EXPECT_EQ(info->csp_id, c["cspID"].get<std::string>());
      EXPECT_EQ(info->hw_id, std::nullopt);
    } else {
      EXPECT_EQ(info->kind, VekKind::kVcek);
      EXPECT_EQ(info->csp_id, std::nullopt);
      ASSERT_TRUE(info->hw_id.has_value());
      std::string want = c["hwID"];
      // NEG-vcek-invalid-new wraps hwID as OCTET STRING (04 40 ..); index.json
      // shows the raw extnValue, the parser returns the 64 wrapped bytes.
      if (want.size() == 2 * 66 && want.starts_with("0440")) want = want.substr(4);
      EXPECT_EQ(HexEncode(*info->hw_id), want);
    }
    EXPECT_EQ(info->cert, LoadCert(file));
    EXPECT_THAT(VekPublicKey(*info), IsOk());
  }
  EXPECT_EQ(checked, 15);
}

TEST(VekRealCertificates, ProductsAndKinds) {
  struct Case {
    const char* file;
    Product product;
    VekKind kind;
    std::size_t hw_id_size;
  };
  const Case cases[] = {
      {"reports/genoa-v3-azure-trustee/vcek.pem", Product::kGenoa, VekKind::kVcek, 64},
      {"reports/genoa-v5-oak-oc/vcek.der", Product::kGenoa, VekKind::kVcek, 64},
      {"reports/milan-v2-go-sev-guest/vcek.der", Product::kMilan, VekKind::kVcek, 64},
      {"reports/milan-v3-vlek-aws-trustee/vlek.der", Product::kMilan, VekKind::kVlek, 0},
      {"certs-only/turin-vcek-virtee-sev/vcek.der", Product::kTurin, VekKind::kVcek, 8},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    Result<VekInfo> info = ParseVekCertificate(LoadCert(c.file));
    ASSERT_THAT(info, IsOk());
    EXPECT_EQ(info->product, c.product);
    EXPECT_EQ(info->kind, c.kind);
    EXPECT_EQ(info->hw_id.has_value() ? info->hw_id->size() : 0u, c.hw_id_size);
  }
}

TEST(VekRealCertificates, TurinTcbLayout) {
  Result<VekInfo> info = ParseVekCertificate(LoadCert("certs-only/turin-vcek-virtee-sev/vcek.der"));
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->product_name, "Turin");
  EXPECT_EQ(info->struct_version, 1);
  EXPECT_EQ(HexEncode(*info->hw_id), "1e550a8ee5cf9f4d");
  // ucode 9 in byte 7, everything else 0 (fmc byte 0).
  EXPECT_EQ(info->reported_tcb_raw, 0x0900000000000000ull);
  EXPECT_EQ(DecodeTcb(info->reported_tcb_raw, Product::kTurin).microcode, 9);
}

// The VEK's packed TCB equals the report's REPORTED_TCB, its hwID equals
// CHIP_ID, and its key verifies the report signature, for all 12 reports.
TEST(VekRealCertificates, MatchesAndVerifiesItsReport) {
  int checked = 0;
  const nlohmann::json index = Index();
  for (const auto& r : index["reports"]) {
    const std::string dir = r["dir"];
    SCOPED_TRACE(dir);
    Result<VekInfo> info = ParseVekCertificate(LoadCert(r["verified_by_certs"][0].get<std::string>()));
    ASSERT_THAT(info, IsOk());
    const auto& f = r["fields"];
    EXPECT_EQ(info->reported_tcb_raw, HexU64(f["reported_tcb"]));
    EXPECT_EQ(VekKindName(info->kind), f["signing_key"].get<std::string>());
    EXPECT_EQ(info->product_name, r["vek_productName"].get<std::string>());
    if (info->kind == VekKind::kVcek) {
      EXPECT_EQ(HexEncode(*info->hw_id), f["chip_id"].get<std::string>());
    } else {
      EXPECT_EQ(info->csp_id, r["vek_cspID"].get<std::string>());
    }
    const Bytes report = ReportBytes(dir);
    ASSERT_EQ(report.size(), 0x4A0u);
    Result<crypto::EcdsaPublicKey> key = VekPublicKey(*info);
    ASSERT_THAT(key, IsOk());
    EXPECT_THAT(key->Verify(ByteView(report).first(0x2A0), ByteView(report).subspan(0x2A0, 144),
                            crypto::EcdsaSignatureFormat::kAmdLittleEndian),
                IsOk());
    Bytes flipped = report;
    flipped[0x50] ^= 1;  // REPORT_DATA
    EXPECT_THAT(key->Verify(ByteView(flipped).first(0x2A0), ByteView(flipped).subspan(0x2A0, 144),
                            crypto::EcdsaSignatureFormat::kAmdLittleEndian),
                StatusIs(StatusCode::kUnauthenticated, "crypto.signature_invalid"));
    ++checked;
  }
  EXPECT_EQ(checked, 12);
}

// Every real VEK chains to the embedded ARK of its own product, through the
// embedded ASK (VCEK) or ASVK (VLEK), at a time inside its validity.
TEST(VekRealCertificates, ChainsToEmbeddedRootOfItsProduct) {
  const char* files[] = {
      "reports/genoa-v3-azure-trustee/vcek.pem",   "reports/genoa-v5-oak-oc/vcek.der",
      "reports/milan-v2-azure-hcl-trustee/vcek_ask_ark.pem",
      "reports/milan-v2-go-sev-guest/vcek.der",    "reports/milan-v2-trustee/vcek.der",
      "reports/milan-v2-virtee-sev/vcek.der",      "reports/milan-v3-oak-cb/vcek.der",
      "reports/milan-v3-oak-oc-release/vcek.der",  "reports/milan-v3-oak-rk-release/vcek.der",
      "reports/milan-v3-vlek-aws-trustee/vlek.der", "certs-only/turin-vcek-virtee-sev/vcek.der",
  };
  for (const char* file : files) {
    SCOPED_TRACE(file);
    Result<VekInfo> info = ParseVekCertificate(LoadCert(file));
    ASSERT_THAT(info, IsOk());
    const AmdRootSet& roots = AmdRoots(info->product);
    std::vector<crypto::Certificate> inter;
    for (const AmdRootSet& set : AllAmdRoots()) {
      inter.push_back(set.ask);
      inter.push_back(set.asvk);
    }
    crypto::ChainVerifyOptions o;
    o.at_unix_seconds = info->cert.NotBefore() + 86400;
    Result<crypto::Certificate> anchor = crypto::VerifyChain(info->cert, inter, AmdArks(), o);
    ASSERT_THAT(anchor, IsOk());
    EXPECT_EQ(*anchor, roots.ark);
    Product from_ark = Product::kUnknown;
    EXPECT_TRUE(IsPinnedAmdArk(*anchor, &from_ark));
    EXPECT_EQ(from_ark, info->product);
    EXPECT_EQ(IssuerCommonName(info->cert),
              info->kind == VekKind::kVcek ? AskCommonName(info->product)
                                           : AsvkCommonName(info->product));
  }
}

// index.json: the NEG fixtures only fail the ASK signature. Their extensions
// are well-formed (legacy: raw hwID; new: OCTET STRING-wrapped hwID), so
// parsing succeeds; the chain check is what rejects them.
TEST(VekRealCertificates, TrusteeNegFixturesParseButFailTheChain) {
  for (const char* file : {"reports/milan-v2-trustee/NEG-vcek-invalid-legacy.der",
                           "reports/milan-v2-trustee/NEG-vcek-invalid-new.der"}) {
    SCOPED_TRACE(file);
    Result<VekInfo> info = ParseVekCertificate(LoadCert(file));
    ASSERT_THAT(info, IsOk());
    Bytes pattern(64);
    for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<std::uint8_t>(i);
    EXPECT_EQ(info->hw_id, pattern);
    EXPECT_THAT(info->cert.VerifySignedBy(AmdRoots(Product::kMilan).ask),
                StatusIs(StatusCode::kUnauthenticated, "crypto.signature_invalid"));
    crypto::ChainVerifyOptions o;
    o.at_unix_seconds = info->cert.NotBefore() + 86400;
    const crypto::Certificate inter[] = {AmdRoots(Product::kMilan).ask};
    EXPECT_THAT(crypto::VerifyChain(info->cert, inter, AmdArks(), o),
                StatusIs(StatusCode::kUnauthenticated, "crypto.signature_invalid"));
  }
}

// ---- Built certificates: one defect each -----------------------------------

class VekBuilt : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    issuer_ = new crypto::EcdsaPrivateKey(
        crypto::EcdsaPrivateKey::Generate(crypto::EcCurve::kP384).value_or_die_todo());
    vek_key_ = new crypto::EcdsaPrivateKey(
        crypto::EcdsaPrivateKey::Generate(crypto::EcCurve::kP384).value_or_die_todo());
  }
  static void TearDownTestSuite() {
    delete issuer_;
    delete vek_key_;
    issuer_ = nullptr;
    vek_key_ = nullptr;
  }

  static CertTemplate Template(std::vector<testing::Extension> exts, bool vlek = false) {
    CertTemplate t;
    t.subject_cn = vlek ? "SEV-VLEK" : "SEV-VCEK";
    t.issuer_cn = vlek ? "SEV-VLEK-Milan" : "SEV-Milan";
    t.subject_spki_der = vek_key_->public_key().ToSpkiDer().value_or_die_todo();
    t.extensions = std::move(exts);
    return t;
  }
  static Result<crypto::Certificate> Build(const CertTemplate& t) {
    PERIMETER_ASSIGN_OR_RETURN(Bytes der, testing::SignEcdsa(t, *issuer_));
    return crypto::Certificate::FromDer(der);
  }
  static Result<VekInfo> Parse(std::vector<testing::Extension> exts, bool vlek = false) {
    PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate cert, Build(Template(std::move(exts), vlek)));
    return ParseVekCertificate(cert);
  }

  static crypto::EcdsaPrivateKey* issuer_;
  static crypto::EcdsaPrivateKey* vek_key_;
};
crypto::EcdsaPrivateKey* VekBuilt::issuer_ = nullptr;
crypto::EcdsaPrivateKey* VekBuilt::vek_key_ = nullptr;

VekSpec Turin() {
  VekSpec s;
  s.product = Product::kTurin;
  s.product_name = "Turin";
  s.hw_id = Bytes(8, 0x11);
  s.fmc = 3;
  s.bl = 1;
  s.tee = 2;
  s.snp = 4;
  s.ucode = 5;
  return s;
}

VekSpec Vlek() {
  VekSpec s;
  s.vlek = true;
  s.product_name = "Milan";
  return s;
}

// The positive controls: without a defect, each builder profile parses.
TEST_F(VekBuilt, ControlsParse) {
  Result<VekInfo> milan = Parse(AmdVekExtensions({}));
  ASSERT_THAT(milan, IsOk());
  EXPECT_EQ(milan->kind, VekKind::kVcek);
  EXPECT_EQ(milan->product, Product::kMilan);
  EXPECT_EQ(milan->hw_id, Bytes(64, 0xA5));
  EXPECT_EQ(milan->reported_tcb_raw, 0xDB18000000000004ull);  // as in milan-v3-oak-cb

  Result<VekInfo> turin = Parse(AmdVekExtensions(Turin()));
  ASSERT_THAT(turin, IsOk());
  EXPECT_EQ(turin->product, Product::kTurin);
  EXPECT_EQ(turin->hw_id, Bytes(8, 0x11));
  EXPECT_EQ(turin->reported_tcb_raw, 0x0500000004020103ull);
  const TcbVersion tcb = DecodeTcb(turin->reported_tcb_raw, Product::kTurin);
  EXPECT_EQ(tcb, (TcbVersion{.fmc = 3, .boot_loader = 1, .tee = 2, .snp = 4, .microcode = 5}));

  Result<VekInfo> vlek = Parse(AmdVekExtensions(Vlek()), /*vlek=*/true);
  ASSERT_THAT(vlek, IsOk());
  EXPECT_EQ(vlek->kind, VekKind::kVlek);
  EXPECT_EQ(vlek->csp_id, "CN=csp.example");
  EXPECT_EQ(vlek->product_name, "Milan");
}

TEST_F(VekBuilt, KindNeedsExactlyOneOfHwIdAndCspId) {
  EXPECT_THAT(Parse(Without(AmdVekExtensions({}), oid::kHwId)),
              StatusIs(StatusCode::kInvalidArgument, kVekUnknownKind));
  EXPECT_THAT(Parse(WithValue(AmdVekExtensions({}), oid::kCspId, testing::DerIA5String("x"))),
              StatusIs(StatusCode::kInvalidArgument, kVekUnknownKind));
}

TEST_F(VekBuilt, SubjectCnMustMatchKind) {
  CertTemplate t = Template(AmdVekExtensions({}));
  t.subject_cn = "SEV-VLEK";  // hwID says VCEK
  EXPECT_THAT(ParseVekCertificate(Build(t).value_or_die_todo()),
              StatusIs(StatusCode::kInvalidArgument, kVekUnknownKind));
  CertTemplate v = Template(AmdVekExtensions(Vlek()), true);
  v.subject_cn = "SEV-VCEK";  // cspID says VLEK
  EXPECT_THAT(ParseVekCertificate(Build(v).value_or_die_todo()),
              StatusIs(StatusCode::kInvalidArgument, kVekUnknownKind));
}

TEST_F(VekBuilt, EachRequiredExtensionMissing) {
  const std::string_view milan_required[] = {
      oid::kStructVersion, oid::kProductName, oid::kBlSpl, oid::kTeeSpl, oid::kSnpSpl,
      oid::kSpl4,          oid::kSpl5,        oid::kSpl6,  oid::kSpl7,   oid::kUcodeSpl};
  for (std::string_view o : milan_required) {
    SCOPED_TRACE(o);
    EXPECT_THAT(Parse(Without(AmdVekExtensions({}), o)),
                StatusIs(StatusCode::kInvalidArgument, kVekMissingExtension));
    EXPECT_THAT(Parse(Without(AmdVekExtensions(Vlek()), o), true),
                StatusIs(StatusCode::kInvalidArgument, kVekMissingExtension));
  }
  const std::string_view turin_required[] = {
      oid::kStructVersion, oid::kProductName, oid::kFmcSpl, oid::kBlSpl,   oid::kTeeSpl,
      oid::kSnpSpl,        oid::kSpl5,        oid::kSpl6,   oid::kSpl7,    oid::kUcodeSpl};
  for (std::string_view o : turin_required) {
    SCOPED_TRACE(o);
    EXPECT_THAT(Parse(Without(AmdVekExtensions(Turin()), o)),
                StatusIs(StatusCode::kInvalidArgument, kVekMissingExtension));
  }
}

TEST_F(VekBuilt, MalformedSpl) {
  const Bytes bad_values[] = {
      DerOctetString(Bytes{0x05}),  // not an INTEGER
      DerInteger(256),              // > 255
      Bytes{0x02, 0x01, 0xFF},      // negative
      Bytes{0x02, 0x02, 0x00, 0x05},  // non-minimal
      Bytes{0x02, 0x01, 0x05, 0x00},  // trailing byte
      Bytes{},                      // empty
      testing::DerIA5String("5"),
  };
  for (std::string_view o : {oid::kBlSpl, oid::kTeeSpl, oid::kSnpSpl, oid::kSpl4, oid::kSpl7,
                             oid::kUcodeSpl, oid::kStructVersion}) {
    for (const Bytes& v : bad_values) {
      SCOPED_TRACE(std::string(o) + " = " + HexEncode(v));
      EXPECT_THAT(Parse(WithValue(AmdVekExtensions({}), o, v)),
                  StatusIs(StatusCode::kInvalidArgument, kVekBadExtension));
    }
  }
  EXPECT_THAT(Parse(WithValue(AmdVekExtensions(Turin()), oid::kFmcSpl, DerInteger(300))),
              StatusIs(StatusCode::kInvalidArgument, kVekBadExtension));
  // 255 is the largest accepted value.
  Result<VekInfo> max = Parse(WithValue(AmdVekExtensions({}), oid::kUcodeSpl, DerInteger(255)));
  ASSERT_THAT(max, IsOk());
  EXPECT_EQ(max->spl.ucode, 255);
}

TEST_F(VekBuilt, SplNotDefinedForProduct) {
  EXPECT_THAT(Parse(WithValue(AmdVekExtensions({}), oid::kFmcSpl, DerInteger(0))),
              StatusIs(StatusCode::kInvalidArgument, kVekBadExtension));
  EXPECT_THAT(Parse(WithValue(AmdVekExtensions(Turin()), oid::kSpl4, DerInteger(0))),
              StatusIs(StatusCode::kInvalidArgument, kVekBadExtension));
}

TEST_F(VekBuilt, HwIdLength) {
  for (std::size_t n : {0u, 8u, 63u, 65u, 66u}) {
    SCOPED_TRACE(n);
    EXPECT_THAT(Parse(WithValue(AmdVekExtensions({}), oid::kHwId, Bytes(n, 1))),
                StatusIs(StatusCode::kInvalidArgument, kVekBadExtension));
  }
  for (std::size_t n : {0u, 7u, 9u, 10u, 64u}) {
    SCOPED_TRACE(n);
    EXPECT_THAT(Parse(WithValue(AmdVekExtensions(Turin()), oid::kHwId, Bytes(n, 1))),
                StatusIs(StatusCode::kInvalidArgument, kVekBadExtension));
  }
  // Wrapped as OCTET STRING: accepted at exactly the product's size.
  Result<VekInfo> wrapped =
      Parse(WithValue(AmdVekExtensions(Turin()), oid::kHwId, DerOctetString(Bytes(8, 7))));
  ASSERT_THAT(wrapped, IsOk());
  EXPECT_EQ(wrapped->hw_id, Bytes(8, 7));
  EXPECT_THAT(Parse(WithValue(AmdVekExtensions({}), oid::kHwId, DerOctetString(Bytes(63, 7)))),
              StatusIs(StatusCode::kInvalidArgument, kVekBadExtension));
  // The wrong tag around 64 bytes is not a wrapper.
  EXPECT_THAT(Parse(WithValue(AmdVekExtensions({}), oid::kHwId, DerTlv(0x16, Bytes(64, 0x41)))),
              StatusIs(StatusCode::kInvalidArgument, kVekBadExtension));
}

TEST_F(VekBuilt, ProductName) {
  EXPECT_THAT(Parse(WithValue(AmdVekExtensions({}), oid::kProductName,
                              testing::DerUtf8String("Milan-B0"))),
              StatusIs(StatusCode::kInvalidArgument, kVekBadExtension));
  for (const char* name : {"Venice-A0", "", "-B0", "milan-B0", "MilanB0"}) {
    SCOPED_TRACE(name);
    EXPECT_THAT(Parse(WithValue(AmdVekExtensions({}), oid::kProductName,
                                testing::DerIA5String(name))),
                StatusIs(StatusCode::kInvalidArgument, kVekBadExtension));
  }
  // A Milan profile named Turin is no longer a valid Turin certificate.
  EXPECT_THAT(Parse(WithValue(AmdVekExtensions({}), oid::kProductName,
                              testing::DerIA5String("Turin"))),
              StatusIs(StatusCode::kInvalidArgument, kVekBadExtension));
  Result<VekInfo> genoa = Parse(
      WithValue(AmdVekExtensions({}), oid::kProductName, testing::DerIA5String("Genoa-B1")));
  ASSERT_THAT(genoa, IsOk());
  EXPECT_EQ(genoa->product, Product::kGenoa);
}

TEST_F(VekBuilt, CspId) {
  EXPECT_THAT(Parse(WithValue(AmdVekExtensions(Vlek()), oid::kCspId, testing::DerIA5String("")),
                    true),
              StatusIs(StatusCode::kInvalidArgument, kVekBadExtension));
  EXPECT_THAT(Parse(WithValue(AmdVekExtensions(Vlek()), oid::kCspId,
                              testing::DerUtf8String("CN=x")),
                    true),
              StatusIs(StatusCode::kInvalidArgument, kVekBadExtension));
}

TEST_F(VekBuilt, KeyMustBeEcdsaP384) {
  CertTemplate p256 = Template(AmdVekExtensions({}));
  p256.subject_spki_der = crypto::EcdsaPrivateKey::Generate(crypto::EcCurve::kP256)
                              .value_or_die_todo()
                              .public_key()
                              .ToSpkiDer()
                              .value_or_die_todo();
  EXPECT_THAT(ParseVekCertificate(Build(p256).value_or_die_todo()),
              StatusIs(StatusCode::kInvalidArgument, kVekBadKey));
  CertTemplate rsa = Template(AmdVekExtensions({}));
  rsa.subject_spki_der = crypto::RsaPrivateKey::Generate(2048)
                             .value_or_die_todo()
                             .public_key()
                             .ToSpkiDer()
                             .value_or_die_todo();
  EXPECT_THAT(ParseVekCertificate(Build(rsa).value_or_die_todo()),
              StatusIs(StatusCode::kInvalidArgument, kVekBadKey));
}

// A repeated extension (AMD's private ones included) never reaches
// ParseVekCertificate: crypto::Certificate refuses it at parse time (RFC 5280
// section 4.2), so ExtensionValue() can never choose between two values.
TEST_F(VekBuilt, DuplicateExtensionRejected) {
  const std::string_view dup_oids[] = {oid::kSnpSpl, oid::kUcodeSpl, oid::kHwId,
                                       oid::kProductName, oid::kStructVersion};
  for (std::string_view o : dup_oids) {
    SCOPED_TRACE(o);
    std::vector<testing::Extension> exts = AmdVekExtensions({});
    for (const testing::Extension& e : AmdVekExtensions({})) {
      if (e.oid == o) exts.push_back(e);  // an identical second copy
    }
    EXPECT_THAT(Build(Template(exts)), StatusIs(StatusCode::kInvalidArgument, crypto::kX509ParseFailed));
  }
  std::vector<testing::Extension> vlek = AmdVekExtensions(Vlek());
  vlek.push_back({std::string(oid::kCspId), testing::DerIA5String("CN=other")});
  EXPECT_THAT(Build(Template(vlek, true)), StatusIs(StatusCode::kInvalidArgument, crypto::kX509ParseFailed));
}

TEST(VekKind, Names) {
  EXPECT_EQ(VekKindName(VekKind::kVcek), "VCEK");
  EXPECT_EQ(VekKindName(VekKind::kVlek), "VLEK");
}

}  // namespace
}  // namespace perimeter::attest::snp
