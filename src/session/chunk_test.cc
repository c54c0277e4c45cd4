#include <gtest/gtest.h>

#include <string>

#include "perimeter/session/chunk_assembler.h"
#include "perimeter/session/chunker.h"
#include "perimeter/session/codec.h"
#include "perimeter/session/limits.h"
#include "perimeter/session/message_reader.h"
#include "tests/testing/matchers.h"

namespace perimeter::session {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

// An encoded request of exactly `size` bytes (size >= 13): a put of key "k".
Bytes RequestOfSize(std::uint32_t id, std::size_t size) {
  Bytes value(size - 13);
  for (std::size_t i = 0; i < value.size(); ++i) value[i] = static_cast<std::uint8_t>(i * 31 + id);
  Bytes out = EncodeRequest(Request{id, PutRequest{"k", value}}).value();
  EXPECT_EQ(out.size(), size);
  return out;
}

// Sends `message` through Chunker and a reader; returns what came out.
Message RoundTrip(const Bytes& message, std::size_t expected_records) {
  std::vector<Bytes> records = SplitIntoRecords(message).value();
  EXPECT_EQ(records.size(), expected_records);
  MessageReader reader(MessageReader::Sender::kClient);
  std::optional<Message> out;
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_LE(records[i].size(), kMaxRecordSize);
    Result<std::optional<Message>> r = reader.OnRecord(records[i]);
    EXPECT_THAT(r, IsOk());
    if (!r.has_value()) return Close{};
    EXPECT_EQ(r->has_value(), i + 1 == records.size());
    if (r->has_value()) out = std::move(**r);
  }
  EXPECT_EQ(reader.assembler().partial_messages(), 0u);
  EXPECT_EQ(reader.assembler().buffered_bytes(), 0u);
  return out.value_or(Close{});
}

TEST(SessionChunking, Boundaries) {
  // Value sizes: 0, and the message sizes 65519 (one record), 65520 (two).
  const Bytes empty_value = *EncodeRequest(Request{1, PutRequest{"k", {}}});
  EXPECT_EQ(RoundTrip(empty_value, 1), DecodeMessage(empty_value).value());
  const Bytes at = RequestOfSize(2, kMaxRecordSize);
  EXPECT_EQ(SplitIntoRecords(at).value()[0], at);  // not chunked: the record is the message
  EXPECT_EQ(RoundTrip(at, 1), DecodeMessage(at).value());
  const Bytes over = RequestOfSize(3, kMaxRecordSize + 1);
  EXPECT_EQ(RoundTrip(over, 2), DecodeMessage(over).value());
  const Bytes two_full = RequestOfSize(4, 2 * kMaxChunkDataSize);
  EXPECT_EQ(RoundTrip(two_full, 2), DecodeMessage(two_full).value());
  const Bytes two_plus = RequestOfSize(5, 2 * kMaxChunkDataSize + 1);
  EXPECT_EQ(RoundTrip(two_plus, 3), DecodeMessage(two_plus).value());
  // A 1 MiB value (and the largest legal message).
  const Bytes mib = *EncodeRequest(Request{6, PutRequest{std::string(kMaxKeySize, 'k'), Bytes(kMaxValueSize, 1)}});
  EXPECT_EQ(RoundTrip(mib, 17), DecodeMessage(mib).value());
  const Bytes get_mib = *EncodeResponse(Response::Ok(7, GetResult{Bytes(kMaxValueSize, 2)}));
  std::vector<Bytes> recs = SplitIntoRecords(get_mib).value();
  MessageReader client_side(MessageReader::Sender::kServer);
  std::optional<Message> got;
  for (const Bytes& r : recs) {
    auto out = client_side.OnRecord(r);
    ASSERT_THAT(out, IsOk());
    if (out->has_value()) got = **out;
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::get<GetResult>(*std::get<Response>(*got).result).value.size(), kMaxValueSize);
  // 1 MiB + 1 is refused by the encoder; the chunker refuses oversize bytes.
  EXPECT_THAT(EncodeRequest(Request{8, PutRequest{"k", Bytes(kMaxValueSize + 1)}}),
              StatusIs(StatusCode::kInvalidArgument, "session.value_too_large"));
  Bytes huge(kMaxMessageSize + 1, 0);
  huge[0] = 0x01;
  huge[4] = 1;
  EXPECT_THAT(Chunker::New(huge), StatusIs(StatusCode::kResourceExhausted, "session.message_too_large"));
  EXPECT_THAT(Chunker::New(Bytes{}), StatusIs(StatusCode::kInvalidArgument, "session.empty_message"));
  EXPECT_THAT(Chunker::New(*EncodeClose(Close{StatusCode::kInternal, "session.internal"})),
              StatusIs(StatusCode::kInvalidArgument, "session.unknown_type"));
}

TEST(SessionChunking, ChunkHeaderRules) {
  const Bytes msg = RequestOfSize(1, 100000);
  std::vector<Bytes> recs = SplitIntoRecords(msg).value();
  Chunk c = DecodeChunk(recs[0]).value();
  EXPECT_EQ(c.total_length, 100000u);
  EXPECT_EQ(c.count, 2);

  Chunk small = c;  // a total that fits one record must not be chunked
  small.total_length = kMaxRecordSize;
  small.count = 1;
  small.data.resize(kMaxRecordSize);
  EXPECT_THAT(EncodeChunk(small), StatusIs(StatusCode::kInvalidArgument, "session.bad_chunk_total"));
  Chunk big = c;  // a total over 1 MiB + overhead
  big.total_length = static_cast<std::uint32_t>(kMaxMessageSize + 1);
  big.count = 17;
  EXPECT_THAT(EncodeChunk(big), StatusIs(StatusCode::kResourceExhausted, "session.message_too_large"));
  Chunk count = c;
  count.count = 3;
  EXPECT_THAT(EncodeChunk(count), StatusIs(StatusCode::kInvalidArgument, "session.bad_chunk_count"));
  Chunk index = c;
  index.index = 2;
  EXPECT_THAT(EncodeChunk(index), StatusIs(StatusCode::kInvalidArgument, "session.bad_chunk_index"));
  Chunk longer = c;  // more data than its place allows: exceeds the declared total
  longer.data.push_back(0);
  EXPECT_THAT(EncodeChunk(longer), StatusIs(StatusCode::kInvalidArgument, "session.bad_chunk_size"));
  Chunk last = DecodeChunk(recs[1]).value();
  last.data.push_back(0);
  EXPECT_THAT(EncodeChunk(last), StatusIs(StatusCode::kInvalidArgument, "session.bad_chunk_size"));
  Bytes rec_longer = recs[1];
  rec_longer.push_back(0);
  EXPECT_THAT(DecodeRecord(rec_longer), StatusIs(StatusCode::kInvalidArgument, "session.bad_chunk_size"));
  Bytes oversize = recs[0];
  oversize.push_back(0);
  EXPECT_THAT(DecodeRecord(oversize), StatusIs(StatusCode::kInvalidArgument, "session.record_too_large"));
  Chunk zero = c;
  zero.message_id = 0;
  EXPECT_THAT(EncodeChunk(zero), StatusIs(StatusCode::kInvalidArgument, "session.bad_request_id"));
  EXPECT_THAT(DecodeRecord(ByteView(recs[0]).first(12)), StatusIs(StatusCode::kInvalidArgument, "session.truncated"));
}

class AssemblerTest : public ::testing::Test {
 protected:
  // Chunks of a request of `size` bytes with id `id`.
  static std::vector<Chunk> Chunks(std::uint32_t id, std::size_t size) {
    std::vector<Chunk> out;
    const std::vector<Bytes> records = SplitIntoRecords(RequestOfSize(id, size)).value();
    for (const Bytes& r : records) out.push_back(DecodeChunk(r).value());
    return out;
  }
  // Chunks of the largest legal message: a put of a 1 KiB key and 1 MiB value.
  static std::vector<Chunk> MaxPutChunks(std::uint32_t id) {
    const Bytes msg = EncodeRequest(Request{id, PutRequest{std::string(kMaxKeySize, 'k'), Bytes(kMaxValueSize)}}).value();
    const std::vector<Bytes> records = SplitIntoRecords(msg).value();
    std::vector<Chunk> out;
    for (const Bytes& r : records) out.push_back(DecodeChunk(r).value());
    return out;
  }
};

TEST_F(AssemblerTest, OutOfOrderRejected) {
  auto c = Chunks(1, 200000);  // 4 chunks
  ASSERT_EQ(c.size(), 4u);
  ChunkAssembler a;
  EXPECT_THAT(a.Add(c[1]), StatusIs(StatusCode::kInvalidArgument, "session.chunk_out_of_order"));
  EXPECT_TRUE(a.failed());
  EXPECT_THAT(a.Add(c[0]), StatusIs(StatusCode::kFailedPrecondition, "session.assembler_failed"));

  ChunkAssembler b;
  ASSERT_THAT(b.Add(c[0]), IsOk());
  EXPECT_THAT(b.Add(c[2]), StatusIs(StatusCode::kInvalidArgument, "session.chunk_out_of_order"));
  EXPECT_EQ(b.partial_messages(), 0u);  // dropped on failure
  EXPECT_EQ(b.buffered_bytes(), 0u);
}

TEST_F(AssemblerTest, DuplicateRejected) {
  auto c = Chunks(1, 200000);
  ChunkAssembler a;
  ASSERT_THAT(a.Add(c[0]), IsOk());
  ASSERT_THAT(a.Add(c[1]), IsOk());
  EXPECT_THAT(a.Add(c[1]), StatusIs(StatusCode::kInvalidArgument, "session.duplicate_chunk"));
  ChunkAssembler b;
  ASSERT_THAT(b.Add(c[0]), IsOk());
  EXPECT_THAT(b.Add(c[0]), StatusIs(StatusCode::kInvalidArgument, "session.duplicate_chunk"));
}

TEST_F(AssemblerTest, HeaderMismatchAndIdMismatch) {
  auto c = Chunks(1, 200000);
  auto d = Chunks(1, 140000);  // same id, different total (3 chunks)
  ChunkAssembler a;
  ASSERT_THAT(a.Add(c[0]), IsOk());
  EXPECT_THAT(a.Add(d[1]), StatusIs(StatusCode::kInvalidArgument, "session.chunk_header_mismatch"));
  Chunk relabelled = c[0];
  relabelled.message_id = 99;  // the carried message still says id 1
  ChunkAssembler b;
  EXPECT_THAT(b.Add(relabelled), StatusIs(StatusCode::kInvalidArgument, "session.chunk_id_mismatch"));
  Chunk close_inside = c[0];
  close_inside.data[0] = 0x03;
  ChunkAssembler e;
  EXPECT_THAT(e.Add(close_inside), StatusIs(StatusCode::kInvalidArgument, "session.unknown_type"));
}

TEST_F(AssemblerTest, InterleavingAndPartialLimit) {
  ChunkAssembler a;
  std::vector<std::vector<Chunk>> msgs;
  for (std::uint32_t id = 1; id <= kMaxPartialMessages + 1; ++id) msgs.push_back(Chunks(id, 140000));
  for (std::size_t i = 0; i < kMaxPartialMessages; ++i) ASSERT_THAT(a.Add(msgs[i][0]), IsOk());
  EXPECT_EQ(a.partial_messages(), kMaxPartialMessages);
  EXPECT_EQ(a.buffered_bytes(), kMaxPartialMessages * 140000);
  // Interleaved completion works.
  ASSERT_THAT(a.Add(msgs[1][1]), IsOk());
  ASSERT_THAT(a.Add(msgs[0][1]), IsOk());
  auto done = a.Add(msgs[1][2]);
  ASSERT_THAT(done, IsOk());
  ASSERT_TRUE(done->has_value());
  EXPECT_EQ(DecodeRequest(**done).value().id, 2u);
  ASSERT_THAT(a.Add(msgs[4][0]), IsOk());  // room again
  EXPECT_THAT(a.Add(Chunks(77, 140000)[0]),
              StatusIs(StatusCode::kResourceExhausted, "session.too_many_partial_messages"));
}

TEST_F(AssemblerTest, BufferLimit) {
  ChunkAssembler::Limits limits;
  limits.max_buffered_bytes = 300000;
  ChunkAssembler a(limits);
  ASSERT_THAT(a.Add(Chunks(1, 200000)[0]), IsOk());
  EXPECT_THAT(a.Add(Chunks(2, 100001)[0]), StatusIs(StatusCode::kResourceExhausted, "session.buffer_limit"));
  ChunkAssembler b(limits);
  ASSERT_THAT(b.Add(Chunks(1, 200000)[0]), IsOk());
  EXPECT_THAT(b.Add(Chunks(2, 100000)[0]), IsOk());  // exactly at the limit
  // The default limit admits two maximal messages at once, not three.
  ChunkAssembler c;
  ASSERT_THAT(c.Add(MaxPutChunks(1)[0]), IsOk());
  ASSERT_THAT(c.Add(MaxPutChunks(2)[0]), IsOk());
  EXPECT_EQ(c.buffered_bytes(), 2u * 1049612u);
  EXPECT_THAT(c.Add(MaxPutChunks(3)[0]), StatusIs(StatusCode::kResourceExhausted, "session.buffer_limit"));
}

TEST_F(AssemblerTest, MessageSizeLimit) {
  ChunkAssembler::Limits limits;
  limits.max_message_size = 100000;
  ChunkAssembler a(limits);
  EXPECT_THAT(a.Add(Chunks(1, 100001)[0]), StatusIs(StatusCode::kResourceExhausted, "session.message_too_large"));
}

TEST(SessionReader, DirectionIsEnforced) {
  MessageReader server(MessageReader::Sender::kClient);
  EXPECT_THAT(server.OnRecord(*EncodeResponse(Response::Ok(1, PutResult{}))),
              StatusIs(StatusCode::kInvalidArgument, "session.unexpected_type"));
  EXPECT_THAT(server.OnRecord(*EncodeRequest(Request{1, WhoamiRequest{}})),
              StatusIs(StatusCode::kFailedPrecondition, "session.reader_failed"));
  MessageReader server2(MessageReader::Sender::kClient);
  EXPECT_THAT(server2.OnRecord(*EncodeClose(Close{StatusCode::kInternal, "session.internal"})),
              StatusIs(StatusCode::kInvalidArgument, "session.unexpected_type"));
  MessageReader client(MessageReader::Sender::kServer);
  EXPECT_THAT(client.OnRecord(*EncodeRequest(Request{1, WhoamiRequest{}})),
              StatusIs(StatusCode::kInvalidArgument, "session.unexpected_type"));
  // A chunked response sent by a client is refused at its first chunk.
  MessageReader server3(MessageReader::Sender::kClient);
  Bytes resp = *EncodeResponse(Response::Ok(5, GetResult{Bytes(70000)}));
  EXPECT_THAT(server3.OnRecord(SplitIntoRecords(resp).value()[0]),
              StatusIs(StatusCode::kInvalidArgument, "session.unexpected_type"));
  MessageReader client2(MessageReader::Sender::kServer);
  auto close = client2.OnRecord(*EncodeClose(Close{StatusCode::kUnavailable, "session.server_shutdown"}));
  ASSERT_THAT(close, IsOk());
  EXPECT_EQ(std::get<Close>(**close).reason, "session.server_shutdown");
}

TEST(SessionReader, WholeMessagesBetweenChunks) {
  MessageReader server(MessageReader::Sender::kClient);
  std::vector<Bytes> big = SplitIntoRecords(RequestOfSize(1, 70000)).value();
  ASSERT_THAT(server.OnRecord(big[0]), IsOk());
  auto small = server.OnRecord(*EncodeRequest(Request{2, GetRequest{"a"}}));
  ASSERT_THAT(small, IsOk());
  EXPECT_EQ(std::get<Request>(**small).id, 2u);
  auto done = server.OnRecord(big[1]);
  ASSERT_THAT(done, IsOk());
  EXPECT_EQ(std::get<Request>(**done).id, 1u);
}

}  // namespace
}  // namespace perimeter::session
