// The transport-independent core, in memory: ClientHandshake against a
// noise::PipesServer, and SessionCore against a server-side Transport and
// the session codec.
#include "perimeter/client/session_core.h"

#include <gtest/gtest.h>

#include "client/testing/test_server.h"
#include "perimeter/client/handshake.h"
#include "perimeter/session/chunker.h"
#include "perimeter/session/codec.h"
#include "perimeter/session/limits.h"
#include "tests/testing/matchers.h"

namespace perimeter::client {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;
using testing::DefaultEvidence;
using testing::SharedPlatform;
using testing::TempDir;

class CoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { SharedPlatform(); }
  void SetUp() override {
    auto path = testing::WriteTrustFile(dir_.path(), *SharedPlatform(), testing::DefaultPolicyYaml());
    ASSERT_TRUE(path.has_value());
    trust_ = std::make_shared<const TrustConfig>(LoadTrustConfig(*path).value());
  }

  noise::PipesServer Server(const std::shared_ptr<const crypto::XdhPrivateKey>& key,
                            const testing::EvidenceSpec& spec = DefaultEvidence()) {
    noise::PipesServer::Config c;
    c.static_key = key;
    c.evidence = testing::MakeEvidence(key->public_key(), spec).value();
    return noise::PipesServer::New(std::move(c)).value();
  }
  ClientHandshake Client(Bytes cached = {}) {
    HandshakeOptions o;
    o.identity = client_key_;
    o.trust = trust_;
    o.cached_server_static = std::move(cached);
    o.at_unix_seconds = testing::kAt;
    return ClientHandshake::New(std::move(o)).value();
  }

  // Moves bodies until the client completes or something fails; returns
  // the client's first error, and counts the bodies the client sent.
  Status Drive(ClientHandshake& c, noise::PipesServer& s, int* client_frames) {
    *client_frames = 0;
    Result<Bytes> first = c.Start();
    if (!first.has_value()) return first.error();
    std::optional<Bytes> to_server = std::move(first).value();
    while (to_server.has_value()) {
      ++*client_frames;
      Result<std::optional<Bytes>> reply = s.OnFrame(*to_server);
      if (!reply.has_value()) return reply.error();
      to_server.reset();
      if (!reply->has_value()) break;
      Result<std::optional<Bytes>> back = c.OnFrame(**reply);
      if (!back.has_value()) return back.error();
      to_server = std::move(*back);
    }
    return Status::Ok();
  }

  TempDir dir_;
  std::shared_ptr<const TrustConfig> trust_;
  std::shared_ptr<const crypto::XdhPrivateKey> client_key_ = testing::NewStaticKey();
};

TEST_F(CoreTest, HandshakeXxThenIkThenFallback) {
  auto server_key = testing::NewStaticKey();
  int frames = 0;
  ClientHandshake xx = Client();
  noise::PipesServer s1 = Server(server_key);
  ASSERT_THAT(Drive(xx, s1, &frames), IsOk());
  ASSERT_TRUE(xx.complete());
  EXPECT_EQ(frames, 2);
  Result<HandshakeOutcome> out = xx.Finish();
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->session.pattern, noise::PipesPattern::kXX);
  EXPECT_TRUE(out->verdict.accepted());
  EXPECT_EQ(out->session.remote_static, ToBytes(server_key->public_key()));

  ClientHandshake ik = Client(out->session.remote_static);
  EXPECT_EQ(ik.offered(), noise::PipesPattern::kIK);
  noise::PipesServer s2 = Server(server_key);
  ASSERT_THAT(Drive(ik, s2, &frames), IsOk());
  ASSERT_TRUE(ik.complete());
  EXPECT_EQ(ik.Finish()->session.pattern, noise::PipesPattern::kIK);

  auto new_key = testing::NewStaticKey();
  ClientHandshake fb = Client(out->session.remote_static);
  noise::PipesServer s3 = Server(new_key);
  ASSERT_THAT(Drive(fb, s3, &frames), IsOk());
  ASSERT_TRUE(fb.complete());
  Result<HandshakeOutcome> fbo = fb.Finish();
  EXPECT_EQ(fbo->session.pattern, noise::PipesPattern::kXXfallback);
  EXPECT_EQ(fbo->session.remote_static, ToBytes(new_key->public_key()));
  EXPECT_TRUE(fbo->verdict.accepted());
}

TEST_F(CoreTest, RejectedEvidenceSendsNothingFurther) {
  auto server_key = testing::NewStaticKey();
  testing::EvidenceSpec spec = DefaultEvidence();
  spec.bind_to = ToBytes(testing::NewStaticKey()->public_key());
  ClientHandshake c = Client();
  noise::PipesServer s = Server(server_key, spec);
  int frames = 0;
  EXPECT_THAT(Drive(c, s, &frames), StatusIs(StatusCode::kUnauthenticated, "channel.binding_mismatch"));
  EXPECT_EQ(frames, 1);  // XX message 1 only: the static key was never sent
  EXPECT_FALSE(c.complete());
  ASSERT_TRUE(c.verdict().has_value());
  EXPECT_FALSE(c.verdict()->accepted());
  EXPECT_THAT(c.Finish(), StatusIs(StatusCode::kFailedPrecondition));
  // Also after a fallback: the new server's evidence is checked again.
  ClientHandshake fb = Client(ToBytes(server_key->public_key()));
  noise::PipesServer s2 = Server(testing::NewStaticKey(), spec);
  EXPECT_THAT(Drive(fb, s2, &frames), StatusIs(StatusCode::kUnauthenticated, "channel.binding_mismatch"));
  EXPECT_EQ(frames, 1);
}

// A session pair in memory.
struct Pair {
  SessionCore client;
  noise::Transport server;
};

Pair MakePair() {
  auto accept_any = [](ByteView, ByteView) { return Status::Ok(); };
  noise::PipesClient c = noise::PipesClient::New({testing::NewStaticKey(), {}, accept_any}).value();
  noise::PipesServer::Config sc;
  sc.static_key = testing::NewStaticKey();
  sc.evidence = ToBytes("{}");
  noise::PipesServer s = noise::PipesServer::New(std::move(sc)).value();
  std::optional<Bytes> body = c.Start().value();
  bool to_server = true;
  while (body.has_value()) {
    body = to_server ? s.OnFrame(*body).value() : c.OnFrame(*body).value();
    to_server = !to_server;
  }
  return Pair{SessionCore(std::move(c.TakeSession().value().transport)), std::move(s.TakeSession().value().transport)};
}

// The server side: decrypt and reassemble what the client sent.
std::vector<session::Request> ServerReads(Pair& p, const std::vector<Bytes>& frames) {
  session::MessageReader reader(session::MessageReader::Sender::kClient);
  std::vector<session::Request> out;
  for (const Bytes& f : frames) {
    Bytes plain = p.server.Decrypt(f).value();
    std::optional<session::Message> m = reader.OnRecord(plain).value();
    if (m) out.push_back(std::get<session::Request>(*m));
  }
  return out;
}

std::vector<Bytes> ServerSends(Pair& p, const session::Message& m) {
  std::vector<Bytes> frames;
  Bytes message = session::EncodeMessage(m).value();
  if (std::holds_alternative<session::Close>(m)) {
    frames.push_back(p.server.Encrypt(message).value());
    return frames;
  }
  std::vector<Bytes> records = session::SplitIntoRecords(std::move(message)).value();
  for (Bytes& r : records) frames.push_back(p.server.Encrypt(r).value());
  return frames;
}

TEST_F(CoreTest, RequestsAndChunkedResponsesRoundTrip) {
  Pair p = MakePair();
  std::uint32_t id = 0;
  Bytes big(session::kMaxValueSize);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i % 251);
  auto frames = p.client.SealRequest(session::PutRequest{"photo", big}, &id);
  ASSERT_THAT(frames, IsOk());
  EXPECT_EQ(id, 1u);
  EXPECT_EQ(frames->size(), 17u);  // ceil(1,048,587 / 65,506)
  auto reqs = ServerReads(p, *frames);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(std::get<session::PutRequest>(reqs[0].body).value, big);

  auto get = p.client.SealRequest(session::GetRequest{"photo"}, &id);
  ASSERT_THAT(get, IsOk());
  EXPECT_EQ(id, 2u);
  ServerReads(p, *get);
  std::vector<Bytes> back = ServerSends(p, session::Response::Ok(2, session::GetResult{big}));
  EXPECT_GT(back.size(), 1u);
  std::optional<session::Message> got;
  for (std::size_t i = 0; i < back.size(); ++i) {
    auto m = p.client.OpenFrame(back[i]);
    ASSERT_THAT(m, IsOk());
    EXPECT_EQ(m->has_value(), i + 1 == back.size());
    if (m->has_value()) got = **m;
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::get<session::GetResult>(*std::get<session::Response>(*got).result).value, big);
  EXPECT_EQ(p.client.in_flight(), 1u);  // the put
}

TEST_F(CoreTest, CallerMistakesDoNotEndTheSession) {
  Pair p = MakePair();
  EXPECT_THAT(p.client.SealRequest(session::GetRequest{""}), StatusIs(StatusCode::kInvalidArgument, "session.empty_key"));
  EXPECT_THAT(p.client.SealRequest(session::PutRequest{"k", Bytes(session::kMaxValueSize + 1)}),
              StatusIs(StatusCode::kInvalidArgument, "session.value_too_large"));
  EXPECT_THAT(p.client.SealRequest(session::ListRequest{"", {}, 0}),
              StatusIs(StatusCode::kInvalidArgument, "session.bad_limit"));
  EXPECT_FALSE(p.client.failed());
  for (int i = 0; i < 16; ++i) ASSERT_THAT(p.client.SealRequest(session::WhoamiRequest{}), IsOk());
  EXPECT_THAT(p.client.SealRequest(session::WhoamiRequest{}),
              StatusIs(StatusCode::kResourceExhausted, "client.too_many_in_flight"));
  EXPECT_FALSE(p.client.failed());
}

TEST_F(CoreTest, ServerViolationsEndTheSession) {
  {
    Pair p = MakePair();
    ASSERT_THAT(p.client.SealRequest(session::WhoamiRequest{}), IsOk());
    auto frames = ServerSends(p, session::Response::Ok(7, session::WhoamiResult{std::string(64, 'a')}));
    EXPECT_THAT(p.client.OpenFrame(frames[0]), StatusIs(StatusCode::kInvalidArgument, "client.unexpected_response"));
    EXPECT_TRUE(p.client.failed());
    EXPECT_THAT(p.client.SealRequest(session::WhoamiRequest{}), StatusIs(StatusCode::kFailedPrecondition));
  }
  {
    Pair p = MakePair();
    ASSERT_THAT(p.client.SealRequest(session::WhoamiRequest{}), IsOk());
    auto frames = ServerSends(p, session::Response::Ok(1, session::PutResult{}));
    EXPECT_THAT(p.client.OpenFrame(frames[0]), StatusIs(StatusCode::kInvalidArgument, "client.operation_mismatch"));
  }
  {
    Pair p = MakePair();
    ASSERT_THAT(p.client.SealRequest(session::WhoamiRequest{}), IsOk());
    auto frames = ServerSends(p, session::Response::Ok(1, session::WhoamiResult{std::string(64, 'a')}));
    frames[0][3] ^= 1;
    EXPECT_THAT(p.client.OpenFrame(frames[0]), StatusIs(StatusCode::kUnauthenticated, "noise.decrypt_failed"));
  }
  {
    Pair p = MakePair();
    Bytes req = session::EncodeRequest({1, session::WhoamiRequest{}}).value();
    EXPECT_THAT(p.client.OpenFrame(p.server.Encrypt(req).value()),
                StatusIs(StatusCode::kInvalidArgument, "session.unexpected_type"));
  }
  {
    Pair p = MakePair();
    ASSERT_THAT(p.client.SealRequest(session::WhoamiRequest{}), IsOk());
    auto frames = ServerSends(p, session::Close{StatusCode::kUnavailable, "session.idle_timeout"});
    auto m = p.client.OpenFrame(frames[0]);
    ASSERT_THAT(m, IsOk());
    ASSERT_TRUE(m->has_value());
    EXPECT_EQ(std::get<session::Close>(**m).reason, "session.idle_timeout");
    EXPECT_TRUE(p.client.closed());
    EXPECT_EQ(p.client.in_flight(), 0u);
    EXPECT_THAT(p.client.SealRequest(session::WhoamiRequest{}),
                StatusIs(StatusCode::kFailedPrecondition, "client.session_failed"));
  }
}

}  // namespace
}  // namespace perimeter::client
