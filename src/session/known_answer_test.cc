// The worked examples of docs/wire-protocol.md, byte for byte. If one of
// these changes, the document (and every client built from it) is wrong.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "perimeter/crypto/hash.h"
#include "perimeter/session/chunk_assembler.h"
#include "perimeter/session/chunker.h"
#include "perimeter/session/codec.h"
#include "perimeter/session/limits.h"
#include "tests/testing/matchers.h"

namespace perimeter::session {
namespace {

using ::perimeter::testing::IsOk;

Bytes Hex(std::string_view h) { return HexDecode(h).value(); }

// docs/wire-protocol.md, "Example: whoami".
TEST(SessionKnownAnswer, WhoamiRequest) {
  Result<Bytes> enc = EncodeRequest(Request{1, WhoamiRequest{}});
  ASSERT_THAT(enc, IsOk());
  EXPECT_EQ(HexEncode(*enc), "010000000101");
  EXPECT_EQ(DecodeRequest(Hex("010000000101")).value(), (Request{1, WhoamiRequest{}}));
}

TEST(SessionKnownAnswer, WhoamiResponse) {
  // user_id of the client static key 8520f009...4e6a (RFC 7748 section 6.1, Alice).
  const std::string user_id = "300c9c9603b92a4b39ed3958bf9240114804db4fd373012c0ca47432d63425ae";
  const std::string hex =
      "0200000001010000"
      "0040"
      "33303063396339363033623932613462333965643339353862663932343031"
      "3134383034646234666433373330313263306361343734333264363334323561"
      "65";
  Result<Bytes> enc = EncodeResponse(Response::Ok(1, WhoamiResult{user_id}));
  ASSERT_THAT(enc, IsOk());
  EXPECT_EQ(HexEncode(*enc), hex);
  EXPECT_EQ(enc->size(), 74u);
  EXPECT_EQ(DecodeResponse(Hex(hex)).value(), Response::Ok(1, WhoamiResult{user_id}));
}

// docs/wire-protocol.md, "Example: an error response" and "Example: close".
TEST(SessionKnownAnswer, ErrorResponseAndClose) {
  EXPECT_EQ(HexEncode(*EncodeResponse(
                Response::Error(2, Operation::kGet, StatusCode::kNotFound, "workload.not_found"))),
            "0200000002030212776f726b6c6f61642e6e6f745f666f756e64");
  EXPECT_EQ(HexEncode(*EncodeClose(Close{StatusCode::kUnavailable, "session.idle_timeout"})),
            "03091473657373696f6e2e69646c655f74696d656f7574");
}

// docs/wire-protocol.md, "Example: list".
TEST(SessionKnownAnswer, List) {
  EXPECT_EQ(HexEncode(*EncodeRequest(Request{3, ListRequest{"notes/", {}, 2}})), "01000000030500066e6f7465732f00000002");
  EXPECT_EQ(HexEncode(*EncodeResponse(Response::Ok(3, ListResult{{"notes/a", "notes/b"}, Hex("010203")}))),
            "0200000003050000000200076e6f7465732f6100076e6f7465732f620003010203");
}

// docs/wire-protocol.md, "Example: a chunked put": key "photo", 70,000-byte
// value with value[i] = i mod 251, request id 2.
TEST(SessionKnownAnswer, ChunkedPut) {
  Bytes value(70000);
  for (std::size_t i = 0; i < value.size(); ++i) value[i] = static_cast<std::uint8_t>(i % 251);
  Result<Bytes> msg = EncodeRequest(Request{2, PutRequest{"photo", value}});
  ASSERT_THAT(msg, IsOk());
  ASSERT_EQ(msg->size(), 70017u);
  EXPECT_EQ(HexEncode(ByteView(*msg).first(21)), "010000000202000570686f746f0001117000010203");

  Result<std::vector<Bytes>> records = SplitIntoRecords(*msg);
  ASSERT_THAT(records, IsOk());
  ASSERT_EQ(records->size(), 2u);
  const Bytes& c0 = (*records)[0];
  const Bytes& c1 = (*records)[1];
  EXPECT_EQ(c0.size(), 65519u);
  EXPECT_EQ(c1.size(), 4524u);
  EXPECT_EQ(HexEncode(ByteView(c0).first(13)), "04000000020000000200011181");
  EXPECT_EQ(HexEncode(ByteView(c0).subspan(13, 21)), "010000000202000570686f746f0001117000010203");
  EXPECT_EQ(HexEncode(ByteView(c0).last(8)), "dddedfe0e1e2e3e4");
  EXPECT_EQ(HexEncode(ByteView(c1).first(13)), "04000000020001000200011181");
  EXPECT_EQ(HexEncode(ByteView(c1).subspan(13, 8)), "e5e6e7e8e9eaebec");
  EXPECT_EQ(HexEncode(ByteView(c1).last(8)), "d6d7d8d9dadbdcdd");
  // Each chunk record is 65519 + 16 = 65535 bytes of transport message: the
  // largest frame, length prefix ffff.
  EXPECT_EQ(c0.size() + 16, 0xffffu);

  ChunkAssembler a;
  Result<std::optional<Bytes>> first = a.Add(DecodeChunk(c0).value());
  ASSERT_THAT(first, IsOk());
  EXPECT_FALSE(first->has_value());
  Result<std::optional<Bytes>> second = a.Add(DecodeChunk(c1).value());
  ASSERT_THAT(second, IsOk());
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ(**second, *msg);
  EXPECT_EQ(HexEncode(*EncodeResponse(Response::Ok(2, PutResult{}))), "0200000002020000");
  // Frame lengths quoted in the document.
  EXPECT_EQ(c1.size() + 16, 0x11bcu);
}

// docs/wire-protocol.md sections 4.3 and 5: the REPORT_DATA binding and the
// user_id of the RFC 7748 section 6.1 keys. (Computed here with the crypto
// module; the session module itself only carries user_id as text.)
TEST(SessionKnownAnswer, BindingAndUserIdExamples) {
  const Bytes server_static = Hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const Bytes client_static = Hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const std::string label = "secure-perimeter/noise-binding/1";
  ASSERT_EQ(label.size(), 32u);
  Result<Bytes> report_data = crypto::Hash(crypto::HashAlg::kSha512, {AsBytes(label), ByteView(server_static)});
  ASSERT_THAT(report_data, IsOk());
  EXPECT_EQ(HexEncode(*report_data),
            "4ce1bd6cd23ce9c5566c1d5a42e04e8c34eb00062b7ea2292e3f3aff9a77e104"
            "ac7d09d9c009f267ba77fe87d88a07230a1b3b6c064d4c13c8231224589803f8");
  Result<Bytes> user = crypto::Hash(crypto::HashAlg::kSha256, client_static);
  ASSERT_THAT(user, IsOk());
  EXPECT_EQ(HexEncode(*user), "300c9c9603b92a4b39ed3958bf9240114804db4fd373012c0ca47432d63425ae");
}

// The document quotes each of these strings verbatim; if the codec and the
// document drift apart, this fails.
TEST(SessionKnownAnswer, DocumentQuotesTheSameHex) {
  std::ifstream in(std::string(PERIMETER_DOCS_DIR) + "/wire-protocol.md");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const char* quoted[] = {
      "=> 010000000101",
      "0200000001010000004033303063396339363033623932613462333965643339353862663932343031313438303464623466"
      "643337333031326330636134373433326436333432356165",
      "=> 0200000002030212776f726b6c6f61642e6e6f745f666f756e64",
      "=> 03091473657373696f6e2e69646c655f74696d656f7574",
      "=> 01000000030500066e6f7465732f00000002",
      "=> 0200000003050000000200076e6f7465732f6100076e6f7465732f620003010203",
      "04 00000002 0000 0002 00011181 | 010000000202000570686f746f0001117000010203 ... dddedfe0e1e2e3e4",
      "04 00000002 0001 0002 00011181 | e5e6e7e8e9eaebec ... d6d7d8d9dadbdcdd",
      "`0200000002020000`",
      "4ce1bd6cd23ce9c5566c1d5a42e04e8c34eb00062b7ea2292e3f3aff9a77e104",
      "ac7d09d9c009f267ba77fe87d88a07230a1b3b6c064d4c13c8231224589803f8",
      "300c9c9603b92a4b39ed3958bf9240114804db4fd373012c0ca47432d63425ae",
  };
  for (const char* q : quoted) EXPECT_NE(doc.find(q), std::string::npos) << q;
}

}  // namespace
}  // namespace perimeter::session
