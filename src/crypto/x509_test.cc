// Tests for perimeter/crypto/x509.h against AMD's real SEV-SNP PKI
// (tests/testdata/snp, see its PROVENANCE.md) and against small throwaway
// PKIs generated here with OpenSSL (for revocation, RSA PKCS#1 v1.5, P-256,
// Ed25519 and rejected algorithms, which AMD's data does not exercise).
//
// Which VCEK chains to which product (from tests/testdata/snp/index.json):
//   Milan ASK "SEV-Milan":  milan-v2-azure-hcl-trustee, milan-v2-go-sev-guest,
//                           milan-v2-trustee, milan-v2-virtee-sev, milan-v3-oak-*
//   Milan ASVK:             milan-v3-vlek-aws-trustee/vlek.der
//   Genoa ASK "SEV-Genoa":  genoa-v3-azure-trustee, genoa-v5-oak-oc
//   Turin ASK "SEV-Turin":  certs-only/turin-vcek-virtee-sev
#include "perimeter/crypto/x509.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "crypto/openssl/ossl_ptr.h"

namespace perimeter::crypto {
namespace {

using internal::OsslPtr;

constexpr std::string_view kPssOid = "1.2.840.113549.1.1.10";
// Milan CRL window (PROVENANCE.md): 2026-06-22T05:53:52Z .. 2026-08-08T00:00:00Z.
constexpr std::int64_t kMilanCrlThisUpdate = 1782107632;
constexpr std::int64_t kMilanCrlNextUpdate = 1786147200;
constexpr std::int64_t kInsideMilanCrlWindow = 1782864000;  // 2026-07-01T00:00:00Z
constexpr std::int64_t kDay = 86400;

std::string DataPath(std::string_view rel) {
  return std::string(PERIMETER_TESTDATA_DIR) + "/snp/" + std::string(rel);
}

std::string ReadText(std::string_view rel) {
  std::ifstream in(DataPath(rel), std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing test data " << rel;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes ReadBytes(std::string_view rel) { return ToBytes(ReadText(rel)); }

Certificate LoadCert(std::string_view rel) {
  const bool pem = rel.ends_with(".pem");
  auto cert = pem ? Certificate::ParsePemBundle(ReadText(rel))
                        .value_or_die_todo()  // first block is the leaf
                        .front()
                  : Certificate::FromDer(ReadBytes(rel)).value_or_die_todo();
  return cert;
}

std::vector<Certificate> LoadBundle(std::string_view rel) {
  auto r = Certificate::ParsePemBundle(ReadText(rel));
  EXPECT_TRUE(r.ok()) << rel << ": " << r.status();
  return r.ok() ? *r : std::vector<Certificate>{};
}

// Product chain files: [intermediate, ARK].
struct Product {
  const char* name;
  const char* bundle;
};
constexpr Product kMilan{"Milan", "amd-roots/ask_ark_milan.pem"};
constexpr Product kMilanVlek{"Milan", "amd-roots/ask_ark_milan_vlek.pem"};
constexpr Product kGenoa{"Genoa", "amd-roots/ask_ark_genoa.pem"};
constexpr Product kTurin{"Turin", "amd-roots/ask_ark_turin_vcek.pem"};

struct VekCase {
  const char* file;
  Product product;
};
const VekCase kVeks[] = {
    {"reports/genoa-v3-azure-trustee/vcek.pem", kGenoa},
    {"reports/genoa-v5-oak-oc/vcek.der", kGenoa},
    {"reports/milan-v2-azure-hcl-trustee/vcek_ask_ark.pem", kMilan},
    {"reports/milan-v2-go-sev-guest/vcek.der", kMilan},
    {"reports/milan-v2-trustee/vcek.der", kMilan},
    {"reports/milan-v2-virtee-sev/vcek.der", kMilan},
    {"reports/milan-v3-oak-cb/vcek.der", kMilan},
    {"reports/milan-v3-oak-oc-release/vcek.der", kMilan},
    {"reports/milan-v3-oak-oc-staging/vcek.der", kMilan},
    {"reports/milan-v3-oak-rk-release/vcek.der", kMilan},
    {"reports/milan-v3-oak-rk-staging/vcek.der", kMilan},
    {"reports/milan-v3-vlek-aws-trustee/vlek.der", kMilanVlek},
    {"certs-only/turin-vcek-virtee-sev/vcek.der", kTurin},
};

constexpr const char* kMilanVcek = "reports/milan-v2-trustee/vcek.der";

void ExpectError(const Status& s, StatusCode code, std::string_view reason) {
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_EQ(s.reason(), reason) << s;
}
template <typename T>
void ExpectError(const Result<T>& r, StatusCode code, std::string_view reason) {
  ASSERT_FALSE(r.ok()) << "expected " << reason << ", got a value";
  ExpectError(r.error(), code, reason);
}

ChainVerifyOptions At(std::int64_t t) {
  ChainVerifyOptions o;
  o.at_unix_seconds = t;
  return o;
}

// ---- AMD roots --------------------------------------------------------------

TEST(AmdRoots, ArkSelfSignedAndIntermediateSignedByArk) {
  const char* bundles[] = {"amd-roots/ask_ark_milan.pem",      "amd-roots/ask_ark_milan_vlek.pem",
                           "amd-roots/ask_ark_genoa.pem",      "amd-roots/ask_ark_genoa_vlek.pem",
                           "amd-roots/ask_ark_turin_vcek.pem", "amd-roots/ask_ark_turin_vlek.pem"};
  for (const char* b : bundles) {
    SCOPED_TRACE(b);
    auto certs = LoadBundle(b);
    ASSERT_EQ(certs.size(), 2u);
    const Certificate& ask = certs[0];
    const Certificate& ark = certs[1];
    EXPECT_TRUE(ark.Subject().starts_with("CN=ARK-")) << ark.Subject();
    EXPECT_EQ(ark.Subject(), ark.Issuer());
    EXPECT_EQ(ask.Issuer(), ark.Subject());
    EXPECT_TRUE(ark.VerifySignedBy(ark).ok());
    EXPECT_TRUE(ask.VerifySignedBy(ark).ok());
    ExpectError(ark.VerifySignedBy(ask), StatusCode::kUnauthenticated, kSignatureInvalid);
    for (const Certificate* c : {&ask, &ark}) {
      EXPECT_TRUE(c->IsCa());
      EXPECT_EQ(c->KeyAlgorithm(), PublicKeyAlgorithm::kRsa);
      EXPECT_EQ(c->SignatureAlgorithmOid(), kPssOid);
      EXPECT_LT(c->NotBefore(), c->NotAfter());
      EXPECT_FALSE(c->SubjectPublicKeyInfoDer().empty());
    }
  }
}

TEST(AmdRoots, AsvkBundlesAreAskArkAsvk) {
  const char* bundles[] = {"amd-roots/milan_ask_ark_asvk.pem", "amd-roots/genoa_ask_ark_asvk.pem",
                           "amd-roots/turin_ask_ark_asvk.pem"};
  for (const char* b : bundles) {
    SCOPED_TRACE(b);
    auto certs = LoadBundle(b);
    ASSERT_EQ(certs.size(), 3u);
    EXPECT_TRUE(certs[1].VerifySignedBy(certs[1]).ok());
    EXPECT_TRUE(certs[0].VerifySignedBy(certs[1]).ok());
    EXPECT_TRUE(certs[2].VerifySignedBy(certs[1]).ok());
    EXPECT_TRUE(certs[2].Subject().starts_with("CN=SEV-VLEK-")) << certs[2].Subject();
  }
}

TEST(AmdRoots, MilanAskFields) {
  auto certs = LoadBundle(kMilan.bundle);
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_EQ(certs[0].Subject(),
            "CN=SEV-Milan,O=Advanced Micro Devices,ST=CA,L=Santa Clara,C=US,OU=Engineering");
  EXPECT_EQ(certs[0].SerialNumber(), (Bytes{0x01, 0x00, 0x01}));
  EXPECT_EQ(certs[1].SerialNumber(), (Bytes{0x01, 0x00, 0x00}));
  // The DER round-trips and copies share identity.
  auto again = Certificate::FromDer(certs[0].ToDer());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again == certs[0]);
  Certificate copy = certs[0];
  EXPECT_TRUE(copy == certs[0]);
  EXPECT_FALSE(certs[0] == certs[1]);
}

// ---- VCEK / VLEK ------------------------------------------------------------

TEST(Vcek, EachVerifiesUnderItsProductIntermediateOnly) {
  const Product all[] = {kMilan, kMilanVlek, kGenoa, kTurin};
  for (const VekCase& v : kVeks) {
    SCOPED_TRACE(v.file);
    Certificate vek = LoadCert(v.file);
    EXPECT_EQ(vek.KeyAlgorithm(), PublicKeyAlgorithm::kEcP384);
    EXPECT_EQ(vek.SignatureAlgorithmOid(), kPssOid);
    EXPECT_EQ(vek.SerialNumber(), Bytes{0x00});
    EXPECT_FALSE(vek.IsCa());
    for (const Product& p : all) {
      auto chain = LoadBundle(p.bundle);
      ASSERT_EQ(chain.size(), 2u);
      if (std::string_view(p.bundle) == v.product.bundle) {
        EXPECT_TRUE(vek.VerifySignedBy(chain[0]).ok()) << p.bundle;
      } else {
        ExpectError(vek.VerifySignedBy(chain[0]), StatusCode::kUnauthenticated,
                    kSignatureInvalid);
      }
    }
  }
}

TEST(Vcek, VerifyChainAtFixedTimeReturnsArk) {
  for (const VekCase& v : kVeks) {
    SCOPED_TRACE(v.file);
    Certificate vek = LoadCert(v.file);
    auto chain = LoadBundle(v.product.bundle);
    ASSERT_EQ(chain.size(), 2u);
    std::vector<Certificate> inter{chain[0]};
    std::vector<Certificate> anchors{chain[1]};
    for (std::int64_t t : {vek.NotBefore(), vek.NotBefore() + kDay, vek.NotAfter() - 1}) {
      auto r = VerifyChain(vek, inter, anchors, At(t));
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_TRUE(*r == chain[1]);
      EXPECT_EQ(r->Subject().substr(0, 7), "CN=ARK-");
    }
  }
}

TEST(Vcek, ChainPicksTheRightAnchorAmongAllProducts) {
  std::vector<Certificate> inter, anchors;
  for (const Product& p : {kMilan, kMilanVlek, kGenoa, kTurin}) {
    auto chain = LoadBundle(p.bundle);
    inter.push_back(chain[0]);
    anchors.push_back(chain[1]);
  }
  Certificate genoa_vcek = LoadCert("reports/genoa-v5-oak-oc/vcek.der");
  auto r = VerifyChain(genoa_vcek, inter, anchors, At(genoa_vcek.NotBefore() + kDay));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Subject().substr(0, 12), "CN=ARK-Genoa");
}

TEST(Vcek, ExpiredAndNotYetValid) {
  Certificate vek = LoadCert(kMilanVcek);
  EXPECT_EQ(vek.NotBefore(), 1674583106);  // 2023-01-24T17:58:26Z
  EXPECT_EQ(vek.NotAfter(), 1895507906);   // 2030-01-24T17:58:26Z
  auto chain = LoadBundle(kMilan.bundle);
  std::vector<Certificate> inter{chain[0]}, anchors{chain[1]};
  ExpectError(VerifyChain(vek, inter, anchors, At(vek.NotAfter() + 1)),
              StatusCode::kUnauthenticated, kCertExpired);
  // OpenSSL treats the notAfter second itself as expired (documented in x509.h).
  ExpectError(VerifyChain(vek, inter, anchors, At(vek.NotAfter())),
              StatusCode::kUnauthenticated, kCertExpired);
  EXPECT_TRUE(VerifyChain(vek, inter, anchors, At(vek.NotAfter() - 1)).ok());
  EXPECT_TRUE(VerifyChain(vek, inter, anchors, At(vek.NotBefore())).ok());
  ExpectError(VerifyChain(vek, inter, anchors, At(vek.NotBefore() - 1)),
              StatusCode::kUnauthenticated, kCertNotYetValid);
  // Before the ARK itself existed: the whole chain is not yet valid.
  ExpectError(VerifyChain(vek, inter, anchors, At(chain[1].NotBefore() - kDay)),
              StatusCode::kUnauthenticated, kCertNotYetValid);
  // After the ARK expired.
  ExpectError(VerifyChain(vek, inter, anchors, At(chain[1].NotAfter() + kDay)),
              StatusCode::kUnauthenticated, kCertExpired);
}

TEST(Vcek, VlekExpiresAfterOneYear) {
  Certificate vlek = LoadCert("reports/milan-v3-vlek-aws-trustee/vlek.der");
  auto chain = LoadBundle(kMilanVlek.bundle);
  std::vector<Certificate> inter{chain[0]}, anchors{chain[1]};
  EXPECT_TRUE(VerifyChain(vlek, inter, anchors, At(vlek.NotBefore() + 30 * kDay)).ok());
  ExpectError(VerifyChain(vlek, inter, anchors, At(vlek.NotAfter() + kDay)),
              StatusCode::kUnauthenticated, kCertExpired);
}

TEST(Vcek, WrongProductChainIsUntrusted) {
  Certificate vek = LoadCert(kMilanVcek);
  const std::int64_t t = vek.NotBefore() + kDay;
  for (const Product& p : {kGenoa, kTurin, kMilanVlek}) {
    SCOPED_TRACE(p.bundle);
    auto chain = LoadBundle(p.bundle);
    std::vector<Certificate> inter{chain[0]}, anchors{chain[1]};
    ExpectError(VerifyChain(vek, inter, anchors, At(t)), StatusCode::kUnauthenticated,
                kChainUntrusted);
  }
  // Right ARK but the ASK is missing.
  auto milan = LoadBundle(kMilan.bundle);
  std::vector<Certificate> anchors{milan[1]};
  ExpectError(VerifyChain(vek, {}, anchors, At(t)), StatusCode::kUnauthenticated,
              kChainUntrusted);
  // The ASK given as the anchor: partial chains are not accepted.
  std::vector<Certificate> ask_anchor{milan[0]};
  ExpectError(VerifyChain(vek, {}, ask_anchor, At(t)), StatusCode::kUnauthenticated,
              kChainUntrusted);
  // No anchors at all.
  ExpectError(VerifyChain(vek, {}, {}, At(t)), StatusCode::kInvalidArgument, kChainInvalid);
}

// Flips `mask` in byte `offset` of the VCEK and returns the parsed result.
Result<Certificate> Mutate(const Bytes& der, std::size_t offset, std::uint8_t mask) {
  Bytes m = der;
  m[offset] ^= mask;
  return Certificate::FromDer(m);
}

TEST(Vcek, FlippedSignatureOrTbsFails) {
  const Bytes der = ReadBytes(kMilanVcek);
  auto milan = LoadBundle(kMilan.bundle);
  std::vector<Certificate> inter{milan[0]}, anchors{milan[1]};
  Certificate vek = LoadCert(kMilanVcek);
  const std::int64_t t = vek.NotBefore() + kDay;

  // Last byte of the signature BIT STRING.
  auto sig_flipped = Mutate(der, der.size() - 1, 0x01);
  ASSERT_TRUE(sig_flipped.ok()) << sig_flipped.status();
  ExpectError(sig_flipped->VerifySignedBy(milan[0]), StatusCode::kUnauthenticated,
              kSignatureInvalid);
  ExpectError(VerifyChain(*sig_flipped, inter, anchors, At(t)), StatusCode::kUnauthenticated,
              kSignatureInvalid);

  // A bit inside the hwID extension value (part of the TBS).
  auto hwid = vek.ExtensionValue(amd_oid::kHwId);
  ASSERT_TRUE(hwid.has_value());
  auto it = std::search(der.begin(), der.end(), hwid->begin(), hwid->end());
  ASSERT_NE(it, der.end());
  const auto hw_off = static_cast<std::size_t>(it - der.begin());
  for (std::size_t off : {hw_off, hw_off + 10, hw_off + 63}) {
    auto tbs_flipped = Mutate(der, off, 0x80);
    ASSERT_TRUE(tbs_flipped.ok()) << tbs_flipped.status();
    ExpectError(tbs_flipped->VerifySignedBy(milan[0]), StatusCode::kUnauthenticated,
                kSignatureInvalid);
    ExpectError(VerifyChain(*tbs_flipped, inter, anchors, At(t)),
                StatusCode::kUnauthenticated, kSignatureInvalid);
  }
  // Upstream negative cases (virtee: byte 40 ^= 0xff; trustee: byte 42 += 1):
  // either the parse or the chain must fail.
  for (std::size_t off : {std::size_t{40}, std::size_t{42}}) {
    Bytes m = der;
    m[off] = static_cast<std::uint8_t>(off == 40 ? m[off] ^ 0xff : m[off] + 1);
    auto c = Certificate::FromDer(m);
    if (c.ok()) {
      EXPECT_FALSE(VerifyChain(*c, inter, anchors, At(t)).ok()) << "offset " << off;
    }
  }
}

TEST(Vcek, TrusteeNegativeFixturesAreRejected) {
  auto milan = LoadBundle(kMilan.bundle);
  std::vector<Certificate> inter{milan[0]}, anchors{milan[1]};
  for (const char* f : {"reports/milan-v2-trustee/NEG-vcek-invalid-legacy.der",
                        "reports/milan-v2-trustee/NEG-vcek-invalid-new.der"}) {
    SCOPED_TRACE(f);
    auto c = Certificate::FromDer(ReadBytes(f));
    ASSERT_TRUE(c.ok()) << c.status();  // well-formed, but tampered with
    ExpectError(c->VerifySignedBy(milan[0]), StatusCode::kUnauthenticated, kSignatureInvalid);
    ExpectError(VerifyChain(*c, inter, anchors, At(c->NotBefore() + kDay)),
                StatusCode::kUnauthenticated, kSignatureInvalid);
  }
  Bytes pattern(64);
  for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<std::uint8_t>(i);
  // "legacy": raw 64 bytes, like real VCEKs.
  auto legacy = LoadCert("reports/milan-v2-trustee/NEG-vcek-invalid-legacy.der");
  EXPECT_EQ(legacy.ExtensionValue(amd_oid::kHwId), pattern);
  // "new": hwID wrapped in an OCTET STRING.
  auto wrapped = LoadCert("reports/milan-v2-trustee/NEG-vcek-invalid-new.der");
  auto raw = wrapped.ExtensionValue(amd_oid::kHwId);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->size(), 66u);
  auto inner = DecodeDerOctetString(*raw);
  ASSERT_TRUE(inner.ok()) << inner.status();
  EXPECT_EQ(*inner, pattern);
}

// ---- AMD extensions ---------------------------------------------------------

std::uint64_t Spl(const Certificate& c, std::string_view oid) {
  auto v = c.ExtensionValue(oid);
  EXPECT_TRUE(v.has_value()) << oid;
  if (!v) return std::numeric_limits<std::uint64_t>::max();
  auto n = DecodeDerInteger(*v);
  EXPECT_TRUE(n.ok()) << oid << ": " << n.status();
  return n.ok() ? *n : std::numeric_limits<std::uint64_t>::max();
}

TEST(AmdExtensions, MilanVcek) {
  Certificate vek = LoadCert(kMilanVcek);
  EXPECT_EQ(vek.Subject(),
            "CN=SEV-VCEK,O=Advanced Micro Devices,ST=CA,L=Santa Clara,C=US,OU=Engineering");
  EXPECT_EQ(vek.Issuer(),
            "CN=SEV-Milan,O=Advanced Micro Devices,ST=CA,L=Santa Clara,C=US,OU=Engineering");
  auto name = vek.ExtensionValue(amd_oid::kProductName);
  ASSERT_TRUE(name.has_value());
  auto product = DecodeDerIA5String(*name);
  ASSERT_TRUE(product.ok()) << product.status();
  EXPECT_EQ(*product, "Milan-B0");
  EXPECT_EQ(Spl(vek, amd_oid::kStructVersion), 0u);
  EXPECT_EQ(Spl(vek, amd_oid::kBlSpl), 3u);
  EXPECT_EQ(Spl(vek, amd_oid::kTeeSpl), 0u);
  EXPECT_EQ(Spl(vek, amd_oid::kSnpSpl), 8u);
  EXPECT_EQ(Spl(vek, amd_oid::kSpl4), 0u);
  EXPECT_EQ(Spl(vek, amd_oid::kSpl5), 0u);
  EXPECT_EQ(Spl(vek, amd_oid::kSpl6), 0u);
  EXPECT_EQ(Spl(vek, amd_oid::kSpl7), 0u);
  EXPECT_EQ(Spl(vek, amd_oid::kUcodeSpl), 115u);
  EXPECT_FALSE(vek.ExtensionValue(amd_oid::kFmcSpl).has_value());
  EXPECT_FALSE(vek.ExtensionValue(amd_oid::kCspId).has_value());
  auto hwid = vek.ExtensionValue(amd_oid::kHwId);
  ASSERT_TRUE(hwid.has_value());
  ASSERT_EQ(hwid->size(), 64u);
  EXPECT_EQ(HexEncode(*hwid),
            "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f"
            "8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e");
  // Raw bytes, not an OCTET STRING (first byte is not 0x04 with length 64).
  EXPECT_FALSE(DecodeDerOctetString(*hwid).ok());
}

TEST(AmdExtensions, EveryRealVekHasProductAndSpls) {
  for (const VekCase& v : kVeks) {
    SCOPED_TRACE(v.file);
    Certificate vek = LoadCert(v.file);
    auto name = vek.ExtensionValue(amd_oid::kProductName);
    ASSERT_TRUE(name.has_value());
    auto product = DecodeDerIA5String(*name);
    ASSERT_TRUE(product.ok()) << product.status();
    EXPECT_TRUE(product->starts_with(v.product.name)) << *product;
    EXPECT_LT(Spl(vek, amd_oid::kBlSpl), 256u);
    EXPECT_LT(Spl(vek, amd_oid::kSnpSpl), 256u);
    EXPECT_LT(Spl(vek, amd_oid::kUcodeSpl), 256u);
    const bool is_vlek = std::string_view(v.file).ends_with("vlek.der");
    EXPECT_EQ(vek.ExtensionValue(amd_oid::kHwId).has_value(), !is_vlek);
    if (!is_vlek) {
      const std::size_t want = std::string_view(v.product.name) == "Turin" ? 8u : 64u;
      EXPECT_EQ(vek.ExtensionValue(amd_oid::kHwId)->size(), want);
    }
  }
}

TEST(AmdExtensions, TurinAndVlek) {
  Certificate turin = LoadCert("certs-only/turin-vcek-virtee-sev/vcek.der");
  EXPECT_EQ(Spl(turin, amd_oid::kStructVersion), 1u);
  EXPECT_EQ(Spl(turin, amd_oid::kFmcSpl), 0u);
  EXPECT_EQ(Spl(turin, amd_oid::kUcodeSpl), 9u);
  EXPECT_EQ(HexEncode(*turin.ExtensionValue(amd_oid::kHwId)), "1e550a8ee5cf9f4d");
  EXPECT_EQ(*DecodeDerIA5String(*turin.ExtensionValue(amd_oid::kProductName)), "Turin");

  Certificate vlek = LoadCert("reports/milan-v3-vlek-aws-trustee/vlek.der");
  auto csp = vlek.ExtensionValue(amd_oid::kCspId);
  ASSERT_TRUE(csp.has_value());
  EXPECT_EQ(*DecodeDerIA5String(*csp), "CN=cc-us-east-2.amazonaws.com");
  EXPECT_EQ(Spl(vlek, amd_oid::kUcodeSpl), 217u);
}

TEST(AmdExtensions, MalformedOrAbsentOid) {
  Certificate vek = LoadCert(kMilanVcek);
  EXPECT_FALSE(vek.ExtensionValue("1.3.6.1.4.1.3704.1.99").has_value());
  EXPECT_FALSE(vek.ExtensionValue("").has_value());
  EXPECT_FALSE(vek.ExtensionValue("1..2").has_value());
  EXPECT_FALSE(vek.ExtensionValue("commonName").has_value());
  EXPECT_FALSE(vek.ExtensionValue("1.3.6.1.4.1.3704.1.2 ").has_value());
}

// ---- Parsing robustness -----------------------------------------------------

TEST(CertificateParse, EveryTruncationRejected) {
  const Bytes der = ReadBytes(kMilanVcek);
  for (std::size_t n = 0; n < der.size(); ++n) {
    auto r = Certificate::FromDer(ByteView(der.data(), n));
    ExpectError(r, StatusCode::kInvalidArgument, kX509ParseFailed);
    if (r.ok()) break;
  }
  EXPECT_TRUE(Certificate::FromDer(der).ok());
}

TEST(CertificateParse, TrailingBytesRejected) {
  Bytes der = ReadBytes(kMilanVcek);
  der.push_back(0x00);
  ExpectError(Certificate::FromDer(der), StatusCode::kInvalidArgument, kX509ParseFailed);
  // Two certificates back to back are not one certificate.
  Bytes two = ReadBytes(kMilanVcek);
  Append(two, ReadBytes(kMilanVcek));
  ExpectError(Certificate::FromDer(two), StatusCode::kInvalidArgument, kX509ParseFailed);
}

TEST(CertificateParse, NonMinimalOuterLengthRejected) {
  const Bytes der = ReadBytes(kMilanVcek);
  ASSERT_EQ(der[0], 0x30);
  ASSERT_EQ(der[1], 0x82);  // 2-byte length
  Bytes ber = {0x30, 0x83, 0x00, der[2], der[3]};
  ber.insert(ber.end(), der.begin() + 4, der.end());
  ExpectError(Certificate::FromDer(ber), StatusCode::kInvalidArgument, kX509ParseFailed);
}

TEST(CertificateParse, PemRules) {
  const std::string bundle = ReadText(kMilan.bundle);
  ExpectError(Certificate::ParsePemBundle(""), StatusCode::kInvalidArgument, kX509ParseFailed);
  ExpectError(Certificate::ParsePemBundle(" \n\t\r\n"), StatusCode::kInvalidArgument,
              kX509ParseFailed);
  ExpectError(Certificate::ParsePemBundle("garbage"), StatusCode::kInvalidArgument,
              kX509ParseFailed);
  ExpectError(Certificate::ParsePemBundle(bundle + "trailing text\n"),
              StatusCode::kInvalidArgument, kX509ParseFailed);
  ExpectError(Certificate::ParsePemBundle("junk\n" + bundle), StatusCode::kInvalidArgument,
              kX509ParseFailed);
  // Exactly one block for FromPem.
  ExpectError(Certificate::FromPem(bundle), StatusCode::kInvalidArgument, kX509ParseFailed);
  const std::size_t second = bundle.find("-----BEGIN", 1);
  ASSERT_NE(second, std::string::npos);
  auto one = Certificate::FromPem(bundle.substr(0, second));
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_TRUE(one->Subject().starts_with("CN=SEV-Milan"));
  // Truncated block, damaged base64, wrong label.
  ExpectError(Certificate::FromPem(bundle.substr(0, second / 2)), StatusCode::kInvalidArgument,
              kX509ParseFailed);
  std::string damaged = bundle.substr(0, second);
  damaged[40] = '*';
  ExpectError(Certificate::FromPem(damaged), StatusCode::kInvalidArgument, kX509ParseFailed);
  std::string relabeled = bundle.substr(0, second);
  for (std::string_view from : {"BEGIN CERTIFICATE", "END CERTIFICATE"}) {
    const std::size_t p = relabeled.find(from);
    relabeled.replace(p, from.size(), from.starts_with("BEGIN") ? "BEGIN X509 CRL" : "END X509 CRL");
  }
  ExpectError(Certificate::FromPem(relabeled), StatusCode::kInvalidArgument, kX509ParseFailed);
}

// ---- Milan CRL --------------------------------------------------------------

Crl LoadMilanCrl() { return Crl::FromDer(ReadBytes("crl/Milan.crl.der")).value_or_die_todo(); }

TEST(MilanCrl, FieldsAndSignature) {
  Crl crl = LoadMilanCrl();
  auto milan = LoadBundle(kMilan.bundle);
  auto genoa = LoadBundle(kGenoa.bundle);
  EXPECT_EQ(crl.Issuer(), milan[1].Subject());
  EXPECT_EQ(crl.ThisUpdate(), kMilanCrlThisUpdate);
  ASSERT_TRUE(crl.NextUpdate().has_value());
  EXPECT_EQ(*crl.NextUpdate(), kMilanCrlNextUpdate);
  EXPECT_TRUE(crl.RevokedSerials().empty());
  EXPECT_FALSE(crl.IsRevoked(milan[0].SerialNumber()));
  EXPECT_TRUE(crl.VerifySignedBy(milan[1]).ok());
  ExpectError(crl.VerifySignedBy(milan[0]), StatusCode::kUnauthenticated, kCrlBadSignature);
  ExpectError(crl.VerifySignedBy(genoa[1]), StatusCode::kUnauthenticated, kCrlBadSignature);
  // A flipped bit in the CRL signature.
  Bytes der = crl.ToDer();
  der.back() ^= 0x01;
  auto bad = Crl::FromDer(der);
  ASSERT_TRUE(bad.ok()) << bad.status();
  ExpectError(bad->VerifySignedBy(milan[1]), StatusCode::kUnauthenticated, kCrlBadSignature);
}

TEST(MilanCrl, ParseRobustness) {
  const Bytes der = ReadBytes("crl/Milan.crl.der");
  for (std::size_t n = 0; n < der.size(); ++n) {
    ExpectError(Crl::FromDer(ByteView(der.data(), n)), StatusCode::kInvalidArgument,
                kCrlParseFailed);
  }
  Bytes trailing = der;
  trailing.push_back(0);
  ExpectError(Crl::FromDer(trailing), StatusCode::kInvalidArgument, kCrlParseFailed);
  ExpectError(Crl::FromDer(ReadBytes(kMilanVcek)), StatusCode::kInvalidArgument,
              kCrlParseFailed);
  ExpectError(Crl::FromPem(ReadText(kMilan.bundle)), StatusCode::kInvalidArgument,
              kCrlParseFailed);
}

TEST(MilanCrl, AppliedInChainVerification) {
  Certificate vek = LoadCert(kMilanVcek);
  auto milan = LoadBundle(kMilan.bundle);
  std::vector<Certificate> inter{milan[0]}, anchors{milan[1]};
  std::vector<Crl> crls{LoadMilanCrl()};

  ChainVerifyOptions o = At(kInsideMilanCrlWindow);
  o.crls = crls;
  o.require_crl_for_each_ca = true;
  auto r = VerifyChain(vek, inter, anchors, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r == milan[1]);
  // Window edges are inclusive.
  o.at_unix_seconds = kMilanCrlThisUpdate;
  EXPECT_TRUE(VerifyChain(vek, inter, anchors, o).ok());
  o.at_unix_seconds = kMilanCrlNextUpdate;
  EXPECT_TRUE(VerifyChain(vek, inter, anchors, o).ok());

  o.at_unix_seconds = kMilanCrlNextUpdate + 1;
  ExpectError(VerifyChain(vek, inter, anchors, o), StatusCode::kFailedPrecondition, kCrlExpired);
  o.at_unix_seconds = kMilanCrlThisUpdate - 1;
  ExpectError(VerifyChain(vek, inter, anchors, o), StatusCode::kFailedPrecondition,
              kCrlNotYetValid);

  // No CRL while one is required for the ASK.
  ChainVerifyOptions none = At(kInsideMilanCrlWindow);
  none.require_crl_for_each_ca = true;
  ExpectError(VerifyChain(vek, inter, anchors, none), StatusCode::kFailedPrecondition,
              kCrlMissing);
  none.require_crl_for_each_ca = false;
  EXPECT_TRUE(VerifyChain(vek, inter, anchors, none).ok());

  // The Milan CRL is ignored on a Genoa path (its issuer is not in the path),
  // even outside its window.
  Certificate genoa_vek = LoadCert("reports/genoa-v5-oak-oc/vcek.der");
  auto genoa = LoadBundle(kGenoa.bundle);
  std::vector<Certificate> g_inter{genoa[0]}, g_anchors{genoa[1]};
  ChainVerifyOptions g = At(genoa_vek.NotBefore() + kDay);
  g.crls = crls;
  EXPECT_TRUE(VerifyChain(genoa_vek, g_inter, g_anchors, g).ok());
}

TEST(MilanCrl, TamperedCrlInPathFails) {
  Certificate vek = LoadCert(kMilanVcek);
  auto milan = LoadBundle(kMilan.bundle);
  std::vector<Certificate> inter{milan[0]}, anchors{milan[1]};
  Bytes der = ReadBytes("crl/Milan.crl.der");
  der.back() ^= 0x01;
  std::vector<Crl> crls{Crl::FromDer(der).value_or_die_todo()};
  ChainVerifyOptions o = At(kInsideMilanCrlWindow);
  o.crls = crls;
  ExpectError(VerifyChain(vek, inter, anchors, o), StatusCode::kUnauthenticated,
              kCrlBadSignature);
}

// ---- Throwaway PKI generated with OpenSSL -----------------------------------

OsslPtr<EVP_PKEY> GenKey(const char* type) {
  OsslPtr<EVP_PKEY> k;
  if (std::string_view(type) == "P-256") {
    k.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  } else if (std::string_view(type) == "RSA") {
    k.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048)));
  } else {
    k.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
  }
  EXPECT_TRUE(k != nullptr);
  return k;
}

void SetCn(X509_NAME* name, const std::string& cn) {
  ASSERT_EQ(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                       -1, 0),
            1);
}

void AddExt(X509* x, int nid, const char* value) {
  OsslPtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, nullptr, nid, value));
  ASSERT_TRUE(ext != nullptr);
  ASSERT_EQ(X509_add_ext(x, ext.get(), -1), 1);
}

struct CertSpec {
  std::string cn;
  std::string issuer_cn;
  EVP_PKEY* key = nullptr;
  EVP_PKEY* issuer_key = nullptr;
  long serial = 1;  // NOLINT(runtime/int): OpenSSL's type
  bool ca = false;
  std::int64_t not_before = 1700000000;
  std::int64_t not_after = 1900000000;
  const EVP_MD* md = EVP_sha256();
};

Bytes MakeCert(const CertSpec& s) {
  OsslPtr<X509> x(X509_new());
  EXPECT_EQ(X509_set_version(x.get(), X509_VERSION_3), 1);
  EXPECT_EQ(ASN1_INTEGER_set(X509_get_serialNumber(x.get()), s.serial), 1);
  SetCn(X509_get_subject_name(x.get()), s.cn);
  SetCn(X509_get_issuer_name(x.get()), s.issuer_cn);
  EXPECT_NE(ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(s.not_before)),
            nullptr);
  EXPECT_NE(ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(s.not_after)),
            nullptr);
  EXPECT_EQ(X509_set_pubkey(x.get(), s.key), 1);
  if (s.ca) {
    AddExt(x.get(), NID_basic_constraints, "critical,CA:TRUE");
    AddExt(x.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  EXPECT_GT(X509_sign(x.get(), s.issuer_key, s.md), 0);
  unsigned char* buf = nullptr;
  const int len = i2d_X509(x.get(), &buf);
  EXPECT_GT(len, 0);
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

struct CrlSpec {
  Bytes issuer_der;
  EVP_PKEY* key = nullptr;
  std::vector<long> revoked;  // NOLINT(runtime/int)
  std::int64_t this_update = 1750000000;
  std::int64_t next_update = 1760000000;
  bool critical_extension = false;
};

Bytes MakeCrl(const CrlSpec& s) {
  const unsigned char* p = s.issuer_der.data();
  OsslPtr<X509> issuer(d2i_X509(nullptr, &p, static_cast<long>(s.issuer_der.size())));
  EXPECT_TRUE(issuer != nullptr);
  OsslPtr<X509_CRL> crl(X509_CRL_new());
  EXPECT_EQ(X509_CRL_set_version(crl.get(), 1), 1);
  EXPECT_EQ(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.get())), 1);
  OsslPtr<ASN1_TIME> t1(ASN1_TIME_set(nullptr, static_cast<time_t>(s.this_update)));
  OsslPtr<ASN1_TIME> t2(ASN1_TIME_set(nullptr, static_cast<time_t>(s.next_update)));
  EXPECT_EQ(X509_CRL_set1_lastUpdate(crl.get(), t1.get()), 1);
  EXPECT_EQ(X509_CRL_set1_nextUpdate(crl.get(), t2.get()), 1);
  for (long serial : s.revoked) {  // NOLINT(runtime/int)
    OsslPtr<X509_REVOKED> r(X509_REVOKED_new());
    OsslPtr<ASN1_INTEGER> n(ASN1_INTEGER_new());
    EXPECT_EQ(ASN1_INTEGER_set(n.get(), serial), 1);
    EXPECT_EQ(X509_REVOKED_set_serialNumber(r.get(), n.get()), 1);
    EXPECT_EQ(X509_REVOKED_set_revocationDate(r.get(), t1.get()), 1);
    EXPECT_EQ(X509_CRL_add0_revoked(crl.get(), r.get()), 1);
    (void)r.release();  // owned by the CRL now
  }
  if (s.critical_extension) {
    OsslPtr<ASN1_INTEGER> number(ASN1_INTEGER_new());
    EXPECT_EQ(ASN1_INTEGER_set(number.get(), 7), 1);
    EXPECT_EQ(X509_CRL_add1_ext_i2d(crl.get(), NID_delta_crl, number.get(), 1, 0), 1);
  }
  EXPECT_EQ(X509_CRL_sort(crl.get()), 1);
  EXPECT_GT(X509_CRL_sign(crl.get(), s.key, EVP_sha256()), 0);
  unsigned char* buf = nullptr;
  const int len = i2d_X509_CRL(crl.get(), &buf);
  EXPECT_GT(len, 0);
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

class TestPki : public ::testing::Test {
 protected:
  void SetUp() override {
    root_key_ = GenKey("P-256");
    inter_key_ = GenKey("P-256");
    leaf_key_ = GenKey("P-256");
    root_der_ = MakeCert({"Test Root", "Test Root", root_key_.get(), root_key_.get(), 100, true});
    inter_der_ =
        MakeCert({"Test Inter", "Test Root", inter_key_.get(), root_key_.get(), 200, true});
    leaf_der_ = MakeCert({"Test Leaf", "Test Inter", leaf_key_.get(), inter_key_.get(), 300});
    root_.push_back(Certificate::FromDer(root_der_).value_or_die_todo());
    inter_.push_back(Certificate::FromDer(inter_der_).value_or_die_todo());
    leaf_ = Certificate::FromDer(leaf_der_).value_or_die_todo();
  }

  Result<Certificate> Verify(std::vector<Crl> crls, bool require = false) {
    crls_ = std::move(crls);
    ChainVerifyOptions o = At(1755000000);
    o.crls = crls_;
    o.require_crl_for_each_ca = require;
    return VerifyChain(*leaf_, inter_, root_, o);
  }

  OsslPtr<EVP_PKEY> root_key_, inter_key_, leaf_key_;
  Bytes root_der_, inter_der_, leaf_der_;
  std::vector<Certificate> root_, inter_;
  std::optional<Certificate> leaf_;
  std::vector<Crl> crls_;
};

TEST_F(TestPki, Ecdsa256ChainVerifies) {
  EXPECT_EQ(leaf_->KeyAlgorithm(), PublicKeyAlgorithm::kEcP256);
  EXPECT_EQ(leaf_->SignatureAlgorithmOid(), "1.2.840.10045.4.3.2");
  EXPECT_EQ(leaf_->SerialNumber(), (Bytes{0x01, 0x2c}));
  EXPECT_TRUE(leaf_->VerifySignedBy(inter_[0]).ok());
  auto r = Verify({});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r == root_[0]);
}

TEST_F(TestPki, RevokedLeafReported) {
  Crl crl = Crl::FromDer(MakeCrl({inter_der_, inter_key_.get(), {299, 300, 301}}))
                .value_or_die_todo();
  EXPECT_TRUE(crl.VerifySignedBy(inter_[0]).ok());
  EXPECT_TRUE(crl.IsRevoked(leaf_->SerialNumber()));
  EXPECT_TRUE(crl.IsRevoked(Bytes{0x00, 0x00, 0x01, 0x2c}));  // leading zeros ignored
  EXPECT_FALSE(crl.IsRevoked(Bytes{0x01, 0x2d, 0x00}));
  EXPECT_EQ(crl.RevokedSerials().size(), 3u);
  ExpectError(Verify({crl}), StatusCode::kUnauthenticated, kCertRevoked);
}

TEST_F(TestPki, RevokedIntermediateReported) {
  Crl crl = Crl::FromDer(MakeCrl({root_der_, root_key_.get(), {200}})).value_or_die_todo();
  ExpectError(Verify({crl}), StatusCode::kUnauthenticated, kCertRevoked);
  // A CRL from the root does not speak for the leaf's serials (issued by the
  // intermediate), even if a number matches.
  Crl other = Crl::FromDer(MakeCrl({root_der_, root_key_.get(), {300}})).value_or_die_todo();
  EXPECT_TRUE(Verify({other}).ok());
}

TEST_F(TestPki, CrlRules) {
  Crl root_crl = Crl::FromDer(MakeCrl({root_der_, root_key_.get(), {}})).value_or_die_todo();
  Crl inter_crl = Crl::FromDer(MakeCrl({inter_der_, inter_key_.get(), {}})).value_or_die_todo();
  EXPECT_TRUE(Verify({root_crl}, /*require=*/true).ok());
  EXPECT_TRUE(Verify({root_crl, inter_crl}, true).ok());
  ExpectError(Verify({inter_crl}, true), StatusCode::kFailedPrecondition, kCrlMissing);
  // Named after the intermediate but signed by the leaf key.
  Crl forged = Crl::FromDer(MakeCrl({inter_der_, leaf_key_.get(), {}})).value_or_die_todo();
  ExpectError(forged.VerifySignedBy(inter_[0]), StatusCode::kUnauthenticated, kCrlBadSignature);
  ExpectError(Verify({forged}), StatusCode::kUnauthenticated, kCrlBadSignature);
  // Critical extensions (here deltaCRLIndicator) are not processed.
  CrlSpec delta{root_der_, root_key_.get(), {}};
  delta.critical_extension = true;
  Crl delta_crl = Crl::FromDer(MakeCrl(delta)).value_or_die_todo();
  ExpectError(Verify({delta_crl}), StatusCode::kUnimplemented, kCrlUnsupported);
  // Stale and future CRLs.
  CrlSpec stale{root_der_, root_key_.get(), {}, 1700000000, 1710000000};
  ExpectError(Verify({Crl::FromDer(MakeCrl(stale)).value_or_die_todo()}),
              StatusCode::kFailedPrecondition, kCrlExpired);
  CrlSpec future{root_der_, root_key_.get(), {}, 1756000000, 1760000000};
  ExpectError(Verify({Crl::FromDer(MakeCrl(future)).value_or_die_todo()}),
              StatusCode::kFailedPrecondition, kCrlNotYetValid);
}

TEST(GeneratedCerts, RsaPkcs1AndEd25519) {
  auto rsa = GenKey("RSA");
  auto ed = GenKey("ED25519");
  Bytes root_der = MakeCert({"RSA Root", "RSA Root", rsa.get(), rsa.get(), 1, true, 1700000000,
                             1900000000, EVP_sha384()});
  Bytes leaf_der = MakeCert({"Ed Leaf", "RSA Root", ed.get(), rsa.get(), 2});
  Certificate root = Certificate::FromDer(root_der).value_or_die_todo();
  Certificate leaf = Certificate::FromDer(leaf_der).value_or_die_todo();
  EXPECT_EQ(root.SignatureAlgorithmOid(), "1.2.840.113549.1.1.12");  // sha384WithRSA
  EXPECT_EQ(leaf.KeyAlgorithm(), PublicKeyAlgorithm::kEd25519);
  EXPECT_TRUE(root.VerifySignedBy(root).ok());
  EXPECT_TRUE(leaf.VerifySignedBy(root).ok());
  ExpectError(leaf.VerifySignedBy(leaf), StatusCode::kUnauthenticated, kSignatureInvalid);
  std::vector<Certificate> anchors{root};
  EXPECT_TRUE(VerifyChain(leaf, {}, anchors, At(1800000000)).ok());
  // A self-signed leaf that is not an anchor.
  std::vector<Certificate> other{leaf};
  ExpectError(VerifyChain(root, {}, other, At(1800000000)), StatusCode::kUnauthenticated,
              kChainUntrusted);
}

TEST(GeneratedCerts, Sha1SignatureRejected) {
  auto key = GenKey("P-256");
  Bytes der = MakeCert({"Sha1 Root", "Sha1 Root", key.get(), key.get(), 1, true, 1700000000,
                        1900000000, EVP_sha1()});
  Certificate c = Certificate::FromDer(der).value_or_die_todo();
  ExpectError(c.VerifySignedBy(c), StatusCode::kUnauthenticated, kSignatureAlgorithmRejected);
  std::vector<Certificate> anchors{c};
  ExpectError(VerifyChain(c, {}, anchors, At(1800000000)), StatusCode::kUnauthenticated,
              kSignatureAlgorithmRejected);
}

// ---- Strict DER helpers -----------------------------------------------------

TEST(DerInteger, Accepts) {
  EXPECT_EQ(*DecodeDerInteger(Bytes{0x02, 0x01, 0x00}), 0u);
  EXPECT_EQ(*DecodeDerInteger(Bytes{0x02, 0x01, 0x7f}), 127u);
  EXPECT_EQ(*DecodeDerInteger(Bytes{0x02, 0x02, 0x00, 0x80}), 128u);
  EXPECT_EQ(*DecodeDerInteger(Bytes{0x02, 0x02, 0x01, 0x00}), 256u);
  EXPECT_EQ(*DecodeDerInteger(Bytes{0x02, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff}),
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(*DecodeDerInteger(Bytes{0x02, 0x08, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
            0x7fffffffffffffffu);
}

TEST(DerInteger, Rejects) {
  const Bytes bad[] = {
      {},                                  // empty input
      {0x02},                              // no length
      {0x02, 0x00},                        // empty contents
      {0x02, 0x01},                        // truncated
      {0x02, 0x02, 0x00, 0x7f},            // non-minimal (leading 0x00)
      {0x02, 0x02, 0xff, 0x80},            // non-minimal and negative
      {0x02, 0x01, 0x80},                  // negative
      {0x02, 0x01, 0xff},                  // negative
      {0x02, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0},  // 2^64: too long
      {0x02, 0x0a, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
      {0x04, 0x01, 0x00},                  // wrong tag (OCTET STRING)
      {0x0a, 0x01, 0x00},                  // wrong tag (ENUMERATED)
      {0x02, 0x01, 0x00, 0x00},            // trailing byte
      {0x02, 0x81, 0x01, 0x00},            // non-minimal long-form length
      {0x02, 0x80, 0x00, 0x00, 0x00},      // indefinite length
      {0x02, 0x85, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00},  // length of length too big
  };
  for (const Bytes& b : bad) {
    SCOPED_TRACE(HexEncode(b));
    ExpectError(DecodeDerInteger(b), StatusCode::kInvalidArgument, kDerInvalid);
  }
}

TEST(DerStrings, IA5AndOctetString) {
  EXPECT_EQ(*DecodeDerIA5String(Bytes{0x16, 0x05, 'G', 'e', 'n', 'o', 'a'}), "Genoa");
  EXPECT_EQ(*DecodeDerIA5String(Bytes{0x16, 0x00}), "");
  ExpectError(DecodeDerIA5String(Bytes{0x16, 0x01, 0x80}), StatusCode::kInvalidArgument,
              kDerInvalid);
  ExpectError(DecodeDerIA5String(Bytes{0x0c, 0x01, 'a'}), StatusCode::kInvalidArgument,
              kDerInvalid);  // UTF8String
  ExpectError(DecodeDerIA5String(Bytes{0x16, 0x02, 'a'}), StatusCode::kInvalidArgument,
              kDerInvalid);

  EXPECT_EQ(*DecodeDerOctetString(Bytes{0x04, 0x00}), Bytes{});
  EXPECT_EQ(*DecodeDerOctetString(Bytes{0x04, 0x02, 0xaa, 0xbb}), (Bytes{0xaa, 0xbb}));
  ExpectError(DecodeDerOctetString(Bytes{0x24, 0x00}), StatusCode::kInvalidArgument,
              kDerInvalid);  // constructed
  ExpectError(DecodeDerOctetString(Bytes{0x04, 0x01, 0xaa, 0xbb}), StatusCode::kInvalidArgument,
              kDerInvalid);
  Bytes long_form = {0x04, 0x81, 0x80};
  long_form.resize(3 + 0x80, 0x5a);
  EXPECT_EQ(DecodeDerOctetString(long_form)->size(), 0x80u);
  Bytes non_minimal = {0x04, 0x81, 0x7f};
  non_minimal.resize(3 + 0x7f, 0x5a);
  ExpectError(DecodeDerOctetString(non_minimal), StatusCode::kInvalidArgument, kDerInvalid);
}

}  // namespace
}  // namespace perimeter::crypto
