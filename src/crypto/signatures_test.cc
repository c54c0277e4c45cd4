// Tests for Ed25519, ECDSA (P-256/P-384, DER / P1363 / AMD formats) and
// RSASSA-PSS: known answers, round trips, encodings and negative cases.
#include <gtest/gtest.h>

#include <string>

#include "perimeter/base/bytes.h"
#include "perimeter/crypto/ecdsa.h"
#include "perimeter/crypto/ed25519.h"
#include "perimeter/crypto/rsa_pss.h"

namespace perimeter::crypto {
namespace {

Bytes H(std::string_view hex) { return HexDecode(hex).value(); }

Bytes FlipBit(ByteView b, std::size_t bit) {
  Bytes out = ToBytes(b);
  out[bit / 8] = static_cast<std::uint8_t>(out[bit / 8] ^ (1u << (bit % 8)));
  return out;
}

// --------------------------------------------------------------- Ed25519

struct Ed25519Vector {
  const char* secret;
  const char* pub;
  const char* msg;
  const char* sig;
};

// https://www.rfc-editor.org/rfc/rfc8032#section-7.1 (TEST 1, 2, 3)
constexpr Ed25519Vector kRfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Ed25519, Rfc8032Section7_1) {
  for (const auto& v : kRfc8032) {
    auto key = Ed25519PrivateKey::FromSeed(H(v.secret));
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(HexEncode(key->public_key().raw()), v.pub);
    auto sig = key->Sign(H(v.msg));
    ASSERT_TRUE(sig.ok());
    EXPECT_EQ(HexEncode(*sig), v.sig);
    auto pub = Ed25519PublicKey::FromRaw(H(v.pub));
    ASSERT_TRUE(pub.ok());
    EXPECT_TRUE(pub->Verify(H(v.msg), H(v.sig)).ok());
  }
}

TEST(Ed25519, EveryBitFlipRejected) {
  auto key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  const Bytes msg = ToBytes("checkpoint");
  const Bytes sig = key->Sign(msg).value();
  ASSERT_TRUE(key->public_key().Verify(msg, sig).ok());
  for (std::size_t bit = 0; bit < sig.size() * 8; ++bit) {
    Status s = key->public_key().Verify(msg, FlipBit(sig, bit));
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << bit;
    EXPECT_EQ(s.reason(), "crypto.signature_invalid") << bit;
  }
  for (std::size_t bit = 0; bit < msg.size() * 8; ++bit) {
    EXPECT_FALSE(key->public_key().Verify(FlipBit(msg, bit), sig).ok()) << bit;
  }
  EXPECT_EQ(key->public_key().Verify(msg, ByteView(sig).first(63)).reason(), "crypto.signature_malformed");
  Bytes longer = sig;
  longer.push_back(0);
  EXPECT_EQ(key->public_key().Verify(msg, longer).reason(), "crypto.signature_malformed");
}

TEST(Ed25519, KeyHandling) {
  auto key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  auto seed = key->ExportSeed();
  ASSERT_TRUE(seed.ok());
  auto again = Ed25519PrivateKey::FromSeed(seed->view());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ToBytes(again->public_key().raw()), ToBytes(key->public_key().raw()));
  EXPECT_EQ(Ed25519PrivateKey::FromSeed(Bytes(31)).status().reason(), "crypto.ed25519_bad_seed");
  EXPECT_EQ(Ed25519PublicKey::FromRaw(Bytes(33)).status().reason(), "crypto.ed25519_bad_public_key");
  // RFC 8410 section 10.1 SubjectPublicKeyInfo.
  const Bytes spki = H("302a300506032b657003210019bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1");
  auto pub = Ed25519PublicKey::FromSpkiDer(spki);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(HexEncode(pub->raw()), "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1");
  Bytes trailing = spki;
  trailing.push_back(0);
  EXPECT_EQ(Ed25519PublicKey::FromSpkiDer(trailing).status().reason(), "crypto.ed25519_bad_public_key");
  EXPECT_FALSE(Ed25519PublicKey::FromSpkiDer({}).ok());
}

// ----------------------------------------------------------------- ECDSA

// RFC 6979 appendix A.2.5 (P-256, SHA-256, message "sample"):
// https://www.rfc-editor.org/rfc/rfc6979#appendix-A.2.5
TEST(Ecdsa, Rfc6979P256KnownSignatureVerifies) {
  auto pub = EcdsaPublicKey::FromUncompressedPoint(
      EcCurve::kP256, H("04"
                        "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
                        "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"));
  ASSERT_TRUE(pub.ok());
  const Bytes sig = H("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
                      "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
  EXPECT_TRUE(pub->Verify(AsBytes("sample"), sig, EcdsaSignatureFormat::kP1363).ok());
  EXPECT_TRUE(pub->Verify(AsBytes("test"), sig, EcdsaSignatureFormat::kP1363).IsUnauthenticated());
}

class EcdsaTest : public ::testing::TestWithParam<EcCurve> {};

TEST_P(EcdsaTest, SignVerifyAllFormats) {
  const EcCurve curve = GetParam();
  auto key = EcdsaPrivateKey::Generate(curve);
  ASSERT_TRUE(key.ok());
  const Bytes msg = ToBytes("attestation report");
  const std::size_t w = EcScalarSize(curve);
  for (auto format : {EcdsaSignatureFormat::kDer, EcdsaSignatureFormat::kP1363,
                      EcdsaSignatureFormat::kAmdLittleEndian}) {
    auto sig = key->Sign(msg, format);
    ASSERT_TRUE(sig.ok());
    if (format == EcdsaSignatureFormat::kP1363) {
      EXPECT_EQ(sig->size(), 2 * w);
    }
    if (format == EcdsaSignatureFormat::kAmdLittleEndian) {
      EXPECT_EQ(sig->size(), 144u);
    }
    EXPECT_TRUE(key->public_key().Verify(msg, *sig, format).ok());
    // Every bit flip of the signature is rejected.
    for (std::size_t bit = 0; bit < sig->size() * 8; ++bit) {
      Status s = key->public_key().Verify(msg, FlipBit(*sig, bit), format);
      EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << bit;
    }
    // Wrong message, wrong format, truncation.
    EXPECT_EQ(key->public_key().Verify(ToBytes("attestation rep0rt"), *sig, format).reason(),
              "crypto.signature_invalid");
    EXPECT_FALSE(key->public_key().Verify(msg, ByteView(*sig).first(sig->size() - 1), format).ok());
    // All formats convert into each other and still verify.
    for (auto to : {EcdsaSignatureFormat::kDer, EcdsaSignatureFormat::kP1363,
                    EcdsaSignatureFormat::kAmdLittleEndian}) {
      auto converted = EcdsaConvertSignature(curve, *sig, format, to);
      ASSERT_TRUE(converted.ok());
      EXPECT_TRUE(key->public_key().Verify(msg, *converted, to).ok());
    }
  }
  // Precomputed digest and explicit hash.
  const Bytes digest = Hash(HashAlg::kSha512, msg).value();
  auto dsig = key->SignDigest(digest, EcdsaSignatureFormat::kDer);
  ASSERT_TRUE(dsig.ok());
  EXPECT_TRUE(key->public_key().VerifyDigest(digest, *dsig, EcdsaSignatureFormat::kDer).ok());
  EXPECT_TRUE(key->public_key().VerifyWithHash(HashAlg::kSha512, msg, *dsig, EcdsaSignatureFormat::kDer).ok());
  EXPECT_EQ(key->public_key().VerifyDigest(Bytes(20), *dsig, EcdsaSignatureFormat::kDer).reason(),
            "crypto.ecdsa_bad_digest_size");
  EXPECT_EQ(key->public_key().VerifyWithHash(HashAlg::kBlake2b512, msg, *dsig, EcdsaSignatureFormat::kDer).reason(),
            "crypto.ecdsa_unsupported_hash");
}

TEST_P(EcdsaTest, KeyEncodingsRoundTrip) {
  const EcCurve curve = GetParam();
  auto key = EcdsaPrivateKey::Generate(curve);
  ASSERT_TRUE(key.ok());
  auto pkcs8 = key->ToPkcs8Der();
  ASSERT_TRUE(pkcs8.ok());
  auto again = EcdsaPrivateKey::FromPkcs8Der(pkcs8->view());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->curve(), curve);
  const Bytes spki = key->public_key().ToSpkiDer().value();
  EXPECT_EQ(again->public_key().ToSpkiDer().value(), spki);
  auto pub = EcdsaPublicKey::FromSpkiDer(spki);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->curve(), curve);
  const Bytes point = pub->ToUncompressedPoint().value();
  EXPECT_EQ(point.size(), 1 + 2 * EcScalarSize(curve));
  auto from_point = EcdsaPublicKey::FromUncompressedPoint(curve, point);
  ASSERT_TRUE(from_point.ok());
  EXPECT_EQ(from_point->ToSpkiDer().value(), spki);
  // A signature from `again` verifies under the original public key.
  const Bytes sig = again->Sign(AsBytes("m"), EcdsaSignatureFormat::kP1363).value();
  EXPECT_TRUE(key->public_key().Verify(AsBytes("m"), sig, EcdsaSignatureFormat::kP1363).ok());

  // Malformed keys.
  Bytes trailing = spki;
  trailing.push_back(0);
  EXPECT_EQ(EcdsaPublicKey::FromSpkiDer(trailing).status().reason(), "crypto.ec_bad_public_key");
  EXPECT_FALSE(EcdsaPublicKey::FromSpkiDer(ByteView(spki).first(spki.size() - 1)).ok());
  Bytes off_curve = point;
  off_curve.back() ^= 1;
  EXPECT_EQ(EcdsaPublicKey::FromUncompressedPoint(curve, off_curve).status().reason(),
            "crypto.ec_bad_public_key");
  Bytes compressed(point.begin(), point.begin() + 1 + static_cast<std::ptrdiff_t>(EcScalarSize(curve)));
  compressed[0] = 0x02;
  EXPECT_EQ(EcdsaPublicKey::FromUncompressedPoint(curve, compressed).status().reason(),
            "crypto.ec_bad_public_key");
  const EcCurve other = curve == EcCurve::kP256 ? EcCurve::kP384 : EcCurve::kP256;
  EXPECT_FALSE(EcdsaPublicKey::FromUncompressedPoint(other, point).ok());
  EXPECT_EQ(EcdsaPrivateKey::FromPkcs8Der(Bytes(10, 1)).status().reason(), "crypto.ec_bad_private_key");
}

TEST_P(EcdsaTest, OutOfRangeAndNonCanonicalSignaturesRejected) {
  const EcCurve curve = GetParam();
  const std::size_t w = EcScalarSize(curve);
  auto key = EcdsaPrivateKey::Generate(curve);
  ASSERT_TRUE(key.ok());
  const Bytes msg = ToBytes("m");
  const Bytes p1363 = key->Sign(msg, EcdsaSignatureFormat::kP1363).value();
  auto expect_malformed = [&](ByteView sig, EcdsaSignatureFormat f, const char* what) {
    Status s = key->public_key().Verify(msg, sig, f);
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << what;
    EXPECT_EQ(s.reason(), "crypto.signature_malformed") << what;
  };
  // r = 0, s = 0, r = n, s = all ones (> n).
  Bytes zero_r = p1363;
  std::fill(zero_r.begin(), zero_r.begin() + static_cast<std::ptrdiff_t>(w), 0);
  expect_malformed(zero_r, EcdsaSignatureFormat::kP1363, "r=0");
  Bytes zero_s = p1363;
  std::fill(zero_s.begin() + static_cast<std::ptrdiff_t>(w), zero_s.end(), 0);
  expect_malformed(zero_s, EcdsaSignatureFormat::kP1363, "s=0");
  Bytes big_s = p1363;
  std::fill(big_s.begin() + static_cast<std::ptrdiff_t>(w), big_s.end(), 0xff);
  expect_malformed(big_s, EcdsaSignatureFormat::kP1363, "s>n");
  const Bytes n = curve == EcCurve::kP256
                      ? H("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
                      : H("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
                          "581a0db248b0a77aecec196accc52973");
  Bytes r_is_n = p1363;
  std::copy(n.begin(), n.end(), r_is_n.begin());
  expect_malformed(r_is_n, EcdsaSignatureFormat::kP1363, "r=n");
  // AMD: nonzero padding above the scalar width.
  Bytes amd = EcdsaConvertSignature(curve, p1363, EcdsaSignatureFormat::kP1363,
                                    EcdsaSignatureFormat::kAmdLittleEndian).value();
  ASSERT_TRUE(key->public_key().Verify(msg, amd, EcdsaSignatureFormat::kAmdLittleEndian).ok());
  Bytes padded = amd;
  padded[71] = 1;
  expect_malformed(padded, EcdsaSignatureFormat::kAmdLittleEndian, "amd padding");
  expect_malformed(ByteView(amd).first(143), EcdsaSignatureFormat::kAmdLittleEndian, "amd length");
  // DER: trailing byte, long-form length, extra leading zero.
  const Bytes der = EcdsaConvertSignature(curve, p1363, EcdsaSignatureFormat::kP1363,
                                          EcdsaSignatureFormat::kDer).value();
  Bytes trailing = der;
  trailing.push_back(0);
  expect_malformed(trailing, EcdsaSignatureFormat::kDer, "trailing");
  if (der[1] < 0x80) {
    Bytes long_form = {0x30, 0x81, der[1]};
    long_form.insert(long_form.end(), der.begin() + 2, der.end());
    expect_malformed(long_form, EcdsaSignatureFormat::kDer, "long-form length");
  }
  // Rebuild with a redundant 0x00 before r.
  const std::size_t rlen = der[3];
  Bytes leading_zero = {0x30, static_cast<std::uint8_t>(der[1] + 1), 0x02,
                        static_cast<std::uint8_t>(rlen + 1), 0x00};
  leading_zero.insert(leading_zero.end(), der.begin() + 4, der.end());
  expect_malformed(leading_zero, EcdsaSignatureFormat::kDer, "leading zero");
  expect_malformed(Bytes{}, EcdsaSignatureFormat::kDer, "empty");
  expect_malformed(p1363, EcdsaSignatureFormat::kDer, "p1363 as der");
}

INSTANTIATE_TEST_SUITE_P(Curves, EcdsaTest, ::testing::Values(EcCurve::kP256, EcCurve::kP384));

TEST(Ecdsa, Names) {
  EXPECT_EQ(EcCurveName(EcCurve::kP384), "P-384");
  EXPECT_EQ(EcdsaDefaultHash(EcCurve::kP256), HashAlg::kSha256);
  EXPECT_EQ(EcdsaDefaultHash(EcCurve::kP384), HashAlg::kSha384);
}

// ------------------------------------------------------------ RSASSA-PSS

TEST(RsaPss, SignVerifyAmdParameters) {
  auto key = RsaPrivateKey::Generate(2048);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->public_key().modulus_bits(), 2048u);
  const Bytes msg = ToBytes("tbsCertificate");
  // AMD ARK/ASK: SHA-384, MGF1-SHA-384, 48-byte salt.
  auto sig = key->SignPss(HashAlg::kSha384, HashAlg::kSha384, 48, msg);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 256u);
  const RsaPublicKey& pub = key->public_key();
  EXPECT_TRUE(pub.VerifyPss(HashAlg::kSha384, HashAlg::kSha384, 48, msg, *sig).ok());
  for (std::size_t bit = 0; bit < sig->size() * 8; bit += 7) {
    Status s = pub.VerifyPss(HashAlg::kSha384, HashAlg::kSha384, 48, msg, FlipBit(*sig, bit));
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << bit;
    EXPECT_EQ(s.reason(), "crypto.signature_invalid") << bit;
  }
  // Parameters must match exactly.
  EXPECT_TRUE(pub.VerifyPss(HashAlg::kSha384, HashAlg::kSha384, 32, msg, *sig).IsUnauthenticated());
  EXPECT_TRUE(pub.VerifyPss(HashAlg::kSha256, HashAlg::kSha384, 48, msg, *sig).IsUnauthenticated());
  EXPECT_TRUE(pub.VerifyPss(HashAlg::kSha384, HashAlg::kSha256, 48, msg, *sig).IsUnauthenticated());
  EXPECT_TRUE(pub.VerifyPss(HashAlg::kSha384, HashAlg::kSha384, 48, ToBytes("other"), *sig).IsUnauthenticated());
  EXPECT_TRUE(pub.VerifyPss(HashAlg::kSha384, HashAlg::kSha384, 48, msg,
                            ByteView(*sig).first(255)).IsUnauthenticated());
  EXPECT_EQ(pub.VerifyPss(HashAlg::kBlake2b512, HashAlg::kSha384, 48, msg, *sig).reason(),
            "crypto.rsa_unsupported_hash");
  EXPECT_EQ(pub.VerifyPss(HashAlg::kSha384, HashAlg::kSha384, 256, msg, *sig).reason(),
            "crypto.rsa_bad_salt_length");
  EXPECT_EQ(key->SignPss(HashAlg::kSha384, HashAlg::kSha384, 1000, msg).status().reason(),
            "crypto.rsa_bad_salt_length");

  // Key encodings.
  auto pkcs8 = key->ToPkcs8Der();
  ASSERT_TRUE(pkcs8.ok());
  auto again = RsaPrivateKey::FromPkcs8Der(pkcs8->view());
  ASSERT_TRUE(again.ok());
  const Bytes spki = pub.ToSpkiDer().value();
  EXPECT_EQ(again->public_key().ToSpkiDer().value(), spki);
  auto pub2 = RsaPublicKey::FromSpkiDer(spki);
  ASSERT_TRUE(pub2.ok());
  EXPECT_TRUE(pub2->VerifyPss(HashAlg::kSha384, HashAlg::kSha384, 48, msg, *sig).ok());
  Bytes trailing = spki;
  trailing.push_back(0);
  EXPECT_EQ(RsaPublicKey::FromSpkiDer(trailing).status().reason(), "crypto.rsa_bad_public_key");
  EXPECT_EQ(RsaPrivateKey::FromPkcs8Der(Bytes(5)).status().reason(), "crypto.rsa_bad_private_key");
  // An EC key is not an RSA key.
  auto ec = EcdsaPrivateKey::Generate(EcCurve::kP256);
  ASSERT_TRUE(ec.ok());
  EXPECT_EQ(RsaPublicKey::FromSpkiDer(ec->public_key().ToSpkiDer().value()).status().reason(),
            "crypto.rsa_bad_public_key");
  EXPECT_EQ(EcdsaPublicKey::FromSpkiDer(spki).status().reason(), "crypto.ec_unsupported_curve");
}

TEST(RsaPss, KeySizeLimits) {
  EXPECT_EQ(RsaPrivateKey::Generate(1024).status().reason(), "crypto.rsa_unsupported_key_size");
  EXPECT_EQ(RsaPrivateKey::Generate(2049).status().reason(), "crypto.rsa_unsupported_key_size");
}

}  // namespace
}  // namespace perimeter::crypto
