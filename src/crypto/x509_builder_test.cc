// Tests for perimeter/crypto/x509_builder.h: certificates and CRLs built here
// parse with the strict parsers of x509.h, verify, carry the extensions asked
// for, and reproduce the structure of AMD's real SEV-SNP certificates and CRL
// (tests/testdata/snp): the same name encoding, the same RSASSA-PSS
// AlgorithmIdentifier bytes (with the explicit trailerField on ARK/ASK, without
// it on VCEKs and the CRL), and the same key-identifier method.
#include "perimeter/crypto/x509_builder.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/testing/matchers.h"

namespace perimeter::crypto {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

constexpr std::int64_t kNotBefore = 1735689600;  // 2025-01-01T00:00:00Z
constexpr std::int64_t kNotAfter = 1893456000;   // 2030-01-01T00:00:00Z
constexpr std::int64_t kAt = 1767225600;         // 2026-01-01T00:00:00Z
constexpr std::string_view kSkiOid = "2.5.29.14";
constexpr std::string_view kAkiOid = "2.5.29.35";

std::string ReadText(const std::string& rel) {
  std::ifstream in(std::string(PERIMETER_TESTDATA_DIR) + "/snp/" + rel, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The elements of the outermost SEQUENCE of `der`, each as a whole TLV. (A
// deliberately separate, minimal DER walker: the test must not trust the
// builder's framing.)
std::vector<Bytes> SequenceElements(ByteView der) {
  std::vector<Bytes> out;
  auto read_len = [&](std::size_t& i, std::size_t& len) {
    const std::uint8_t b = der[i++];
    if (b < 0x80) {
      len = b;
      return;
    }
    len = 0;
    for (int k = 0; k < (b & 0x7F); ++k) len = (len << 8) | der[i++];
  };
  std::size_t i = 1, outer_len = 0;
  read_len(i, outer_len);
  const std::size_t end = i + outer_len;
  while (i < end) {
    const std::size_t start = i;
    ++i;
    std::size_t len = 0;
    read_len(i, len);
    i += len;
    out.emplace_back(der.begin() + static_cast<std::ptrdiff_t>(start), der.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return out;
}

// outer = {tbs, algorithm, signature}; tbs = {[0] version, serial, algorithm,
// issuer, validity, subject, spki, [3] extensions}.
Bytes OuterAlgorithm(const Certificate& c) { return SequenceElements(c.ToDer())[1]; }
Bytes IssuerNameDer(const Certificate& c) { return SequenceElements(SequenceElements(c.ToDer())[0])[3]; }
Bytes SubjectNameDer(const Certificate& c) { return SequenceElements(SequenceElements(c.ToDer())[0])[5]; }

DistinguishedName AmdName(const std::string& cn) {
  return {{NameAttribute::kOrganizationalUnit, "Engineering"},
          {NameAttribute::kCountry, "US"},
          {NameAttribute::kLocality, "Santa Clara"},
          {NameAttribute::kStateOrProvince, "CA"},
          {NameAttribute::kOrganization, "Advanced Micro Devices"},
          {NameAttribute::kCommonName, cn}};
}

RsaPssParams AmdCaPss() {
  RsaPssParams p;
  p.explicit_trailer_field = true;
  return p;
}

// One small PKI (RSA-2048 keeps the test fast; the profile does not depend
// on the modulus size), built once.
struct Pki {
  RsaPrivateKey ark_key;
  RsaPrivateKey ask_key;
  EcdsaPrivateKey vcek_key;
  Certificate ark;
  Certificate ask;
  Certificate vcek;
};

const Pki& TestPki() {
  static const Pki* pki = [] {
    RsaPrivateKey ark_key = RsaPrivateKey::Generate(2048).value();
    RsaPrivateKey ask_key = RsaPrivateKey::Generate(2048).value();
    EcdsaPrivateKey vcek_key = EcdsaPrivateKey::Generate(EcCurve::kP384).value();

    CertificateTemplate ark;
    ark.serial = {0x01, 0x00, 0x00};
    ark.issuer = ark.subject = AmdName("ARK-Milan");
    ark.not_before = kNotBefore;
    ark.not_after = kNotAfter;
    ark.subject_public_key_spki = ark_key.public_key().ToSpkiDer().value();
    ark.extensions = {ExtensionSpec::KeyUsage(kKeyUsageKeyCertSign | kKeyUsageCrlSign),
                      ExtensionSpec::SubjectKeyIdentifier(), ExtensionSpec::BasicConstraints(true)};
    Certificate ark_cert = BuildCertificate(ark, Signer::RsaPss(ark_key, AmdCaPss()), nullptr).value();

    CertificateTemplate ask;
    ask.serial = {0x01, 0x00, 0x01};
    ask.issuer = AmdName("ARK-Milan");
    ask.subject = AmdName("SEV-Milan");
    ask.not_before = kNotBefore;
    ask.not_after = kNotAfter;
    ask.subject_public_key_spki = ask_key.public_key().ToSpkiDer().value();
    ask.extensions = {ExtensionSpec::SubjectKeyIdentifier(), ExtensionSpec::AuthorityKeyIdentifier(),
                      ExtensionSpec::BasicConstraints(true, 0), ExtensionSpec::KeyUsage(kKeyUsageKeyCertSign)};
    Certificate ask_cert = BuildCertificate(ask, Signer::RsaPss(ark_key, AmdCaPss()), &ark_cert).value();

    CertificateTemplate vcek;
    vcek.serial = {};
    vcek.issuer = AmdName("SEV-Milan");
    vcek.subject = AmdName("SEV-VCEK");
    vcek.not_before = kNotBefore;
    vcek.not_after = kNotAfter;
    vcek.subject_public_key_spki = vcek_key.public_key().ToSpkiDer().value();
    vcek.extensions = {ExtensionSpec::Custom("1.3.6.1.4.1.3704.1.1", {0x02, 0x01, 0x00}),
                       ExtensionSpec::Custom("1.3.6.1.4.1.3704.1.2", {0x16, 0x08, 'M', 'i', 'l', 'a', 'n', '-', 'B', '0'}),
                       ExtensionSpec::Custom("1.3.6.1.4.1.3704.1.4", Bytes(64, 0xA7))};
    Certificate vcek_cert = BuildCertificate(vcek, Signer::RsaPss(ask_key), &ask_cert).value();
    return new Pki{std::move(ark_key), std::move(ask_key), std::move(vcek_key),
                   ark_cert, ask_cert, vcek_cert};
  }();
  return *pki;
}

TEST(X509Builder, ChainVerifiesAndCarriesWhatWasAsked) {
  const Pki& pki = TestPki();
  EXPECT_THAT(pki.ark.VerifySignedBy(pki.ark), IsOk());
  EXPECT_THAT(pki.ask.VerifySignedBy(pki.ark), IsOk());
  EXPECT_THAT(pki.vcek.VerifySignedBy(pki.ask), IsOk());
  EXPECT_THAT(pki.vcek.VerifySignedBy(pki.ark), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(pki.ark.Subject(),
            "CN=ARK-Milan,O=Advanced Micro Devices,ST=CA,L=Santa Clara,C=US,OU=Engineering");
  EXPECT_EQ(pki.vcek.Issuer(), pki.ask.Subject());
  EXPECT_EQ(pki.ark.SerialNumber(), (Bytes{0x01, 0x00, 0x00}));
  EXPECT_EQ(pki.vcek.SerialNumber(), (Bytes{0x00}));
  EXPECT_EQ(pki.ark.NotBefore(), kNotBefore);
  EXPECT_EQ(pki.ark.NotAfter(), kNotAfter);
  EXPECT_TRUE(pki.ark.IsCa());
  EXPECT_TRUE(pki.ask.IsCa());
  EXPECT_FALSE(pki.vcek.IsCa());
  EXPECT_EQ(pki.vcek.KeyAlgorithm(), PublicKeyAlgorithm::kEcP384);
  EXPECT_EQ(pki.vcek.SubjectPublicKeyInfoDer(), pki.vcek_key.public_key().ToSpkiDer().value());
  // Custom extensions hold exactly the given bytes (hwID is raw, as AMD's).
  EXPECT_EQ(pki.vcek.ExtensionValue("1.3.6.1.4.1.3704.1.4"), Bytes(64, 0xA7));
  EXPECT_EQ(DecodeDerIA5String(*pki.vcek.ExtensionValue("1.3.6.1.4.1.3704.1.2")).value(), "Milan-B0");
  EXPECT_EQ(DecodeDerInteger(*pki.vcek.ExtensionValue("1.3.6.1.4.1.3704.1.1")).value(), 0u);
  // basicConstraints and keyUsage encodings as on AMD's certificates.
  EXPECT_EQ(pki.ark.ExtensionValue("2.5.29.19"), (Bytes{0x30, 0x03, 0x01, 0x01, 0xFF}));
  EXPECT_EQ(pki.ask.ExtensionValue("2.5.29.19"), (Bytes{0x30, 0x06, 0x01, 0x01, 0xFF, 0x02, 0x01, 0x00}));
  EXPECT_EQ(pki.ark.ExtensionValue("2.5.29.15"), (Bytes{0x03, 0x02, 0x01, 0x06}));
  EXPECT_EQ(pki.ask.ExtensionValue("2.5.29.15"), (Bytes{0x03, 0x02, 0x02, 0x04}));
  // AKI {keyIdentifier [0] = issuer's SKI}.
  Bytes ski = pki.ark.ExtensionValue(kSkiOid).value();  // 04 14 <20 bytes>
  ASSERT_EQ(ski.size(), 22u);
  Bytes want_aki = {0x30, 0x16, 0x80, 0x14};
  want_aki.insert(want_aki.end(), ski.begin() + 2, ski.end());
  EXPECT_EQ(pki.ask.ExtensionValue(kAkiOid), want_aki);
  EXPECT_FALSE(pki.vcek.ExtensionValue(kAkiOid).has_value());  // not asked for (AMD VCEKs have none)

  ChainVerifyOptions options;
  options.at_unix_seconds = kAt;
  std::vector<Certificate> inter = {pki.ask}, anchors = {pki.ark};
  Result<Certificate> root = VerifyChain(pki.vcek, inter, anchors, options);
  ASSERT_THAT(root, IsOk());
  EXPECT_EQ(*root, pki.ark);
  options.at_unix_seconds = kNotAfter;
  EXPECT_THAT(VerifyChain(pki.vcek, inter, anchors, options),
              StatusIs(StatusCode::kUnauthenticated, kCertExpired));
}

TEST(X509Builder, RsaPssAlgorithmIdentifierIsAmdsByteForByte) {
  const Pki& pki = TestPki();
  std::vector<Certificate> amd = Certificate::ParsePemBundle(ReadText("amd-roots/ask_ark_milan.pem")).value();
  const Certificate& amd_ask = amd[0];
  const Certificate& amd_ark = amd[1];
  const Certificate amd_vcek =
      Certificate::FromDer(ToBytes(ReadText("reports/milan-v3-oak-cb/vcek.der"))).value();

  EXPECT_EQ(pki.ark.SignatureAlgorithmOid(), amd_ark.SignatureAlgorithmOid());
  EXPECT_EQ(pki.ark.SignatureAlgorithmOid(), "1.2.840.113549.1.1.10");
  // ARK/ASK: explicit trailerField 1.
  EXPECT_EQ(OuterAlgorithm(pki.ark), OuterAlgorithm(amd_ark));
  EXPECT_EQ(OuterAlgorithm(pki.ask), OuterAlgorithm(amd_ask));
  EXPECT_EQ(Signer::RsaPss(pki.ark_key, AmdCaPss()).AlgorithmIdentifierDer().value(), OuterAlgorithm(amd_ark));
  // VCEK: trailerField omitted (the DER default).
  EXPECT_EQ(OuterAlgorithm(pki.vcek), OuterAlgorithm(amd_vcek));
  EXPECT_NE(OuterAlgorithm(amd_ark), OuterAlgorithm(amd_vcek));
  // The inner (TBS) algorithm equals the outer one.
  EXPECT_EQ(SequenceElements(SequenceElements(pki.ask.ToDer())[0])[2], OuterAlgorithm(pki.ask));
}

TEST(X509Builder, NamesEncodeExactlyAsAmds) {
  const Pki& pki = TestPki();
  std::vector<Certificate> amd = Certificate::ParsePemBundle(ReadText("amd-roots/ask_ark_milan.pem")).value();
  EXPECT_EQ(SubjectNameDer(pki.ark), SubjectNameDer(amd[1]));
  EXPECT_EQ(SubjectNameDer(pki.ask), SubjectNameDer(amd[0]));
  EXPECT_EQ(IssuerNameDer(pki.ask), IssuerNameDer(amd[0]));
  EXPECT_EQ(pki.ask.Subject(), amd[0].Subject());
}

TEST(X509Builder, KeyIdentifierMethodMatchesAmds) {
  // Certify AMD's own ARK key with a SubjectKeyIdentifier: the identifier
  // must equal the one AMD put on its ARK (and the ASK's AKI).
  std::vector<Certificate> amd = Certificate::ParsePemBundle(ReadText("amd-roots/ask_ark_milan.pem")).value();
  const Pki& pki = TestPki();
  CertificateTemplate t;
  t.serial = {0x05};
  t.issuer = AmdName("SEV-Milan");
  t.subject = AmdName("holder of AMD's ARK key");
  t.not_before = kNotBefore;
  t.not_after = kNotAfter;
  t.subject_public_key_spki = amd[1].SubjectPublicKeyInfoDer();
  t.extensions = {ExtensionSpec::SubjectKeyIdentifier()};
  Certificate c = BuildCertificate(t, Signer::RsaPss(pki.ask_key), &pki.ask).value();
  EXPECT_EQ(c.ExtensionValue(kSkiOid), amd[1].ExtensionValue(kSkiOid));
}

TEST(X509Builder, EcdsaIssuerUsesTheCurveHash) {
  EcdsaPrivateKey p256 = EcdsaPrivateKey::Generate(EcCurve::kP256).value();
  EcdsaPrivateKey p384 = EcdsaPrivateKey::Generate(EcCurve::kP384).value();
  for (const EcdsaPrivateKey* key : {&p256, &p384}) {
    CertificateTemplate t;
    t.serial = {0x2A};
    t.issuer = t.subject = {{NameAttribute::kCommonName, "ecdsa root"}};
    t.not_before = kNotBefore;
    t.not_after = 2556144000;  // 2051-01-01: GeneralizedTime
    t.subject_public_key_spki = key->public_key().ToSpkiDer().value();
    t.extensions = {ExtensionSpec::BasicConstraints(true), ExtensionSpec::KeyUsage(kKeyUsageKeyCertSign)};
    Result<Certificate> c = BuildCertificate(t, Signer::Ecdsa(*key), nullptr);
    ASSERT_THAT(c, IsOk());
    EXPECT_EQ(c->SignatureAlgorithmOid(),
              key->curve() == EcCurve::kP256 ? "1.2.840.10045.4.3.2" : "1.2.840.10045.4.3.3");
    EXPECT_THAT(c->VerifySignedBy(*c), IsOk());
    EXPECT_EQ(c->NotAfter(), 2556144000);
  }
}

TEST(X509Builder, BadTemplatesAreRejected) {
  const Pki& pki = TestPki();
  CertificateTemplate good;
  good.serial = {0x07};
  good.issuer = AmdName("SEV-Milan");
  good.subject = AmdName("SEV-VCEK");
  good.not_before = kNotBefore;
  good.not_after = kNotAfter;
  good.subject_public_key_spki = pki.vcek_key.public_key().ToSpkiDer().value();
  const Signer signer = Signer::RsaPss(pki.ask_key);
  ASSERT_THAT(BuildCertificate(good, signer, &pki.ask), IsOk());

  auto rejects = [&](const CertificateTemplate& t, const Certificate* issuer = nullptr) {
    return BuildCertificate(t, signer, issuer ? issuer : &pki.ask).status().reason() == kX509BuildInvalid;
  };
  CertificateTemplate t = good;
  t.subject.clear();
  EXPECT_TRUE(rejects(t)) << "empty subject";
  t = good;
  t.subject[1].value = "USA";
  EXPECT_TRUE(rejects(t)) << "three-letter country";
  t = good;
  t.subject[5].value = std::string("bad\xC3", 4);
  EXPECT_TRUE(rejects(t)) << "invalid UTF-8";
  t = good;
  t.serial = Bytes(21, 0x01);
  EXPECT_TRUE(rejects(t)) << "21-byte serial";
  t.serial = Bytes(21, 0x00);
  t.serial.back() = 0x01;  // leading zeros do not count
  EXPECT_FALSE(rejects(t));
  t = good;
  t.not_after = t.not_before - 1;
  EXPECT_TRUE(rejects(t)) << "notAfter < notBefore";
  t = good;
  t.not_before = -1;
  EXPECT_TRUE(rejects(t)) << "negative time";
  t = good;
  t.extensions = {ExtensionSpec::Custom("1..3", {0x05, 0x00})};
  EXPECT_TRUE(rejects(t)) << "bad OID";
  t.extensions = {ExtensionSpec::Custom("1.2.3", {0x05, 0x00}), ExtensionSpec::Custom("1.2.3", {0x05, 0x00})};
  EXPECT_TRUE(rejects(t)) << "duplicate extension";
  t.extensions = {ExtensionSpec::BasicConstraints(false, 1)};
  EXPECT_TRUE(rejects(t)) << "pathLen without cA";
  t.extensions = {ExtensionSpec::KeyUsage(0)};
  EXPECT_TRUE(rejects(t)) << "empty keyUsage";
  t = good;
  t.subject_public_key_spki.push_back(0);
  EXPECT_TRUE(rejects(t)) << "SPKI with trailing byte";
  t = good;
  t.issuer = AmdName("SEV-Genoa");
  EXPECT_TRUE(rejects(t)) << "issuer name differs from the issuer certificate";
  EXPECT_TRUE(rejects(good, &pki.ark)) << "signer key is not the issuer certificate's";
  RsaPssParams md5ish;
  md5ish.hash = HashAlg::kBlake2b512;
  EXPECT_THAT(BuildCertificate(good, Signer::RsaPss(pki.ask_key, md5ish), &pki.ask),
              StatusIs(StatusCode::kInvalidArgument, kX509BuildInvalid));
}

TEST(CrlBuilder, RoundTripRevocationAndAmdShape) {
  const Pki& pki = TestPki();
  CrlTemplate t;
  t.issuer = AmdName("ARK-Milan");
  t.this_update = kAt - 86400;
  t.next_update = kAt + 30 * 86400;
  t.revoked = {{pki.ask.SerialNumber(), kAt - 3600}, {{0x00, 0x99}, kAt - 7200}};
  t.crl_number = 9;
  Result<Crl> crl = BuildCrl(t, Signer::RsaPss(pki.ark_key), pki.ark);
  ASSERT_THAT(crl, IsOk());
  EXPECT_EQ(crl->Issuer(), pki.ark.Subject());
  EXPECT_EQ(crl->ThisUpdate(), t.this_update);
  EXPECT_EQ(crl->NextUpdate(), t.next_update);
  EXPECT_TRUE(crl->IsRevoked(pki.ask.SerialNumber()));
  EXPECT_TRUE(crl->IsRevoked(Bytes{0x99}));
  EXPECT_FALSE(crl->IsRevoked(pki.ark.SerialNumber()));
  EXPECT_EQ(crl->RevokedSerials(), (std::vector<Bytes>{pki.ask.SerialNumber(), Bytes{0x99}}));
  EXPECT_THAT(crl->VerifySignedBy(pki.ark), IsOk());
  EXPECT_THAT(crl->VerifySignedBy(pki.ask), StatusIs(StatusCode::kUnauthenticated));

  // Same AlgorithmIdentifier and extension layout as AMD's Milan CRL.
  Crl amd = Crl::FromDer(ToBytes(ReadText("crl/Milan.crl.der"))).value();
  EXPECT_EQ(SequenceElements(crl->ToDer())[1], SequenceElements(amd.ToDer())[1]);

  // Applied by VerifyChain: the revoked ASK fails the chain.
  ChainVerifyOptions options;
  options.at_unix_seconds = kAt;
  std::vector<Crl> crls = {*crl};
  options.crls = crls;
  std::vector<Certificate> inter = {pki.ask}, anchors = {pki.ark};
  EXPECT_THAT(VerifyChain(pki.vcek, inter, anchors, options),
              StatusIs(StatusCode::kUnauthenticated, kCertRevoked));

  // An empty CRL revokes nothing and satisfies require_crl_for_each_ca.
  t.revoked.clear();
  Result<Crl> empty = BuildCrl(t, Signer::RsaPss(pki.ark_key), pki.ark);
  ASSERT_THAT(empty, IsOk());
  EXPECT_TRUE(empty->RevokedSerials().empty());
  crls = {*empty};
  options.crls = crls;
  options.require_crl_for_each_ca = true;
  EXPECT_THAT(VerifyChain(pki.vcek, inter, anchors, options), IsOk());
}

TEST(CrlBuilder, BadTemplatesAreRejected) {
  const Pki& pki = TestPki();
  CrlTemplate t;
  t.issuer = AmdName("ARK-Milan");
  t.this_update = kAt;
  t.next_update = kAt - 1;
  EXPECT_THAT(BuildCrl(t, Signer::RsaPss(pki.ark_key), pki.ark),
              StatusIs(StatusCode::kInvalidArgument, kX509BuildInvalid));
  t.next_update = kAt + 1;
  t.revoked = {{{0x01}, kAt}, {{0x00, 0x01}, kAt}};
  EXPECT_THAT(BuildCrl(t, Signer::RsaPss(pki.ark_key), pki.ark),
              StatusIs(StatusCode::kInvalidArgument, kX509BuildInvalid));
  t.revoked.clear();
  // The ASK may not sign CRLs (keyUsage lacks cRLSign); its name is wrong too.
  EXPECT_THAT(BuildCrl(t, Signer::RsaPss(pki.ask_key), pki.ask),
              StatusIs(StatusCode::kInvalidArgument, kX509BuildInvalid));
  t.issuer = AmdName("SEV-Milan");
  EXPECT_THAT(BuildCrl(t, Signer::RsaPss(pki.ask_key), pki.ask),
              StatusIs(StatusCode::kInvalidArgument, kX509BuildInvalid));
  // Signer key and issuer certificate disagree.
  t.issuer = AmdName("ARK-Milan");
  EXPECT_THAT(BuildCrl(t, Signer::RsaPss(pki.ask_key), pki.ark),
              StatusIs(StatusCode::kInvalidArgument, kX509BuildInvalid));
}

}  // namespace
}  // namespace perimeter::crypto
