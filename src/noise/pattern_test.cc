#include "perimeter/noise/pattern.h"

#include <gtest/gtest.h>

#include "perimeter/noise/protocol_name.h"
#include "tests/testing/matchers.h"

namespace perimeter::noise {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

TEST(Pattern, IKInSpecNotation) {
  Result<HandshakePattern> p = LookupPattern("IK");
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->ToString(), "<- s\n...\n-> e, es, s, ss\n<- e, ee, se");
  EXPECT_FALSE(p->one_way);
}

TEST(Pattern, EveryBasePatternIsKnown) {
  const char* names[] = {"N",    "K",    "X",    "NN",   "NK",   "NX",  "XN",  "XK",  "XX",  "KN",
                         "KK",   "KX",   "IN",   "IK",   "IX",   "NK1", "NX1", "X1N", "X1K", "XK1",
                         "X1K1", "X1X",  "XX1",  "X1X1", "K1N",  "K1K", "KK1", "K1K1", "K1X", "KX1",
                         "K1X1", "I1N",  "I1K",  "IK1",  "I1K1", "I1X", "IX1", "I1X1"};
  for (const char* n : names) EXPECT_THAT(LookupPattern(n), IsOk()) << n;
  EXPECT_TRUE(LookupPattern("N")->one_way);
  EXPECT_TRUE(LookupPattern("X")->one_way);
}

// Noise rev. 34 section 10.2 with the roles of DESIGN.md section 4: the
// party that sends first after fallback is the initiator.
TEST(Pattern, XXfallbackSwapsRolesAndMakesFirstMessageAPremessage) {
  Result<HandshakePattern> p = LookupPattern("XXfallback");
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->ToString(), "<- e\n...\n-> e, ee, s, se\n<- s, es");
}

TEST(Pattern, PskModifiersPlaceTokens) {
  EXPECT_EQ(LookupPattern("NNpsk0")->ToString(), "-> psk, e\n<- e, ee");
  EXPECT_EQ(LookupPattern("NNpsk2")->ToString(), "-> e\n<- e, ee, psk");
  EXPECT_EQ(LookupPattern("XXpsk0+psk3")->PskCount(), 2u);
  EXPECT_EQ(LookupPattern("Npsk0")->ToString(), "<- s\n...\n-> psk, e, es");
}

TEST(Pattern, RejectsUnknownAndInapplicableModifiers) {
  EXPECT_THAT(LookupPattern("ZZ"), StatusIs(StatusCode::kInvalidArgument, "noise.unknown_pattern"));
  EXPECT_THAT(LookupPattern("XXfoo"), StatusIs(StatusCode::kInvalidArgument, "noise.bad_modifier"));
  EXPECT_THAT(LookupPattern("NNpsk3"), StatusIs(StatusCode::kInvalidArgument, "noise.bad_modifier"));
  EXPECT_THAT(LookupPattern("NNpsk0+psk0"), StatusIs(StatusCode::kInvalidArgument, "noise.bad_modifier"));
  EXPECT_THAT(LookupPattern("Nfallback"), StatusIs(StatusCode::kInvalidArgument, "noise.bad_modifier"));
  // IK's first message has DH tokens: it cannot become a pre-message.
  EXPECT_THAT(LookupPattern("IKfallback"), StatusIs(StatusCode::kInvalidArgument, "noise.bad_modifier"));
  EXPECT_THAT(LookupPattern("XXpsk0psk1"), StatusIs(StatusCode::kInvalidArgument, "noise.bad_modifier"));
}

TEST(ProtocolName, ParsesEveryPrimitive) {
  Result<ProtocolName> p = ParseProtocolName("Noise_XX_25519_ChaChaPoly_SHA256");
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->dh, crypto::XdhAlg::kX25519);
  EXPECT_EQ(p->cipher, crypto::AeadAlg::kChaCha20Poly1305);
  EXPECT_EQ(p->hash, crypto::HashAlg::kSha256);
  p = ParseProtocolName("Noise_IKpsk2_448_AESGCM_BLAKE2b");
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->dh, crypto::XdhAlg::kX448);
  EXPECT_EQ(p->cipher, crypto::AeadAlg::kAes256Gcm);
  EXPECT_EQ(p->hash, crypto::HashAlg::kBlake2b512);
  EXPECT_THAT(ParseProtocolName("Noise_NN_25519_AESGCM_SHA512"), IsOk());
  EXPECT_THAT(ParseProtocolName("Noise_NN_25519_AESGCM_BLAKE2s"), IsOk());
}

TEST(ProtocolName, RejectsMalformedAndUnsupported) {
  EXPECT_THAT(ParseProtocolName("Noise_XX_25519_ChaChaPoly"),
              StatusIs(StatusCode::kInvalidArgument, "noise.bad_protocol_name"));
  EXPECT_THAT(ParseProtocolName("Nois_XX_25519_ChaChaPoly_SHA256"),
              StatusIs(StatusCode::kInvalidArgument, "noise.bad_protocol_name"));
  EXPECT_THAT(ParseProtocolName("Noise_XX_25519_ChaChaPoly_SHA256_"),
              StatusIs(StatusCode::kInvalidArgument, "noise.bad_protocol_name"));
  EXPECT_THAT(ParseProtocolName(std::string(300, 'N')),
              StatusIs(StatusCode::kInvalidArgument, "noise.bad_protocol_name"));
  EXPECT_THAT(ParseProtocolName("Noise_XX_P256_ChaChaPoly_SHA256"),
              StatusIs(StatusCode::kUnimplemented, "noise.unsupported_dh"));
  EXPECT_THAT(ParseProtocolName("Noise_XX_25519_XChaChaPoly_SHA256"),
              StatusIs(StatusCode::kUnimplemented, "noise.unsupported_cipher"));
  EXPECT_THAT(ParseProtocolName("Noise_XX_25519_ChaChaPoly_SHA3"),
              StatusIs(StatusCode::kUnimplemented, "noise.unsupported_hash"));
  EXPECT_THAT(ParseProtocolName("noise_XX_25519_ChaChaPoly_SHA256"),
              StatusIs(StatusCode::kInvalidArgument, "noise.bad_protocol_name"));
}

}  // namespace
}  // namespace perimeter::noise
