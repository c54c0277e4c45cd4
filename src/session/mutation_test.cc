// Every truncation and every single-bit flip of every sample message either
// decodes to a different valid message (which then re-encodes to exactly the
// mutated bytes: the encoding is canonical) or is rejected with a session.*
// reason. Never a crash, never an accepted non-canonical encoding.
#include <gtest/gtest.h>

#include <string>

#include "perimeter/session/codec.h"
#include "perimeter/session/chunker.h"
#include "perimeter/session/message_reader.h"
#include "session/sample_messages.h"
#include "tests/testing/matchers.h"

namespace perimeter::session {
namespace {

void ExpectRejectedOrCanonical(ByteView mutated, const Bytes& original) {
  Result<Record> r = DecodeRecord(mutated);
  if (!r.has_value()) {
    EXPECT_EQ(r.error().reason().substr(0, 8), "session.") << r.error();
    return;
  }
  EXPECT_FALSE(std::equal(mutated.begin(), mutated.end(), original.begin(), original.end()));
  Result<Bytes> again = EncodeRecord(*r);
  ASSERT_TRUE(again.has_value()) << again.error();
  EXPECT_TRUE(std::equal(again->begin(), again->end(), mutated.begin(), mutated.end())) << HexEncode(mutated);
}

TEST(SessionMutation, EveryTruncationIsRejected) {
  for (const Message& m : testing::SampleMessages()) {
    const Bytes enc = *EncodeMessage(m);
    for (std::size_t n = 0; n < enc.size(); ++n) {
      Result<Record> r = DecodeRecord(ByteView(enc).first(n));
      // A shorter prefix can be valid only if the message ended there, which a
      // canonical encoding with explicit lengths rules out.
      EXPECT_FALSE(r.has_value()) << HexEncode(enc) << " cut at " << n;
    }
  }
}

TEST(SessionMutation, EveryBitFlipIsRejectedOrCanonical) {
  std::size_t accepted = 0;
  std::size_t total = 0;
  for (const Message& m : testing::SampleMessages()) {
    const Bytes enc = *EncodeMessage(m);
    for (std::size_t bit = 0; bit < enc.size() * 8; ++bit) {
      Bytes mutated = enc;
      mutated[bit / 8] = static_cast<std::uint8_t>(mutated[bit / 8] ^ (1u << (bit % 8)));
      Result<Record> r = DecodeRecord(mutated);
      ++total;
      if (r.has_value()) ++accepted;
      ExpectRejectedOrCanonical(mutated, enc);
    }
  }
  // Flips inside ids, keys and values give other valid messages; flips in
  // types, lengths and codes do not. Both kinds must occur.
  EXPECT_GT(accepted, 0u);
  EXPECT_LT(accepted, total);
}

TEST(SessionMutation, ChunkRecordsTruncatedOrFlipped) {
  Bytes value(70000, 0x42);
  const Bytes msg = *EncodeRequest(Request{9, PutRequest{"big", value}});
  const std::vector<Bytes> records = SplitIntoRecords(msg).value();
  ASSERT_EQ(records.size(), 2u);
  for (const Bytes& rec : records) {
    // Every truncation of a chunk record changes its data size, which the
    // canonical rule fixes: always rejected.
    for (std::size_t n = 0; n < rec.size(); n += (n < 64 ? 1 : 997)) {
      EXPECT_FALSE(DecodeRecord(ByteView(rec).first(n)).has_value()) << n;
    }
    // Header flips (the data is opaque to the chunk layer).
    for (std::size_t bit = 0; bit < kChunkHeaderSize * 8; ++bit) {
      Bytes mutated = rec;
      mutated[bit / 8] = static_cast<std::uint8_t>(mutated[bit / 8] ^ (1u << (bit % 8)));
      ExpectRejectedOrCanonical(mutated, rec);
    }
  }
  // Through the reader, a flipped header anywhere in either chunk never
  // yields the original message.
  for (std::size_t which = 0; which < 2; ++which) {
    for (std::size_t bit = 0; bit < kChunkHeaderSize * 8; ++bit) {
      MessageReader reader(MessageReader::Sender::kClient);
      std::vector<Bytes> recs = records;
      recs[which][bit / 8] = static_cast<std::uint8_t>(recs[which][bit / 8] ^ (1u << (bit % 8)));
      bool failed = false;
      std::optional<Message> got;
      for (const Bytes& r : recs) {
        Result<std::optional<Message>> out = reader.OnRecord(r);
        if (!out.has_value()) {
          failed = true;
          break;
        }
        if (out->has_value()) got = std::move(**out);
      }
      EXPECT_TRUE(failed || !got.has_value()) << "chunk " << which << " bit " << bit;
    }
  }
}

}  // namespace
}  // namespace perimeter::session
