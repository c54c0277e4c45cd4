#include "perimeter/base/bytes.h"

#include <gtest/gtest.h>

#include <ostream>
#include <type_traits>

#include "perimeter/base/secret_bytes.h"

namespace perimeter {
namespace {

TEST(Hex, RoundTrips) {
  Bytes b = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(HexEncode(b), "0001abff");
  Result<Bytes> d = HexDecode("0001ABff");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, b);
  EXPECT_TRUE(HexDecode("").has_value());
}

TEST(Hex, RejectsOddLengthAndBadDigits) {
  EXPECT_EQ(HexDecode("abc").error().reason(), "base.bad_hex");
  EXPECT_EQ(HexDecode("zz").error().reason(), "base.bad_hex");
  EXPECT_EQ(HexDecode("0g").error().reason(), "base.bad_hex");
}

TEST(BigEndian, LoadStore16) {
  std::uint8_t buf[2];
  StoreBigEndian16(buf, 0x1234);
  EXPECT_EQ(buf[0], 0x12);
  EXPECT_EQ(buf[1], 0x34);
  EXPECT_EQ(LoadBigEndian16(buf), 0x1234);
}

TEST(SecretBytes, ClearWipesAndEmpties) {
  SecretBytes s(AsBytes("key material"));
  EXPECT_EQ(s.size(), 12u);
  s.clear();
  EXPECT_TRUE(s.empty());
}

TEST(SecretBytes, MoveLeavesSourceEmpty) {
  SecretBytes a(AsBytes("abc"));
  SecretBytes b(std::move(a));
  EXPECT_EQ(b.size(), 3u);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checked on purpose
}

template <typename T, typename = void>
struct IsStreamable : std::false_type {};
template <typename T>
struct IsStreamable<T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<const T&>())>>
    : std::true_type {};
template <typename T, typename = void>
struct IsEqualityComparable : std::false_type {};
template <typename T>
struct IsEqualityComparable<T, std::void_t<decltype(std::declval<const T&>() == std::declval<const T&>())>>
    : std::true_type {};

// Secrets cannot be printed (so never logged by accident) nor compared with a
// variable-time operator== (crypto::ConstantTimeEquals is the only way).
TEST(SecretBytes, CannotBePrintedOrComparedInVariableTime) {
  static_assert(!IsStreamable<SecretBytes>::value);
  static_assert(!IsStreamable<SecretArray<32>>::value);
  static_assert(!IsEqualityComparable<SecretBytes>::value);
  static_assert(!IsEqualityComparable<SecretArray<32>>::value);
  // The detectors themselves work: Bytes is comparable, Status printable.
  static_assert(IsEqualityComparable<Bytes>::value);
  static_assert(IsStreamable<Status>::value);
  SUCCEED();
}

TEST(SecureWipe, ZeroesMemory) {
  std::uint8_t buf[16];
  for (auto& c : buf) c = 0xaa;
  SecureWipe(buf, sizeof(buf));
  for (auto c : buf) EXPECT_EQ(c, 0);
}

}  // namespace
}  // namespace perimeter
