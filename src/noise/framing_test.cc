#include "perimeter/noise/framing.h"

#include <gtest/gtest.h>

#include "tests/testing/matchers.h"

namespace perimeter::noise {
namespace {

using ::perimeter::testing::StatusIs;

TEST(Framing, EncodesBigEndianLength) {
  Bytes body(300, 0x5a);
  Result<Bytes> f = EncodeFrame(body);
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->size(), 302u);
  EXPECT_EQ((*f)[0], 0x01);
  EXPECT_EQ((*f)[1], 0x2c);
}

TEST(Framing, MaximumAndOversizedBodies) {
  EXPECT_TRUE(EncodeFrame(Bytes(65535)).has_value());
  EXPECT_THAT(EncodeFrame(Bytes(65536)), StatusIs(StatusCode::kInvalidArgument, "noise.frame_too_large"));
}

TEST(Framing, DecodesFramesFedByteByByte) {
  Bytes stream;
  for (std::size_t n : {0u, 1u, 70u, 65535u, 5u}) {
    Bytes body(n);
    for (std::size_t i = 0; i < n; ++i) body[i] = static_cast<std::uint8_t>(i * 7 + n);
    Append(stream, *EncodeFrame(body));
  }
  FrameDecoder d;
  std::vector<Bytes> got;
  for (std::uint8_t b : stream) {
    d.Feed(ByteView(&b, 1));
    while (auto f = d.Next()) got.push_back(std::move(*f));
  }
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].size(), 0u);
  EXPECT_EQ(got[3].size(), 65535u);
  EXPECT_EQ(got[4].size(), 5u);
  EXPECT_EQ(got[2][1], static_cast<std::uint8_t>(7 + 70));
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(Framing, IncompleteFrameWaits) {
  FrameDecoder d;
  Bytes partial = {0x00, 0x05, 1, 2, 3};
  d.Feed(partial);
  EXPECT_FALSE(d.Next().has_value());
  EXPECT_EQ(d.buffered(), 5u);
  Bytes rest = {4, 5};
  d.Feed(rest);
  auto f = d.Next();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(*f, (Bytes{1, 2, 3, 4, 5}));
}

}  // namespace
}  // namespace perimeter::noise
