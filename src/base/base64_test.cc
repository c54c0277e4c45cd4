#include "perimeter/base/base64.h"

#include <gtest/gtest.h>

namespace perimeter {
namespace {

// RFC 4648 section 10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(Base64Encode(AsBytes(plain[i])), coded[i]);
    Result<Bytes> d = Base64Decode(coded[i]);
    ASSERT_TRUE(d.has_value()) << coded[i];
    EXPECT_EQ(*d, ToBytes(plain[i]));
  }
}

TEST(Base64, RoundTripsEveryLength) {
  Bytes b;
  for (int n = 0; n < 300; ++n) {
    EXPECT_EQ(Base64Decode(Base64Encode(b)).value(), b);
    b.push_back(static_cast<std::uint8_t>(n * 37 + 11));
  }
}

TEST(Base64, RejectsNonCanonicalAndMalformed) {
  for (const char* bad : {"Zg=", "Zg", "Zh==", "Zm9=", "Z===", "=Zg=", "Zg==Zg==", "Zm9v\n", "Zm-v", "Zm_v",
                          "Zg=a", "Z m9"}) {
    Result<Bytes> d = Base64Decode(bad);
    ASSERT_FALSE(d.has_value()) << bad;
    EXPECT_EQ(d.error().reason(), "base.bad_base64") << bad;
  }
}

}  // namespace
}  // namespace perimeter
