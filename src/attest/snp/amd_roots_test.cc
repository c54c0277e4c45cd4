// Tests for amd_roots.h: the embedded roots against the shared test data,
// pinning (including a spoofed "ARK-Milan"), and KDS cert_chain parsing.
#include "perimeter/attest/snp/amd_roots.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "attest/snp/testing/cert_builder.h"
#include "perimeter/crypto/hash.h"
#include "perimeter/crypto/rsa_pss.h"
#include "tests/testing/matchers.h"

namespace perimeter::attest::snp {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

constexpr Product kAll[] = {Product::kMilan, Product::kGenoa, Product::kTurin};
constexpr std::int64_t k2030 = 1893456000;  // 2030-01-01T00:00:00Z

std::string ReadText(std::string_view rel) {
  std::ifstream in(std::string(PERIMETER_TESTDATA_DIR) + "/snp/" + std::string(rel),
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing test data " << rel;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<crypto::Certificate> Bundle(std::string_view rel) {
  return crypto::Certificate::ParsePemBundle(ReadText(rel)).value_or_die_todo();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ---- Embedded roots ---------------------------------------------------------

TEST(AmdRoots, NamesPerProduct) {
  EXPECT_EQ(ArkCommonName(Product::kMilan), "ARK-Milan");
  EXPECT_EQ(AskCommonName(Product::kGenoa), "SEV-Genoa");
  EXPECT_EQ(AsvkCommonName(Product::kTurin), "SEV-VLEK-Turin");
  EXPECT_EQ(ArkCommonName(Product::kUnknown), "");
  for (Product p : kAll) {
    SCOPED_TRACE(ProductName(p));
    const AmdRootSet& r = AmdRoots(p);
    EXPECT_EQ(r.product, p);
    EXPECT_EQ(SubjectCommonName(r.ark), ArkCommonName(p));
    EXPECT_EQ(IssuerCommonName(r.ark), ArkCommonName(p));
    EXPECT_EQ(SubjectCommonName(r.ask), AskCommonName(p));
    EXPECT_EQ(SubjectCommonName(r.asvk), AsvkCommonName(p));
    EXPECT_EQ(IssuerCommonName(r.ask), ArkCommonName(p));
    EXPECT_EQ(IssuerCommonName(r.asvk), ArkCommonName(p));
    EXPECT_EQ(r.ark.Subject(), "CN=" + ArkCommonName(p) +
                                   ",O=Advanced Micro Devices,ST=CA,L=Santa Clara,C=US,"
                                   "OU=Engineering");
  }
}

// The embedded PEMs are AMD's certificates as shipped in the test data (two
// independent upstream copies: go-sev-guest's KDS bundles, trustee's).
TEST(AmdRoots, EmbeddedCertificatesEqualTestData) {
  for (Product p : kAll) {
    SCOPED_TRACE(ProductName(p));
    const std::string name = Lower(ProductName(p));
    const AmdRootSet& r = AmdRoots(p);
    const std::vector<crypto::Certificate> trustee = Bundle("amd-roots/" + name + "_ask_ark_asvk.pem");
    ASSERT_EQ(trustee.size(), 3u);
    EXPECT_EQ(r.ask, trustee[0]);
    EXPECT_EQ(r.ark, trustee[1]);
    EXPECT_EQ(r.asvk, trustee[2]);
    const std::string vcek_bundle =
        "amd-roots/ask_ark_" + name + (p == Product::kTurin ? "_vcek.pem" : ".pem");
    const std::vector<crypto::Certificate> kds = Bundle(vcek_bundle);
    ASSERT_EQ(kds.size(), 2u);
    EXPECT_EQ(r.ask, kds[0]);
    EXPECT_EQ(r.ark, kds[1]);
    const std::vector<crypto::Certificate> kds_vlek = Bundle("amd-roots/ask_ark_" + name + "_vlek.pem");
    ASSERT_EQ(kds_vlek.size(), 2u);
    EXPECT_EQ(r.asvk, kds_vlek[0]);
    EXPECT_EQ(r.ark, kds_vlek[1]);
  }
}

TEST(AmdRoots, AskAndAsvkChainToArk) {
  crypto::ChainVerifyOptions o;
  o.at_unix_seconds = k2030;
  for (Product p : kAll) {
    SCOPED_TRACE(ProductName(p));
    const AmdRootSet& r = AmdRoots(p);
    EXPECT_THAT(r.ark.VerifySignedBy(r.ark), IsOk());
    EXPECT_THAT(r.ask.VerifySignedBy(r.ark), IsOk());
    EXPECT_THAT(r.asvk.VerifySignedBy(r.ark), IsOk());
    for (const crypto::Certificate* c : {&r.ask, &r.asvk}) {
      Result<crypto::Certificate> anchor = crypto::VerifyChain(*c, {}, AmdArks(), o);
      ASSERT_THAT(anchor, IsOk());
      EXPECT_EQ(*anchor, r.ark);
      // Not under another product's ARK.
      for (Product q : kAll) {
        if (q == p) continue;
        const crypto::Certificate other[] = {AmdRoots(q).ark};
        EXPECT_THAT(crypto::VerifyChain(*c, {}, other, o),
                    StatusIs(StatusCode::kUnauthenticated, crypto::kChainUntrusted));
      }
    }
  }
}

TEST(AmdRoots, AllRootsAndArksInProductOrder) {
  ASSERT_EQ(AllAmdRoots().size(), 3u);
  ASSERT_EQ(AmdArks().size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(AllAmdRoots()[i].product, kAll[i]);
    EXPECT_EQ(AmdArks()[i], AmdRoots(kAll[i]).ark);
    EXPECT_EQ(&AllAmdRoots()[i], &AmdRoots(kAll[i]));  // parsed once, stable
  }
}

TEST(AmdRootsDeathTest, UnknownProductAborts) {
  EXPECT_DEATH((void)AmdRoots(Product::kUnknown), "unknown product");
}

// ---- Pinning ----------------------------------------------------------------

// The pins are the SHA-384 of each ARK's SPKI (independently recomputed here
// from the test-data copy, not from the embedded one).
TEST(ArkPins, AreSha384OfArkSpki) {
  ASSERT_EQ(AmdArkPins().size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const Product p = kAll[i];
    SCOPED_TRACE(ProductName(p));
    const ArkPin& pin = AmdArkPins()[i];
    EXPECT_EQ(pin.product, p);
    const crypto::Certificate ark =
        Bundle("amd-roots/" + Lower(ProductName(p)) + "_ask_ark_asvk.pem")[1];
    EXPECT_EQ(HexEncode(crypto::Hash(crypto::HashAlg::kSha384, ark.SubjectPublicKeyInfoDer())
                            .value_or_die_todo()),
              pin.spki_sha384_hex);
  }
  // The values written in amd_roots.cc, as printed by
  // openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha384sum
  EXPECT_EQ(AmdArkPins()[0].spki_sha384_hex,
            "1249f67f15cf229a4069195e1a9ce537d1765ef706a1f4a123c36be9518786515d25ecc007f366b564d2b3f31c48082e");
}

TEST(ArkPins, RealArksArePinned) {
  for (Product p : kAll) {
    SCOPED_TRACE(ProductName(p));
    Product out = Product::kUnknown;
    EXPECT_TRUE(IsPinnedAmdArk(AmdRoots(p).ark, &out));
    EXPECT_EQ(out, p);
    EXPECT_TRUE(IsPinnedAmdArk(AmdRoots(p).ark, nullptr));
    Result<Product> from = ProductFromArk(AmdRoots(p).ark);
    ASSERT_THAT(from, IsOk());
    EXPECT_EQ(*from, p);
  }
}

TEST(ArkPins, AskAsvkAndVekAreNotArks) {
  for (Product p : kAll) {
    SCOPED_TRACE(ProductName(p));
    for (const crypto::Certificate* c : {&AmdRoots(p).ask, &AmdRoots(p).asvk}) {
      Product out = Product::kUnknown;
      EXPECT_FALSE(IsPinnedAmdArk(*c, &out));
      EXPECT_EQ(out, Product::kUnknown);  // untouched on false
      EXPECT_THAT(ProductFromArk(*c), StatusIs(StatusCode::kUnauthenticated, kArkNotPinned));
    }
  }
  const crypto::Certificate vcek = crypto::Certificate::FromDer(
      AsBytes(ReadText("reports/milan-v2-trustee/vcek.der"))).value_or_die_todo();
  EXPECT_FALSE(IsPinnedAmdArk(vcek, nullptr));
}

class SpoofedArk : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_ = new crypto::RsaPrivateKey(crypto::RsaPrivateKey::Generate(4096).value_or_die_todo());
  }
  static void TearDownTestSuite() {
    delete key_;
    key_ = nullptr;
  }
  static crypto::Certificate SelfSigned(std::string_view cn, Bytes spki) {
    testing::CertTemplate t;
    t.subject_cn = std::string(cn);
    t.issuer_cn = std::string(cn);
    t.subject_spki_der = std::move(spki);
    t.serial = 0x10000;
    t.not_before = "201022172305Z";
    t.not_after = "451022172305Z";
    return crypto::Certificate::FromDer(testing::SignRsaPss(t, *key_).value_or_die_todo())
        .value_or_die_todo();
  }
  static crypto::RsaPrivateKey* key_;
};
crypto::RsaPrivateKey* SpoofedArk::key_ = nullptr;

// A fresh, genuinely self-signed RSA-4096 certificate with AMD's exact ARK
// name is not an ARK: only the pinned key counts.
TEST_F(SpoofedArk, SubjectNameAloneIsNotPinned) {
  const crypto::Certificate fake = SelfSigned("ARK-Milan", key_->public_key().ToSpkiDer().value_or_die_todo());
  ASSERT_EQ(fake.Subject(), AmdRoots(Product::kMilan).ark.Subject());  // same name
  ASSERT_THAT(fake.VerifySignedBy(fake), IsOk());                      // really self-signed
  Product out = Product::kUnknown;
  EXPECT_FALSE(IsPinnedAmdArk(fake, &out));
  EXPECT_EQ(out, Product::kUnknown);
  EXPECT_THAT(ProductFromArk(fake), StatusIs(StatusCode::kUnauthenticated, kArkNotPinned));
}

// AMD's real ARK key in a certificate AMD did not sign (the self-signature
// does not verify) is not pinned either, nor is the real key under another
// product's name.
TEST_F(SpoofedArk, PinnedKeyWithoutArkSelfSignatureIsNotPinned) {
  const Bytes milan_spki = AmdRoots(Product::kMilan).ark.SubjectPublicKeyInfoDer();
  const crypto::Certificate forged = SelfSigned("ARK-Milan", milan_spki);
  EXPECT_EQ(forged.SubjectPublicKeyInfoDer(), milan_spki);
  EXPECT_FALSE(IsPinnedAmdArk(forged, nullptr));
  const crypto::Certificate renamed = SelfSigned("ARK-Genoa", milan_spki);
  EXPECT_FALSE(IsPinnedAmdArk(renamed, nullptr));
  EXPECT_THAT(ProductFromArk(renamed), StatusIs(StatusCode::kUnauthenticated, kArkNotPinned));
}

// ---- KDS cert_chain bundles -------------------------------------------------

TEST(KdsChain, RealBundlesParseAskFirstThenArk) {
  struct Case {
    const char* file;
    Product product;
    bool asvk;
  };
  const Case cases[] = {
      {"amd-roots/ask_ark_milan.pem", Product::kMilan, false},
      {"amd-roots/ask_ark_milan_vlek.pem", Product::kMilan, true},
      {"amd-roots/ask_ark_genoa.pem", Product::kGenoa, false},
      {"amd-roots/ask_ark_genoa_vlek.pem", Product::kGenoa, true},
      {"amd-roots/ask_ark_turin_vcek.pem", Product::kTurin, false},
      {"amd-roots/ask_ark_turin_vlek.pem", Product::kTurin, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    Result<AmdChain> chain = ParseKdsChain(ReadText(c.file));
    ASSERT_THAT(chain, IsOk());
    EXPECT_EQ(chain->product, c.product);
    EXPECT_EQ(chain->is_asvk, c.asvk);
    EXPECT_EQ(chain->ark, AmdRoots(c.product).ark);
    EXPECT_EQ(chain->ask_or_asvk, c.asvk ? AmdRoots(c.product).asvk : AmdRoots(c.product).ask);
    EXPECT_TRUE(IsPinnedAmdArk(chain->ark, nullptr));
  }
}

std::string Pem(const crypto::Certificate& c) {
  static constexpr char kB64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const Bytes& d = c.ToDer();
  std::string b64;
  for (std::size_t i = 0; i < d.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{d[i]} << 16) |
                            (i + 1 < d.size() ? std::uint32_t{d[i + 1]} << 8 : 0u) |
                            (i + 2 < d.size() ? std::uint32_t{d[i + 2]} : 0u);
    b64 += kB64[(n >> 18) & 63];
    b64 += kB64[(n >> 12) & 63];
    b64 += i + 1 < d.size() ? kB64[(n >> 6) & 63] : '=';
    b64 += i + 2 < d.size() ? kB64[n & 63] : '=';
  }
  std::string out = "-----BEGIN CERTIFICATE-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END CERTIFICATE-----\n";
}

TEST(KdsChain, PemHelperRoundTrips) {
  Result<AmdChain> chain = ParseKdsChain(Pem(AmdRoots(Product::kMilan).ask) +
                                         Pem(AmdRoots(Product::kMilan).ark));
  ASSERT_THAT(chain, IsOk());
}

TEST(KdsChain, MalformedBundlesRejected) {
  const AmdRootSet& milan = AmdRoots(Product::kMilan);
  const AmdRootSet& genoa = AmdRoots(Product::kGenoa);
  const std::string milan_bundle = ReadText("amd-roots/ask_ark_milan.pem");
  const std::string cases[] = {
      "",
      "   \n",
      "not a pem",
      ReadText("amd-roots/milan_ask_ark_asvk.pem"),  // three certificates
      Pem(milan.ask),                                 // one certificate
      Pem(milan.ark),
      Pem(milan.ark) + Pem(milan.ask),                // ARK first
      Pem(milan.ask) + Pem(genoa.ark),                // mixed products
      Pem(genoa.asvk) + Pem(milan.ark),
      Pem(milan.ask) + Pem(milan.asvk),               // no ARK
      Pem(milan.ark) + Pem(milan.ark),                // no intermediate
      Pem(milan.ask) + Pem(milan.ask),
      milan_bundle.substr(0, milan_bundle.size() / 2),  // truncated
      milan_bundle + "garbage",
      milan_bundle + Pem(milan.ark),
  };
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    SCOPED_TRACE(i);
    EXPECT_THAT(ParseKdsChain(cases[i]), StatusIs(StatusCode::kInvalidArgument, kChainMalformed));
  }
}

// A chain made of a spoofed "ARK-Milan" and an intermediate it issued has
// the right shape (ParseKdsChain does not authenticate) but its ARK is not
// pinned: callers must check.
TEST_F(SpoofedArk, WellShapedSpoofedChainParsesButArkIsNotPinned) {
  const crypto::Certificate fake_ark =
      SelfSigned("ARK-Milan", key_->public_key().ToSpkiDer().value_or_die_todo());
  testing::CertTemplate t;
  t.subject_cn = "SEV-Milan";
  t.issuer_cn = "ARK-Milan";
  t.subject_spki_der = key_->public_key().ToSpkiDer().value_or_die_todo();
  const crypto::Certificate fake_ask =
      crypto::Certificate::FromDer(testing::SignRsaPss(t, *key_).value_or_die_todo())
          .value_or_die_todo();
  Result<AmdChain> chain = ParseKdsChain(Pem(fake_ask) + Pem(fake_ark));
  ASSERT_THAT(chain, IsOk());
  EXPECT_FALSE(IsPinnedAmdArk(chain->ark, nullptr));
}

TEST(CommonName, ParsesOnlyPlainSingleCn) {
  EXPECT_EQ(SubjectCommonName(AmdRoots(Product::kTurin).asvk), "SEV-VLEK-Turin");
}

}  // namespace
}  // namespace perimeter::attest::snp
