#include "perimeter/session/codec.h"

#include <gtest/gtest.h>

#include <string>

#include "perimeter/session/limits.h"
#include "session/sample_messages.h"
#include "tests/testing/matchers.h"

namespace perimeter::session {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

TEST(SessionCodec, EveryMessageRoundTrips) {
  for (const Message& m : testing::SampleMessages()) {
    Result<Bytes> enc = EncodeMessage(m);
    ASSERT_THAT(enc, IsOk());
    Result<Message> dec = DecodeMessage(*enc);
    ASSERT_THAT(dec, IsOk()) << HexEncode(*enc);
    EXPECT_EQ(*dec, m) << HexEncode(*enc);
    // As a record, too (all samples fit one record).
    Result<Record> rec = DecodeRecord(*enc);
    ASSERT_THAT(rec, IsOk());
    Result<Bytes> again = EncodeMessage(*dec);
    ASSERT_THAT(again, IsOk());
    EXPECT_EQ(*again, *enc);
  }
}

TEST(SessionCodec, TypedDecodersRefuseOtherTypes) {
  Bytes req = *EncodeRequest(Request{1, WhoamiRequest{}});
  EXPECT_THAT(DecodeResponse(req), StatusIs(StatusCode::kInvalidArgument, "session.unknown_type"));
  EXPECT_THAT(DecodeClose(req), StatusIs(StatusCode::kInvalidArgument, "session.unknown_type"));
  EXPECT_THAT(DecodeChunk(req), StatusIs(StatusCode::kInvalidArgument, "session.unknown_type"));
  Bytes close = *EncodeClose(Close{StatusCode::kInternal, "session.internal"});
  EXPECT_THAT(DecodeRequest(close), StatusIs(StatusCode::kInvalidArgument, "session.unknown_type"));
}

TEST(SessionCodec, UnknownTypeAndOperation) {
  for (int ti : {0x00, 0x05, 0x80, 0xff}) {
    const auto t = static_cast<std::uint8_t>(ti);
    Bytes b = {t, 0, 0, 0, 1, 1};
    EXPECT_THAT(DecodeRecord(b), StatusIs(StatusCode::kInvalidArgument, "session.unknown_type")) << int{t};
  }
  for (int opi : {0x00, 0x06, 0xff}) {
    const auto op = static_cast<std::uint8_t>(opi);
    Bytes b = {0x01, 0, 0, 0, 1, op};
    EXPECT_THAT(DecodeRecord(b), StatusIs(StatusCode::kInvalidArgument, "session.unknown_operation"));
    Bytes r = {0x02, 0, 0, 0, 1, op, 0, 0};
    EXPECT_THAT(DecodeRecord(r), StatusIs(StatusCode::kInvalidArgument, "session.unknown_operation"));
  }
  EXPECT_THAT(DecodeRecord(Bytes{}), StatusIs(StatusCode::kInvalidArgument, "session.empty_record"));
}

TEST(SessionCodec, RequestIdZeroIsReserved) {
  EXPECT_THAT(EncodeRequest(Request{0, WhoamiRequest{}}), StatusIs(StatusCode::kInvalidArgument, "session.bad_request_id"));
  EXPECT_THAT(DecodeRecord(Bytes{0x01, 0, 0, 0, 0, 0x01}),
              StatusIs(StatusCode::kInvalidArgument, "session.bad_request_id"));
  EXPECT_THAT(EncodeResponse(Response::Ok(0, PutResult{})),
              StatusIs(StatusCode::kInvalidArgument, "session.bad_request_id"));
}

TEST(SessionCodec, TrailingBytesRejected) {
  for (const Message& m : testing::SampleMessages()) {
    Bytes enc = *EncodeMessage(m);
    enc.push_back(0);
    Result<Message> dec = DecodeMessage(enc);
    EXPECT_FALSE(dec.has_value()) << HexEncode(enc);
  }
  // Each way a body can have extra bytes has its own reason.
  Bytes whoami = {0x01, 0, 0, 0, 1, 0x01, 0x00};
  EXPECT_THAT(DecodeRecord(whoami), StatusIs(StatusCode::kInvalidArgument, "session.trailing_bytes"));
  Bytes err = *EncodeResponse(Response::Error(1, Operation::kGet, StatusCode::kNotFound, "workload.not_found"));
  err.push_back(0);
  EXPECT_THAT(DecodeRecord(err), StatusIs(StatusCode::kInvalidArgument, "session.unexpected_body"));
}

TEST(SessionCodec, KeyLimits) {
  const std::string max_key(kMaxKeySize, 'k');
  EXPECT_THAT(EncodeRequest(Request{1, GetRequest{max_key}}), IsOk());
  EXPECT_THAT(EncodeRequest(Request{1, GetRequest{max_key + "k"}}),
              StatusIs(StatusCode::kInvalidArgument, "session.key_too_long"));
  EXPECT_THAT(EncodeRequest(Request{1, GetRequest{""}}), StatusIs(StatusCode::kInvalidArgument, "session.empty_key"));
  EXPECT_THAT(EncodeRequest(Request{1, ListRequest{"", {}, 5}}), IsOk());  // an empty prefix is fine
  EXPECT_THAT(EncodeRequest(Request{1, ListRequest{max_key + "k", {}, 5}}),
              StatusIs(StatusCode::kInvalidArgument, "session.key_too_long"));
  // A length field over the limit is refused before the bytes are read.
  Bytes b = {0x01, 0, 0, 0, 1, 0x03, 0x04, 0x01};
  EXPECT_THAT(DecodeRecord(b), StatusIs(StatusCode::kInvalidArgument, "session.key_too_long"));
  Bytes empty_key = {0x01, 0, 0, 0, 1, 0x03, 0x00, 0x00};
  EXPECT_THAT(DecodeRecord(empty_key), StatusIs(StatusCode::kInvalidArgument, "session.empty_key"));
}

TEST(SessionCodec, KeysMustBeWellFormedUtf8) {
  const char* bad[] = {"\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                       "\xf8\x88\x80\x80\x80", "a\xc3", "\xff"};
  for (const char* k : bad) {
    EXPECT_THAT(EncodeRequest(Request{1, GetRequest{k}}), StatusIs(StatusCode::kInvalidArgument, "session.bad_utf8"))
        << HexEncode(AsBytes(k));
  }
  const char* good[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
                        "\xed\x9f\xbf"};
  for (const char* k : good) EXPECT_THAT(EncodeRequest(Request{1, GetRequest{k}}), IsOk()) << k;
}

TEST(SessionCodec, ValueLimits) {
  EXPECT_THAT(EncodeRequest(Request{1, PutRequest{"k", Bytes(kMaxValueSize)}}), IsOk());
  EXPECT_THAT(EncodeRequest(Request{1, PutRequest{"k", Bytes(kMaxValueSize + 1)}}),
              StatusIs(StatusCode::kInvalidArgument, "session.value_too_large"));
  EXPECT_THAT(EncodeResponse(Response::Ok(1, GetResult{Bytes(kMaxValueSize + 1)})),
              StatusIs(StatusCode::kInvalidArgument, "session.value_too_large"));
  // A declared value length over 1 MiB is refused without reading further.
  Bytes b = {0x01, 0, 0, 0, 1, 0x02, 0x00, 0x01, 'k', 0x00, 0x10, 0x00, 0x01};
  EXPECT_THAT(DecodeRecord(b), StatusIs(StatusCode::kInvalidArgument, "session.value_too_large"));
  // A declared length larger than what follows is truncation.
  Bytes t = {0x01, 0, 0, 0, 1, 0x02, 0x00, 0x01, 'k', 0x00, 0x00, 0x00, 0x05, 1, 2};
  EXPECT_THAT(DecodeRecord(t), StatusIs(StatusCode::kInvalidArgument, "session.truncated"));
  // The biggest legal message still fits under kMaxMessageSize.
  Result<Bytes> biggest = EncodeRequest(Request{1, PutRequest{std::string(kMaxKeySize, 'k'), Bytes(kMaxValueSize)}});
  ASSERT_THAT(biggest, IsOk());
  EXPECT_EQ(biggest->size(), 1049612u);
  EXPECT_LE(biggest->size(), kMaxMessageSize);
  EXPECT_THAT(DecodeRequest(*biggest), IsOk());
  Bytes too_big(kMaxMessageSize + 1, 0);
  too_big[0] = 0x01;
  EXPECT_THAT(DecodeRequest(too_big), StatusIs(StatusCode::kResourceExhausted, "session.message_too_large"));
}

TEST(SessionCodec, ListLimits) {
  EXPECT_THAT(EncodeRequest(Request{1, ListRequest{"", {}, 0}}), StatusIs(StatusCode::kInvalidArgument, "session.bad_limit"));
  EXPECT_THAT(EncodeRequest(Request{1, ListRequest{"", {}, 1001}}),
              StatusIs(StatusCode::kInvalidArgument, "session.bad_limit"));
  EXPECT_THAT(EncodeRequest(Request{1, ListRequest{"", Bytes(257), 1}}),
              StatusIs(StatusCode::kInvalidArgument, "session.page_token_too_long"));
  EXPECT_THAT(EncodeRequest(Request{1, ListRequest{"", Bytes(256), 1}}), IsOk());
  ListResult full;
  for (int i = 0; i < 1000; ++i) full.keys.push_back(std::string(kMaxKeySize - 4, 'k') + std::to_string(1000 + i));
  full.next_page_token = Bytes(256, 7);
  Result<Bytes> enc = EncodeResponse(Response::Ok(1, full));
  ASSERT_THAT(enc, IsOk());
  EXPECT_LE(enc->size(), kMaxMessageSize);
  Result<Response> dec = DecodeResponse(*enc);
  ASSERT_THAT(dec, IsOk());
  EXPECT_EQ(std::get<ListResult>(*dec->result), full);
  full.keys.push_back("one-more");
  EXPECT_THAT(EncodeResponse(Response::Ok(1, full)), StatusIs(StatusCode::kInvalidArgument, "session.too_many_keys"));
  // A count the remaining bytes cannot hold is refused before reserving.
  Bytes b = {0x02, 0, 0, 0, 1, 0x05, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x01, 'a'};
  EXPECT_THAT(DecodeRecord(b), StatusIs(StatusCode::kInvalidArgument, "session.truncated"));
  Bytes c = {0x02, 0, 0, 0, 1, 0x05, 0x00, 0x00, 0x03, 0xe9};
  EXPECT_THAT(DecodeRecord(c), StatusIs(StatusCode::kInvalidArgument, "session.too_many_keys"));
}

TEST(SessionCodec, StatusAndReasonRules) {
  EXPECT_THAT(EncodeResponse(Response::Error(1, Operation::kGet, StatusCode::kNotFound, "")),
              StatusIs(StatusCode::kInvalidArgument, "session.bad_reason"));
  EXPECT_THAT(EncodeResponse(Response::Error(1, Operation::kGet, StatusCode::kNotFound, "Not.Found")),
              StatusIs(StatusCode::kInvalidArgument, "session.bad_reason"));
  EXPECT_THAT(EncodeResponse(Response::Error(1, Operation::kGet, StatusCode::kNotFound, std::string(65, 'a'))),
              StatusIs(StatusCode::kInvalidArgument, "session.bad_reason"));
  EXPECT_THAT(EncodeResponse(Response::Error(1, Operation::kGet, StatusCode::kNotFound, std::string(64, 'a'))), IsOk());
  Response ok_with_reason = Response::Ok(1, PutResult{});
  ok_with_reason.reason = "x";
  EXPECT_THAT(EncodeResponse(ok_with_reason), StatusIs(StatusCode::kInvalidArgument, "session.bad_reason"));
  Response ok_without_result = Response::Ok(1, PutResult{});
  ok_without_result.result.reset();
  EXPECT_THAT(EncodeResponse(ok_without_result), StatusIs(StatusCode::kInvalidArgument, "session.unexpected_body"));
  Response mismatched = Response::Ok(1, PutResult{});
  mismatched.operation = Operation::kGet;
  EXPECT_THAT(EncodeResponse(mismatched), StatusIs(StatusCode::kInvalidArgument, "session.unexpected_body"));
  Response bad_code = Response::Error(1, Operation::kGet, static_cast<StatusCode>(12), "x");
  EXPECT_THAT(EncodeResponse(bad_code), StatusIs(StatusCode::kInvalidArgument, "session.bad_status"));
  EXPECT_THAT(EncodeClose(Close{StatusCode::kOk, ""}), StatusIs(StatusCode::kInvalidArgument, "session.bad_status"));
  EXPECT_THAT(DecodeRecord(Bytes{0x03, 0x00, 0x00}), StatusIs(StatusCode::kInvalidArgument, "session.bad_status"));
  EXPECT_THAT(DecodeRecord(Bytes{0x02, 0, 0, 0, 1, 0x02, 0x0c, 0x01, 'a'}),
              StatusIs(StatusCode::kInvalidArgument, "session.bad_status"));
}

TEST(SessionCodec, UserIdMustBeLowerHex) {
  EXPECT_THAT(EncodeResponse(Response::Ok(1, WhoamiResult{std::string(64, 'A')})),
              StatusIs(StatusCode::kInvalidArgument, "session.bad_user_id"));
  EXPECT_THAT(EncodeResponse(Response::Ok(1, WhoamiResult{std::string(63, 'a')})),
              StatusIs(StatusCode::kInvalidArgument, "session.bad_user_id"));
}

TEST(SessionCodec, RecordSizeLimit) {
  // A request of 65519 bytes is one record; 65520 must be chunked.
  const std::size_t fixed = 6 + 2 + 1 + 4;  // header, key length, key "k", value length
  Bytes at = *EncodeRequest(Request{1, PutRequest{"k", Bytes(kMaxRecordSize - fixed)}});
  ASSERT_EQ(at.size(), kMaxRecordSize);
  EXPECT_THAT(DecodeRecord(at), IsOk());
  Bytes over = *EncodeRequest(Request{1, PutRequest{"k", Bytes(kMaxRecordSize - fixed + 1)}});
  ASSERT_EQ(over.size(), kMaxRecordSize + 1);
  EXPECT_THAT(DecodeRecord(over), StatusIs(StatusCode::kInvalidArgument, "session.record_too_large"));
  EXPECT_THAT(DecodeRequest(over), IsOk());  // as a whole (reassembled) message it is fine
}

}  // namespace
}  // namespace perimeter::session
