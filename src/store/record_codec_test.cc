#include "store/record_codec.h"

#include <gtest/gtest.h>

#include "perimeter/store/record_store.h"
#include "tests/testing/matchers.h"

namespace perimeter::store::internal {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

TEST(RecordCodec, AadIsCanonicalLengthPrefixedEncoding) {
  Bytes aad;
  EncodeRecordAad(1, "ab", "k\x01", 258, aad);
  // Written out by hand from docs/storage-format.md.
  Bytes expected = {0, 0, 0, 29};
  Append(expected, AsBytes("secure-perimeter/store/record"));
  const std::uint8_t rest[] = {0, 0, 0, 1,    // format version
                               0, 0, 0, 2,    'a', 'b',  // user_id
                               0, 0, 0, 2,    'k', 1,    // record key
                               0, 0, 1, 2};   // generation 258
  Append(expected, ByteView(rest));
  EXPECT_EQ(HexEncode(aad), HexEncode(expected));
}

TEST(RecordCodec, AadSeparatesFieldBoundaries) {
  // Moving a byte between user_id and key changes the AAD.
  Bytes a, b;
  EncodeRecordAad(1, "ab", "c", 1, a);
  EncodeRecordAad(1, "a", "bc", 1, b);
  EXPECT_NE(a, b);
  EncodeRecordAad(1, "ab", "c", 2, b);
  EXPECT_NE(a, b);
  EncodeRecordAad(2, "ab", "c", 1, b);
  EXPECT_NE(a, b);
}

TEST(RecordCodec, PageTokenRoundTripAndRejectsGarbage) {
  for (std::string key : {std::string("a"), std::string("\0\xff", 2), std::string(1024, 'k')}) {
    auto back = DecodePageToken(EncodePageToken(key));
    ASSERT_THAT(back, IsOk());
    EXPECT_EQ(*back, key);
  }
  for (std::string bad : {std::string("!!!!"), std::string("AQ="), std::string("AQ"),
                          std::string("Ag=="),  // version 2
                          std::string("AQ=="),  // version 1, empty key
                          EncodePageToken(std::string(1025, 'k'))}) {
    EXPECT_THAT(DecodePageToken(bad),
                StatusIs(StatusCode::kInvalidArgument, "store.bad_page_token"))
        << bad;
  }
}

TEST(RecordCodec, PrefixUpperBound) {
  EXPECT_EQ(PrefixUpperBound(""), "");
  EXPECT_EQ(PrefixUpperBound("a"), "b");
  EXPECT_EQ(PrefixUpperBound("a%"), "a&");
  EXPECT_EQ(PrefixUpperBound(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(PrefixUpperBound(std::string("\xff\xff", 2)), "");
}

}  // namespace
}  // namespace perimeter::store::internal
