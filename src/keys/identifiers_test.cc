#include "perimeter/keys/identifiers.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/testing/matchers.h"

namespace perimeter::keys {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

TEST(Identifiers, UserIdFromStaticKeyIsLowercaseHexSha256) {
  // Expected value: python3 -c "import hashlib;
  //   print(hashlib.sha256(bytes(range(0x40,0x60))).hexdigest())"
  Bytes key;
  for (int i = 0x40; i < 0x60; ++i) key.push_back(static_cast<std::uint8_t>(i));
  auto id = UserIdFromStaticKey(key);
  ASSERT_THAT(id, IsOk());
  EXPECT_EQ(*id, "ca2a4fe727faaecf16ecd130a86e0885c5540c05375340445071c0657555fd42");
  EXPECT_THAT(ValidateUserId(*id), IsOk());
}

TEST(Identifiers, UserIdFromStaticKeyRejectsWrongLength) {
  EXPECT_THAT(UserIdFromStaticKey(Bytes(31, 1)),
              StatusIs(StatusCode::kInvalidArgument, "keys.bad_static_key"));
  EXPECT_THAT(UserIdFromStaticKey(Bytes(33, 1)),
              StatusIs(StatusCode::kInvalidArgument, "keys.bad_static_key"));
  EXPECT_THAT(UserIdFromStaticKey(Bytes()),
              StatusIs(StatusCode::kInvalidArgument, "keys.bad_static_key"));
}

TEST(Identifiers, UserIdMustBeCanonical) {
  const std::string good(64, 'a');
  EXPECT_THAT(ValidateUserId(good), IsOk());
  EXPECT_THAT(ValidateUserId(std::string(64, 'A')),
              StatusIs(StatusCode::kInvalidArgument, "keys.bad_user_id"));
  EXPECT_THAT(ValidateUserId(std::string(63, 'a')),
              StatusIs(StatusCode::kInvalidArgument, "keys.bad_user_id"));
  EXPECT_THAT(ValidateUserId(std::string(65, 'a')),
              StatusIs(StatusCode::kInvalidArgument, "keys.bad_user_id"));
  EXPECT_THAT(ValidateUserId(""), StatusIs(StatusCode::kInvalidArgument, "keys.bad_user_id"));
  std::string g = good;
  g[10] = 'g';
  EXPECT_THAT(ValidateUserId(g), StatusIs(StatusCode::kInvalidArgument, "keys.bad_user_id"));
  g[10] = ':';
  EXPECT_THAT(ValidateUserId(g), StatusIs(StatusCode::kInvalidArgument, "keys.bad_user_id"));
}

TEST(Identifiers, PodAndSessionIds) {
  for (const std::string& ok : {std::string("a"), std::string("pod-1"), std::string("Pod_2.x"), std::string(128, 'z')}) {
    EXPECT_THAT(ValidatePodId(ok), IsOk()) << ok;
    EXPECT_THAT(ValidateSessionId(ok), IsOk()) << ok;
  }
  for (const std::string& bad : {std::string(), std::string(129, 'z'), std::string("a:b"),
                          std::string("a b"), std::string("a\nb"), std::string("a/b"),
                          std::string("a\0b", 3), std::string("caf\xc3\xa9")}) {
    EXPECT_THAT(ValidatePodId(bad), StatusIs(StatusCode::kInvalidArgument, "keys.bad_pod_id"));
    EXPECT_THAT(ValidateSessionId(bad),
                StatusIs(StatusCode::kInvalidArgument, "keys.bad_session_id"));
  }
}

}  // namespace
}  // namespace perimeter::keys
