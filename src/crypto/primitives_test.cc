// Tests for random, constant_time, hash, hmac, hkdf, aead and xdh:
// known-answer vectors from the RFCs / FIPS, round trips and negative cases.
#include <gtest/gtest.h>

#include <string>

#include "perimeter/base/bytes.h"
#include "perimeter/crypto/aead.h"
#include "perimeter/crypto/constant_time.h"
#include "perimeter/crypto/hash.h"
#include "perimeter/crypto/hkdf.h"
#include "perimeter/crypto/hmac.h"
#include "perimeter/crypto/random.h"
#include "perimeter/crypto/xdh.h"

namespace perimeter::crypto {
namespace {

Bytes H(std::string_view hex) { return HexDecode(hex).value(); }
std::string Hex(ByteView b) { return HexEncode(b); }

// ---------------------------------------------------------------- random

TEST(Random, FillsAndDiffers) {
  Bytes a(32), b(32);
  ASSERT_TRUE(RandomFill(a).ok());
  ASSERT_TRUE(RandomFill(b).ok());
  EXPECT_NE(a, b);
  EXPECT_FALSE(ConstantTimeIsZero(a));
  auto s = RandomSecret(48);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->size(), 48u);
  EXPECT_TRUE(RandomFill(MutableByteView()).ok());
}

// --------------------------------------------------------- constant time

TEST(ConstantTime, EqualsEdgeCases) {
  const Bytes a = {1, 2, 3}, b = {1, 2, 3}, c = {1, 2, 4}, d = {1, 2};
  EXPECT_TRUE(ConstantTimeEquals(a, b));
  EXPECT_FALSE(ConstantTimeEquals(a, c));
  EXPECT_FALSE(ConstantTimeEquals(a, d));  // prefix of different length
  EXPECT_FALSE(ConstantTimeEquals(d, a));
  EXPECT_TRUE(ConstantTimeEquals(ByteView(), ByteView()));
  EXPECT_FALSE(ConstantTimeEquals(ByteView(), a));
  const Bytes first = {0x80, 2, 3};
  EXPECT_FALSE(ConstantTimeEquals(a, first));  // differs in the first byte
}

TEST(ConstantTime, IsZero) {
  EXPECT_TRUE(ConstantTimeIsZero(ByteView()));
  EXPECT_TRUE(ConstantTimeIsZero(Bytes(32, 0)));
  for (std::size_t i = 0; i < 32; ++i) {
    for (std::uint8_t v : {std::uint8_t{1}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
      Bytes x(32, 0);
      x[i] = v;
      EXPECT_FALSE(ConstantTimeIsZero(x)) << i;
    }
  }
}

// ------------------------------------------------------------------ hash

// FIPS 180-4 examples, "abc":
// https://csrc.nist.gov/projects/cryptographic-standards-and-guidelines/example-values
TEST(Hash, Sha2Abc) {
  EXPECT_EQ(Hex(Hash(HashAlg::kSha256, AsBytes("abc")).value()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Hash(HashAlg::kSha384, AsBytes("abc")).value()),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
            "8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(Hex(Hash(HashAlg::kSha512, AsBytes("abc")).value()),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

// https://www.rfc-editor.org/rfc/rfc7693#appendix-A (BLAKE2b-512 "abc")
// https://www.rfc-editor.org/rfc/rfc7693#appendix-B (BLAKE2s-256 "abc")
TEST(Hash, Blake2Abc) {
  EXPECT_EQ(Hex(Hash(HashAlg::kBlake2b512, AsBytes("abc")).value()),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
  EXPECT_EQ(Hex(Hash(HashAlg::kBlake2s256, AsBytes("abc")).value()),
            "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
}

TEST(Hash, SizesAndNames) {
  for (HashAlg a : {HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512, HashAlg::kBlake2s256,
                    HashAlg::kBlake2b512}) {
    EXPECT_EQ(Hash(a, AsBytes("")).value().size(), DigestSize(a));
  }
  EXPECT_EQ(BlockSize(HashAlg::kBlake2s256), 64u);
  EXPECT_EQ(BlockSize(HashAlg::kSha384), 128u);
  EXPECT_EQ(HashName(HashAlg::kBlake2b512), "BLAKE2b");
}

TEST(Hash, PartsAndIncrementalMatchOneShot) {
  for (HashAlg a : {HashAlg::kSha256, HashAlg::kSha512, HashAlg::kBlake2s256}) {
    const Bytes whole = Hash(a, AsBytes("hello, world")).value();
    EXPECT_EQ(Hash(a, {AsBytes("hello"), AsBytes(""), AsBytes(", world")}).value(), whole);
    auto h = Hasher::New(a);
    ASSERT_TRUE(h.ok());
    ASSERT_TRUE(h->Update(AsBytes("hello, ")).ok());
    ASSERT_TRUE(h->Update(AsBytes("world")).ok());
    EXPECT_EQ(h->Finish().value(), whole);
    // Finish() resets.
    ASSERT_TRUE(h->Update(AsBytes("hello, world")).ok());
    EXPECT_EQ(h->Finish().value(), whole);
  }
}

// ------------------------------------------------------------------ hmac

// https://www.rfc-editor.org/rfc/rfc4231#section-4.2 (test case 1)
TEST(Hmac, Rfc4231Case1) {
  const Bytes key(20, 0x0b);
  EXPECT_EQ(Hex(Hmac(HashAlg::kSha256, key, AsBytes("Hi There")).value().view()),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(Hex(Hmac(HashAlg::kSha512, key, AsBytes("Hi There")).value().view()),
            "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
            "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
}

// https://www.rfc-editor.org/rfc/rfc4231#section-4.3 (test case 2)
TEST(Hmac, Rfc4231Case2) {
  EXPECT_EQ(
      Hex(Hmac(HashAlg::kSha256, AsBytes("Jefe"), AsBytes("what do ya want for nothing?")).value().view()),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(
      Hex(Hmac(HashAlg::kSha512, AsBytes("Jefe"), AsBytes("what do ya want for nothing?")).value().view()),
      "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
      "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

// https://www.rfc-editor.org/rfc/rfc4231#section-4.6 (test case 5, truncated)
TEST(Hmac, Rfc4231Case5Truncated) {
  const Bytes key(20, 0x0c);
  const ByteView data = AsBytes("Test With Truncation");
  EXPECT_TRUE(HmacVerify(HashAlg::kSha256, key, data, H("a3b6167473100ee06e0c796c2955552b")).ok());
  EXPECT_TRUE(HmacVerify(HashAlg::kSha512, key, data, H("415fad6271580a531d4179bc891d87a6")).ok());
}

// HMAC with a key longer than the block (hashed first): RFC 4231 test case 6.
// https://www.rfc-editor.org/rfc/rfc4231#section-4.7
TEST(Hmac, Rfc4231Case6LongKey) {
  const Bytes key(131, 0xaa);
  EXPECT_EQ(Hex(Hmac(HashAlg::kSha256, key,
                     AsBytes("Test Using Larger Than Block-Size Key - Hash Key First"))
                    .value()
                    .view()),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// Reference HMAC (RFC 2104 section 2) computed with Hash(), to check the
// BLAKE2 variants Noise uses, for short, empty, block-sized and long keys.
Bytes ReferenceHmac(HashAlg alg, ByteView key, ByteView data) {
  Bytes k = key.size() > BlockSize(alg) ? Hash(alg, key).value() : ToBytes(key);
  k.resize(BlockSize(alg), 0);
  Bytes ipad(k), opad(k);
  for (auto& b : ipad) b ^= 0x36;
  for (auto& b : opad) b ^= 0x5c;
  const Bytes inner = Hash(alg, {ipad, data}).value();
  return Hash(alg, {opad, inner}).value();
}

TEST(Hmac, Blake2MatchesRfc2104Construction) {
  for (HashAlg a : {HashAlg::kBlake2s256, HashAlg::kBlake2b512, HashAlg::kSha384}) {
    for (std::size_t key_len : {0u, 1u, 32u, 64u, 65u, 128u, 129u, 200u}) {
      const Bytes key(key_len, 0x5a);
      const ByteView data = AsBytes("noise handshake data");
      auto mac = Hmac(a, key, {data.first(5), data.subspan(5)});
      ASSERT_TRUE(mac.ok());
      EXPECT_EQ(Hex(mac->view()), Hex(ReferenceHmac(a, key, data))) << key_len;
    }
  }
}

TEST(Hmac, VerifyTagLengths) {
  const Bytes key(32, 7);
  const ByteView data = AsBytes("message");
  const SecretBytes mac = Hmac(HashAlg::kSha256, key, data).value();
  // Full and every allowed truncation verify.
  for (std::size_t n = 10; n <= 32; ++n) {
    EXPECT_TRUE(HmacVerify(HashAlg::kSha256, key, data, mac.view().first(n)).ok()) << n;
  }
  // Too short or too long tags are refused as malformed, never accepted.
  for (std::size_t n = 0; n < 10; ++n) {
    Status s = HmacVerify(HashAlg::kSha256, key, data, mac.view().first(n));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << n;
    EXPECT_EQ(s.reason(), "crypto.hmac_bad_tag_length");
  }
  Bytes longer = ToBytes(mac.view());
  longer.push_back(0);
  EXPECT_EQ(HmacVerify(HashAlg::kSha256, key, data, longer).reason(), "crypto.hmac_bad_tag_length");
  // Every bit flip of the tag is rejected.
  for (std::size_t bit = 0; bit < 32 * 8; ++bit) {
    Bytes bad = ToBytes(mac.view());
    bad[bit / 8] = static_cast<std::uint8_t>(bad[bit / 8] ^ (1u << (bit % 8)));
    Status s = HmacVerify(HashAlg::kSha256, key, data, bad);
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << bit;
    EXPECT_EQ(s.reason(), "crypto.hmac_mismatch");
  }
  // Wrong key.
  EXPECT_TRUE(HmacVerify(HashAlg::kSha256, Bytes(32, 8), data, mac.view()).IsUnauthenticated());
}

// ------------------------------------------------------------------ hkdf

// https://www.rfc-editor.org/rfc/rfc5869#appendix-A.1
TEST(Hkdf, Rfc5869A1) {
  auto okm = Hkdf(HashAlg::kSha256, Bytes(22, 0x0b), H("000102030405060708090a0b0c"),
                  H("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(Hex(okm->view()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
            "34007208d5b887185865");
}

// https://www.rfc-editor.org/rfc/rfc5869#appendix-A.3 (empty salt and info)
TEST(Hkdf, Rfc5869A3EmptySalt) {
  auto okm = Hkdf(HashAlg::kSha256, Bytes(22, 0x0b), ByteView(), ByteView(), 42);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(Hex(okm->view()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
            "9d201395faa4b61a96c8");
}

TEST(Hkdf, LengthLimits) {
  EXPECT_EQ(Hkdf(HashAlg::kSha256, Bytes(1), {}, {}, 0).status().reason(), "crypto.hkdf_bad_length");
  EXPECT_EQ(Hkdf(HashAlg::kSha256, Bytes(1), {}, {}, 255 * 32 + 1).status().reason(),
            "crypto.hkdf_bad_length");
  auto max = Hkdf(HashAlg::kSha256, Bytes(1), {}, {}, 255 * 32);
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->size(), 255u * 32u);
  // Prefix property: shorter outputs are prefixes of longer ones.
  auto shorter = Hkdf(HashAlg::kSha256, Bytes(1), {}, {}, 33);
  EXPECT_TRUE(ConstantTimeEquals(shorter->view(), max->view().first(33)));
  // Large info (OpenSSL's own HKDF caps this at 1024 bytes; ours does not).
  EXPECT_TRUE(Hkdf(HashAlg::kBlake2b512, Bytes(1), {}, Bytes(4096, 1), 64).ok());
}

// ------------------------------------------------------------------ aead

// https://www.rfc-editor.org/rfc/rfc8439#section-2.8.2
TEST(Aead, ChaCha20Poly1305Rfc8439) {
  const Bytes key = H("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  const Bytes nonce = H("070000004041424344454647");
  const Bytes aad = H("50515253c0c1c2c3c4c5c6c7");
  const std::string pt =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.";
  const std::string expected =
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
      "3ff4def08e4b7a9de576d26586cec64b6116"
      "1ae10b594f09e26a7e902ecbd0600691";
  auto aead = Aead::New(AeadAlg::kChaCha20Poly1305, key);
  ASSERT_TRUE(aead.ok());
  auto ct = aead->Seal(nonce, aad, AsBytes(pt));
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(Hex(*ct), expected);
  auto back = aead->Open(nonce, aad, *ct);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::string(back->begin(), back->end()), pt);
}

// Inputs longer than one internal update (16 KiB) and not a multiple of it:
// 100,003 bytes, sealed and opened in place and not, for both AEADs. The
// expected digests of the ciphertexts were computed with Python's
// `cryptography` (OpenSSL-independent input handling):
//   key = bytes(range(32)), nonce = bytes(range(12)), aad = b"chunk boundaries",
//   pt[i] = (7 * i + 3) % 256.
TEST(Aead, LongInputsCrossUpdateBoundaries) {
  Bytes key(32), nonce(12);
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
  for (std::size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<std::uint8_t>(i);
  Bytes pt(100003);
  for (std::size_t i = 0; i < pt.size(); ++i) pt[i] = static_cast<std::uint8_t>((7 * i + 3) % 256);
  const std::string aad = "chunk boundaries";
  const std::pair<AeadAlg, const char*> cases[] = {
      {AeadAlg::kChaCha20Poly1305, "997703d7cf637d8a82292c44fe3459030aeffc71f2c4b30975cec24ad0804d98"},
      {AeadAlg::kAes256Gcm, "03ef7dcf2df56b88af8c3891aef45faa2bbc672db250edf12c4cd07ce884997e"},
  };
  for (const auto& [alg, digest] : cases) {
    auto aead = Aead::New(alg, key);
    ASSERT_TRUE(aead.ok());
    auto ct = aead->Seal(nonce, AsBytes(aad), pt);
    ASSERT_TRUE(ct.ok());
    ASSERT_EQ(ct->size(), pt.size() + 16);
    EXPECT_EQ(Hex(Hash(HashAlg::kSha256, *ct).value()), digest);
    auto back = aead->Open(nonce, AsBytes(aad), *ct);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, pt);
    // In place.
    Bytes buf = pt;
    buf.resize(pt.size() + 16);
    ASSERT_TRUE(aead->Seal(nonce, AsBytes(aad), ByteView(buf.data(), pt.size()), buf).ok());
    EXPECT_EQ(buf, *ct);
    // A flipped bit in the last piece is caught.
    (*ct)[ct->size() - 20] ^= 1;
    EXPECT_FALSE(aead->Open(nonce, AsBytes(aad), *ct).ok());
  }
}

// McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13 and
// 14 (256-bit zero key, zero IV):
// https://csrc.nist.rip/groups/ST/toolkit/BCM/documents/proposedmodes/gcm/gcm-spec.pdf
TEST(Aead, AesGcmKnownAnswers) {
  auto aead = Aead::New(AeadAlg::kAes256Gcm, Bytes(32, 0));
  ASSERT_TRUE(aead.ok());
  const Bytes nonce(12, 0);
  EXPECT_EQ(Hex(aead->Seal(nonce, {}, {}).value()), "530f8afbc74536b9a963b4f1c4cb738b");
  EXPECT_EQ(Hex(aead->Seal(nonce, {}, Bytes(16, 0)).value()),
            "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
}

class AeadTest : public ::testing::TestWithParam<AeadAlg> {};

TEST_P(AeadTest, RoundTripInPlaceAndSizes) {
  Bytes key(32);
  ASSERT_TRUE(RandomFill(key).ok());
  auto aead = Aead::New(GetParam(), key);
  ASSERT_TRUE(aead.ok());
  const Bytes nonce(12, 3);
  for (std::size_t len : {0u, 1u, 15u, 16u, 17u, 1000u, 65536u}) {
    Bytes msg(len, 0x42);
    Bytes buf(len + 16);
    std::copy(msg.begin(), msg.end(), buf.begin());
    // In place: out aliases the plaintext.
    ASSERT_TRUE(aead->Seal(nonce, AsBytes("ad"), ByteView(buf).first(len), buf).ok());
    Bytes sealed = buf;
    ASSERT_TRUE(aead->Open(nonce, AsBytes("ad"), sealed, MutableByteView(sealed).first(len)).ok());
    EXPECT_TRUE(std::equal(msg.begin(), msg.end(), sealed.begin()));
    EXPECT_EQ(aead->Open(nonce, AsBytes("ad"), buf).value(), msg);
  }
}

TEST_P(AeadTest, EveryBitFlipAndTruncationRejected) {
  auto aead = Aead::New(GetParam(), Bytes(32, 9));
  ASSERT_TRUE(aead.ok());
  const Bytes nonce(12, 1);
  const Bytes aad = ToBytes("header");
  const Bytes ct = aead->Seal(nonce, aad, AsBytes("attack at dawn!!")).value();
  for (std::size_t bit = 0; bit < ct.size() * 8; ++bit) {
    Bytes bad = ct;
    bad[bit / 8] = static_cast<std::uint8_t>(bad[bit / 8] ^ (1u << (bit % 8)));
    Bytes out(bad.size() - 16, 0xee);
    Status s = aead->Open(nonce, aad, bad, out);
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << bit;
    EXPECT_EQ(s.reason(), "crypto.aead_bad_tag");
    EXPECT_TRUE(ConstantTimeIsZero(out)) << "plaintext released for bit " << bit;
  }
  for (std::size_t len = 0; len < ct.size(); ++len) {
    const ByteView cut = ByteView(ct).first(len);
    Bytes out(len >= 16 ? len - 16 : 0, 0xee);
    Status s = aead->Open(nonce, aad, cut, out);
    EXPECT_FALSE(s.ok()) << len;
    if (len < 16) {
      EXPECT_EQ(s.reason(), "crypto.aead_too_short") << len;
    } else {
      EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << len;
    }
    EXPECT_TRUE(ConstantTimeIsZero(out)) << len;
    EXPECT_FALSE(aead->Open(nonce, aad, cut).ok()) << len;
  }
  // Wrong AAD and wrong nonce.
  EXPECT_TRUE(aead->Open(nonce, AsBytes("headex"), ct).status().IsUnauthenticated());
  EXPECT_TRUE(aead->Open(Bytes(12, 2), aad, ct).status().IsUnauthenticated());
}

TEST_P(AeadTest, BadSizes) {
  for (std::size_t n : {0u, 16u, 31u, 33u, 64u}) {
    EXPECT_EQ(Aead::New(GetParam(), Bytes(n)).status().reason(), "crypto.aead_bad_key_size") << n;
  }
  auto aead = Aead::New(GetParam(), Bytes(32));
  ASSERT_TRUE(aead.ok());
  for (std::size_t n : {0u, 8u, 11u, 13u, 16u, 24u}) {
    EXPECT_EQ(aead->Seal(Bytes(n), {}, AsBytes("x")).status().reason(), "crypto.aead_bad_nonce_size");
    EXPECT_EQ(aead->Open(Bytes(n), {}, Bytes(20)).status().reason(), "crypto.aead_bad_nonce_size");
  }
  Bytes small(16);
  EXPECT_EQ(aead->Seal(Bytes(12), {}, AsBytes("x"), small).reason(), "crypto.aead_bad_output_size");
  const Bytes ct = aead->Seal(Bytes(12), {}, AsBytes("xy")).value();
  Bytes out(3, 0xee);
  EXPECT_EQ(aead->Open(Bytes(12), {}, ct, out).reason(), "crypto.aead_bad_output_size");
  EXPECT_TRUE(ConstantTimeIsZero(out));
}

TEST(Aead, Names) {
  EXPECT_EQ(AeadName(AeadAlg::kAes256Gcm), "AESGCM");
  EXPECT_EQ(AeadName(AeadAlg::kChaCha20Poly1305), "ChaChaPoly");
}

INSTANTIATE_TEST_SUITE_P(Algs, AeadTest,
                         ::testing::Values(AeadAlg::kAes256Gcm, AeadAlg::kChaCha20Poly1305));

// ------------------------------------------------------------------- xdh

// https://www.rfc-editor.org/rfc/rfc7748#section-5.2 (first X25519 vector)
TEST(Xdh, X25519Rfc7748Section5_2) {
  auto k = XdhPrivateKey::FromBytes(
      XdhAlg::kX25519, H("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"));
  ASSERT_TRUE(k.ok());
  auto s = k->Dh(H("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Hex(s->view()), "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
}

// https://www.rfc-editor.org/rfc/rfc7748#section-5.2 (first X448 vector)
TEST(Xdh, X448Rfc7748Section5_2) {
  auto k = XdhPrivateKey::FromBytes(
      XdhAlg::kX448, H("3d262fddf9ec8e88495266fea19a34d28882acef045104d0d1aae121700a779c"
                       "984c24f8cdd78fbff44943eba368f54b29259a4f1c600ad3"));
  ASSERT_TRUE(k.ok());
  auto s = k->Dh(H("06fce640fa3487bfda5f6cf2d5263f8aad88334cbd07437f020f08f9814dc031"
                   "ddbdc38c19c6da2583fa5429db94ada18aa7a7fb4ef8a086"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Hex(s->view()),
            "ce3e4ff95a60dc6697da1db1d85e6afbdf79b50a2412d7546d5f239fe14fbaad"
            "eb445fc66a01b0779d98223961111e21766282f73dd96b6f");
}

// https://www.rfc-editor.org/rfc/rfc7748#section-6.1
TEST(Xdh, X25519Rfc7748Section6_1) {
  auto alice = XdhPrivateKey::FromBytes(
      XdhAlg::kX25519, H("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  auto bob = XdhPrivateKey::FromBytes(
      XdhAlg::kX25519, H("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  ASSERT_TRUE(alice.ok() && bob.ok());
  EXPECT_EQ(Hex(alice->public_key()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(Hex(bob->public_key()),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const std::string shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  EXPECT_EQ(Hex(alice->Dh(bob->public_key()).value().view()), shared);
  EXPECT_EQ(Hex(bob->Dh(alice->public_key()).value().view()), shared);
}

// https://www.rfc-editor.org/rfc/rfc7748#section-6.2
TEST(Xdh, X448Rfc7748Section6_2) {
  auto alice = XdhPrivateKey::FromBytes(
      XdhAlg::kX448, H("9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf5"
                       "74a9419744897391006382a6f127ab1d9ac2d8c0a598726b"));
  auto bob = XdhPrivateKey::FromBytes(
      XdhAlg::kX448, H("1c306a7ac2a0e2e0990b294470cba339e6453772b075811d8fad0d1d6927c120"
                       "bb5ee8972b0d3e21374c9c921b09d1b0366f10b65173992d"));
  ASSERT_TRUE(alice.ok() && bob.ok());
  EXPECT_EQ(Hex(alice->public_key()),
            "9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c22c5d9bb"
            "c836647241d953d40c5b12da88120d53177f80e532c41fa0");
  EXPECT_EQ(Hex(bob->public_key()),
            "3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b43027d8b972"
            "fc3e34fb4232a13ca706dcb57aec3dae07bdc1c67bf33609");
  const std::string shared =
      "07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282bb60c0b56"
      "fd2464c335543936521c24403085d59a449a5037514a879d";
  EXPECT_EQ(Hex(alice->Dh(bob->public_key()).value().view()), shared);
  EXPECT_EQ(Hex(bob->Dh(alice->public_key()).value().view()), shared);
}

TEST(Xdh, GenerateRoundTripAndExport) {
  for (XdhAlg alg : {XdhAlg::kX25519, XdhAlg::kX448}) {
    auto a = XdhPrivateKey::Generate(alg);
    auto b = XdhPrivateKey::Generate(alg);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->public_key().size(), XdhKeySize(alg));
    auto s1 = a->Dh(b->public_key());
    auto s2 = b->Dh(a->public_key());
    ASSERT_TRUE(s1.ok() && s2.ok());
    EXPECT_TRUE(ConstantTimeEquals(s1->view(), s2->view()));
    auto raw = a->ExportPrivate();
    ASSERT_TRUE(raw.ok());
    auto again = XdhPrivateKey::FromBytes(alg, raw->view());
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(ConstantTimeEquals(again->public_key(), a->public_key()));
  }
  EXPECT_EQ(XdhName(XdhAlg::kX25519), "25519");
  EXPECT_EQ(XdhName(XdhAlg::kX448), "448");
}

// Low-order points (RFC 7748 section 6.1: "check for the all-zero value"):
// u = 0, u = 1, and u = p - 1 (= 2^255 - 20) and the order-8 point of
// https://cr.yp.to/ecdh.html#validate all yield a zero shared secret.
TEST(Xdh, LowOrderPeerRejected) {
  auto k = XdhPrivateKey::Generate(XdhAlg::kX25519);
  ASSERT_TRUE(k.ok());
  for (const char* hex : {"0000000000000000000000000000000000000000000000000000000000000000",
                          "0100000000000000000000000000000000000000000000000000000000000000",
                          "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                          "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"}) {
    auto s = k->Dh(H(hex));
    ASSERT_FALSE(s.ok()) << hex;
    EXPECT_EQ(s.error().code(), StatusCode::kInvalidArgument) << hex;
    EXPECT_EQ(s.error().reason(), "crypto.xdh_low_order") << hex;
  }
  auto k448 = XdhPrivateKey::Generate(XdhAlg::kX448);
  ASSERT_TRUE(k448.ok());
  auto s = k448->Dh(Bytes(56, 0));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().reason(), "crypto.xdh_low_order");
}

TEST(Xdh, BadSizes) {
  EXPECT_EQ(XdhPrivateKey::FromBytes(XdhAlg::kX25519, Bytes(31)).status().reason(),
            "crypto.xdh_bad_key_size");
  EXPECT_EQ(XdhPrivateKey::FromBytes(XdhAlg::kX448, Bytes(32)).status().reason(),
            "crypto.xdh_bad_key_size");
  auto k = XdhPrivateKey::Generate(XdhAlg::kX25519);
  ASSERT_TRUE(k.ok());
  for (std::size_t n : {0u, 31u, 33u, 56u}) {
    EXPECT_EQ(k->Dh(Bytes(n, 9)).status().reason(), "crypto.xdh_bad_key_size") << n;
  }
}

}  // namespace
}  // namespace perimeter::crypto
