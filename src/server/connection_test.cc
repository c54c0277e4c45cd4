#include "perimeter/server/connection.h"

#include <gtest/gtest.h>

#include "perimeter/keys/identifiers.h"
#include "perimeter/session/limits.h"
#include "src/server/server_test_util.h"

namespace perimeter::server {
namespace {

using testing::ClientSession;
using testing::IsOk;
using Clock = Connection::Clock;

Bytes Pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 31 + seed);
  return b;
}

// One server-side Connection, a store, and the machinery to run requests
// synchronously as the server's worker pool would.
class ConnectionTest : public ::testing::Test {
 protected:
  std::unique_ptr<Connection> NewConnection(ConnectionLimits limits = {}) {
    Connection::Options o;
    o.static_key = server_key_;
    o.evidence = evidence_;
    o.limits = limits;
    o.metrics = &metrics_;
    return Connection::New(std::move(o), now_).value();
  }

  // Runs the handshake; returns the client's session, or nullopt if the
  // server aborted.
  std::optional<ClientSession> Handshake(Connection& conn, noise::PipesClient& client) {
    Bytes to_server = client.Start().value();
    while (true) {
      ConnectionOutput out = conn.OnFrame(to_server, now_);
      if (out.close != CloseKind::kNone) {
        EXPECT_TRUE(out.frames.empty()) << "a failed handshake must not answer";
        return std::nullopt;
      }
      if (out.frames.empty()) break;
      EXPECT_EQ(out.frames.size(), 1u);
      Result<std::optional<Bytes>> reply = client.OnFrame(out.frames[0]);
      if (!reply.has_value()) return std::nullopt;
      if (!reply->has_value()) break;
      to_server = std::move(**reply);
    }
    if (!client.complete() || !conn.handshake_complete()) return std::nullopt;
    return ClientSession(client.TakeSession().value());
  }

  std::optional<ClientSession> Connect(Connection& conn, std::shared_ptr<const crypto::XdhPrivateKey> key,
                                       Bytes cached = {}) {
    noise::PipesClient client = testing::NewPipesClient(std::move(key), std::move(cached));
    return Handshake(conn, client);
  }

  // Executes every pending request and collects the server's frames.
  void Execute(Connection& conn, ConnectionOutput& out) {
    std::vector<PendingRequest> pending = std::move(out.requests);
    out.requests.clear();
    for (PendingRequest& p : pending) {
      ConnectionOutput more = conn.OnResponse(service_.Execute(p.user_id, p.request), now_);
      for (Bytes& f : more.frames) out.frames.push_back(std::move(f));
      if (more.close != CloseKind::kNone) out.close = more.close;
    }
  }

  // Sends `request`, executes it, returns the decoded response.
  session::Response Call(Connection& conn, ClientSession& client, const session::Request& request) {
    ConnectionOutput out;
    for (const Bytes& frame : client.Frames(request)) {
      ConnectionOutput o = conn.OnFrame(frame, now_);
      EXPECT_EQ(o.close, CloseKind::kNone);
      for (auto& r : o.requests) out.requests.push_back(std::move(r));
    }
    Execute(conn, out);
    std::optional<session::Message> message;
    for (const Bytes& f : out.frames) {
      Result<std::optional<session::Message>> m = client.OnFrame(f);
      EXPECT_THAT(m, IsOk());
      if (m.has_value() && m->has_value()) message = std::move(**m);
    }
    EXPECT_TRUE(message.has_value());
    if (!message.has_value() || !std::holds_alternative<session::Response>(*message)) return {};
    return std::get<session::Response>(std::move(*message));
  }

  // Decodes the close record among `frames` (the last one).
  static std::optional<session::Close> CloseOf(ClientSession& client, const ConnectionOutput& out) {
    if (out.frames.empty()) return std::nullopt;
    Result<std::optional<session::Message>> m = client.OnFrame(out.frames.back());
    if (!m.has_value() || !m->has_value() || !std::holds_alternative<session::Close>(**m)) return std::nullopt;
    return std::get<session::Close>(**m);
  }

  std::shared_ptr<const crypto::XdhPrivateKey> server_key_ = testing::NewKey();
  std::shared_ptr<const Bytes> evidence_ = std::make_shared<const Bytes>(Pattern(2000, 1));
  Metrics metrics_;
  testing::TestStore store_;
  WorkloadService service_{store_.store.get(), &metrics_};
  Clock::time_point now_ = Clock::now();
};

TEST_F(ConnectionTest, XXHandshakeCarriesEvidenceAndBindsUser) {
  auto conn = NewConnection();
  auto client_key = testing::NewKey();
  Bytes evidence, server_static;
  noise::PipesClient client = testing::NewPipesClient(client_key, {}, &evidence, &server_static);
  std::optional<ClientSession> s = Handshake(*conn, client);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(evidence, *evidence_);
  EXPECT_EQ(server_static, ToBytes(server_key_->public_key()));
  EXPECT_EQ(conn->pattern(), noise::PipesPattern::kXX);
  EXPECT_EQ(conn->user_id(), keys::UserIdFromStaticKey(client_key->public_key()).value());
  session::Response r = Call(*conn, *s, testing::Whoami(1));
  ASSERT_EQ(r.code, StatusCode::kOk);
  EXPECT_EQ(std::get<session::WhoamiResult>(*r.result).user_id, conn->user_id());
  EXPECT_EQ(metrics_.Value("perimeter_handshakes_total", "pattern=\"XX\""), 1);
  EXPECT_EQ(metrics_.Value("perimeter_sessions_active", ""), 1);
  conn.reset();
  EXPECT_EQ(metrics_.Value("perimeter_sessions_active", ""), 0);
}

TEST_F(ConnectionTest, IKWithTheRightKey) {
  auto conn = NewConnection();
  std::optional<ClientSession> s = Connect(*conn, testing::NewKey(), ToBytes(server_key_->public_key()));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(conn->pattern(), noise::PipesPattern::kIK);
  EXPECT_EQ(Call(*conn, *s, testing::Whoami(7)).code, StatusCode::kOk);
}

TEST_F(ConnectionTest, IKWithAStaleKeyFallsBack) {
  auto conn = NewConnection();
  auto stale = testing::NewKey();
  std::optional<ClientSession> s = Connect(*conn, testing::NewKey(), ToBytes(stale->public_key()));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(conn->pattern(), noise::PipesPattern::kXXfallback);
  EXPECT_EQ(Call(*conn, *s, testing::Whoami(1)).code, StatusCode::kOk);
  EXPECT_EQ(metrics_.Value("perimeter_handshakes_total", "pattern=\"XXfallback\""), 1);
}

TEST_F(ConnectionTest, BadHandshakeFramesAbortWithoutAnswer) {
  // Unknown pattern byte, XXfallback offered by a client, empty, truncated
  // XX and IK messages, an XX message 1 with a payload.
  for (Bytes body : {Bytes{7, 1, 2}, Bytes(33, 2), Bytes{}, Bytes{0, 1, 2, 3}, Bytes(50, 1), Bytes(40, 0)}) {
    auto conn = NewConnection();
    ConnectionOutput out = conn->OnFrame(body, now_);
    EXPECT_EQ(out.close, CloseKind::kAbort);
    EXPECT_TRUE(out.frames.empty());
    EXPECT_TRUE(conn->closed());
  }
  EXPECT_GE(metrics_.Value("perimeter_handshake_failures_total", "reason=\"noise.bad_pattern_byte\""), 1);
}

TEST_F(ConnectionTest, TamperedXXMessage3AbortsWithoutAnswer) {
  auto conn = NewConnection();
  noise::PipesClient client = testing::NewPipesClient(testing::NewKey());
  ConnectionOutput out = conn->OnFrame(client.Start().value(), now_);
  ASSERT_EQ(out.frames.size(), 1u);
  Bytes msg3 = std::move(**client.OnFrame(out.frames[0]));
  msg3[10] ^= 1;
  out = conn->OnFrame(msg3, now_);
  EXPECT_EQ(out.close, CloseKind::kAbort);
  EXPECT_TRUE(out.frames.empty());
}

TEST_F(ConnectionTest, HandshakeTimeoutAbortsSilently) {
  auto conn = NewConnection(ConnectionLimits{std::chrono::milliseconds(100), std::chrono::seconds(300),
                                             std::chrono::seconds(60)});
  ASSERT_TRUE(conn->NextDeadline().has_value());
  EXPECT_EQ(*conn->NextDeadline(), now_ + std::chrono::milliseconds(100));
  EXPECT_EQ(conn->OnTick(now_ + std::chrono::milliseconds(99)).close, CloseKind::kNone);
  ConnectionOutput out = conn->OnTick(now_ + std::chrono::milliseconds(100));
  EXPECT_EQ(out.close, CloseKind::kAbort);
  EXPECT_TRUE(out.frames.empty());
  EXPECT_EQ(metrics_.Value("perimeter_handshake_failures_total", "reason=\"server.handshake_timeout\""), 1);
}

TEST_F(ConnectionTest, UndecryptableOrEmptyRecordAbortsSilently) {
  {
    auto conn = NewConnection();
    std::optional<ClientSession> s = Connect(*conn, testing::NewKey());
    ASSERT_TRUE(s.has_value());
    Bytes frame = s->Frames(testing::Whoami(1))[0];
    frame.back() ^= 0x80;
    ConnectionOutput out = conn->OnFrame(frame, now_);
    EXPECT_EQ(out.close, CloseKind::kAbort);
    EXPECT_TRUE(out.frames.empty());
  }
  {
    auto conn = NewConnection();
    std::optional<ClientSession> s = Connect(*conn, testing::NewKey());
    ASSERT_TRUE(s.has_value());
    ConnectionOutput out = conn->OnFrame(s->Seal(Bytes{}), now_);
    EXPECT_EQ(out.close, CloseKind::kAbort);
    EXPECT_TRUE(out.frames.empty());
  }
  {
    auto conn = NewConnection();
    std::optional<ClientSession> s = Connect(*conn, testing::NewKey());
    ASSERT_TRUE(s.has_value());
    ConnectionOutput out = conn->OnFrame(Bytes(10, 0), now_);  // shorter than a tag
    EXPECT_EQ(out.close, CloseKind::kAbort);
    EXPECT_TRUE(out.frames.empty());
  }
}

struct MalformedCase {
  Bytes record;
  StatusCode code;
  const char* reason;
};

TEST_F(ConnectionTest, MalformedRecordsCloseWithTheReason) {
  const std::vector<MalformedCase> cases = {
      {{0x09, 0, 0, 0, 1, 1}, StatusCode::kInvalidArgument, "session.unknown_type"},
      {{0x01, 0, 0, 0, 1, 0x42}, StatusCode::kInvalidArgument, "session.unknown_operation"},
      {{0x01, 0, 0, 0, 0, 0x01}, StatusCode::kInvalidArgument, "session.bad_request_id"},
      {{0x01, 0, 0, 0, 1, 0x01, 0}, StatusCode::kInvalidArgument, "session.trailing_bytes"},
      {{0x01, 0, 0, 0}, StatusCode::kInvalidArgument, "session.truncated"},
      {{0x02, 0, 0, 0, 1, 1, 2, 1, 'a'}, StatusCode::kInvalidArgument, "session.unexpected_type"},
      {{0x03, 9, 1, 'a'}, StatusCode::kInvalidArgument, "session.unexpected_type"},
      {{0x01, 0, 0, 0, 1, 0x03, 0, 0}, StatusCode::kInvalidArgument, "session.empty_key"},
      {{0x01, 0, 0, 0, 1, 0x03, 0, 1, 0xff}, StatusCode::kInvalidArgument, "session.bad_utf8"},
      {{0x01, 0, 0, 0, 1, 0x05, 0, 0, 0, 0, 0, 0}, StatusCode::kInvalidArgument, "session.bad_limit"},
      // A chunk claiming a small total.
      {{0x04, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 10, 1}, StatusCode::kInvalidArgument, "session.bad_chunk_total"},
      // A chunk claiming more than the largest message.
      {{0x04, 0, 0, 0, 1, 0, 0, 0, 17, 0, 0x20, 0, 0, 1}, StatusCode::kResourceExhausted,
       "session.message_too_large"},
  };
  for (const MalformedCase& c : cases) {
    auto conn = NewConnection();
    std::optional<ClientSession> s = Connect(*conn, testing::NewKey());
    ASSERT_TRUE(s.has_value());
    ConnectionOutput out = conn->OnFrame(s->Seal(c.record), now_);
    EXPECT_EQ(out.close, CloseKind::kGraceful) << c.reason;
    EXPECT_TRUE(out.requests.empty());
    std::optional<session::Close> close = CloseOf(*s, out);
    ASSERT_TRUE(close.has_value()) << c.reason;
    EXPECT_EQ(close->code, c.code) << c.reason;
    EXPECT_EQ(close->reason, c.reason);
    EXPECT_TRUE(conn->closed());
    // Nothing more is processed.
    EXPECT_TRUE(conn->OnFrame(s->Frames(testing::Whoami(2))[0], now_).frames.empty());
  }
}

TEST_F(ConnectionTest, DuplicateIdInFlightCloses) {
  auto conn = NewConnection();
  std::optional<ClientSession> s = Connect(*conn, testing::NewKey());
  ASSERT_TRUE(s.has_value());
  ConnectionOutput first = conn->OnFrame(s->Frames(testing::Whoami(5))[0], now_);
  ASSERT_EQ(first.requests.size(), 1u);
  ConnectionOutput second = conn->OnFrame(s->Frames(testing::Get(5, "k"))[0], now_);
  EXPECT_EQ(second.close, CloseKind::kGraceful);
  std::optional<session::Close> close = CloseOf(*s, second);
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->reason, "session.duplicate_request_id");
  // The late response of the first request is dropped.
  EXPECT_TRUE(conn->OnResponse(service_.Execute(conn->user_id(), first.requests[0].request), now_).frames.empty());
}

TEST_F(ConnectionTest, DuplicateIdOfAPartialMessageCloses) {
  auto conn = NewConnection();
  std::optional<ClientSession> s = Connect(*conn, testing::NewKey());
  ASSERT_TRUE(s.has_value());
  const std::vector<Bytes> records =
      session::SplitIntoRecords(session::EncodeRequest(testing::Put(3, "big", Bytes(100000, 1))).value()).value();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(conn->OnFrame(s->Seal(records[0]), now_).close, CloseKind::kNone);
  EXPECT_EQ(conn->in_flight(), 1u);
  ConnectionOutput out = conn->OnFrame(s->Frames(testing::Whoami(3))[0], now_);
  EXPECT_EQ(out.close, CloseKind::kGraceful);
  std::optional<session::Close> close = CloseOf(*s, out);
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->reason, "session.duplicate_request_id");
}

TEST_F(ConnectionTest, SeventeenthRequestInFlightCloses) {
  auto conn = NewConnection();
  std::optional<ClientSession> s = Connect(*conn, testing::NewKey());
  ASSERT_TRUE(s.has_value());
  std::vector<PendingRequest> held;
  for (std::uint32_t id = 1; id <= session::kMaxInFlightRequests; ++id) {
    ConnectionOutput out = conn->OnFrame(s->Frames(testing::Whoami(id))[0], now_);
    ASSERT_EQ(out.close, CloseKind::kNone);
    ASSERT_EQ(out.requests.size(), 1u);
    held.push_back(std::move(out.requests[0]));
  }
  EXPECT_EQ(conn->in_flight(), 16u);
  ConnectionOutput out = conn->OnFrame(s->Frames(testing::Whoami(99))[0], now_);
  EXPECT_EQ(out.close, CloseKind::kGraceful);
  std::optional<session::Close> close = CloseOf(*s, out);
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->code, StatusCode::kResourceExhausted);
  EXPECT_EQ(close->reason, "session.too_many_in_flight");
}

TEST_F(ConnectionTest, SixteenInFlightAreFineWhenAnswered) {
  auto conn = NewConnection();
  std::optional<ClientSession> s = Connect(*conn, testing::NewKey());
  ASSERT_TRUE(s.has_value());
  for (std::uint32_t round = 0; round < 3; ++round) {
    ConnectionOutput all;
    for (std::uint32_t id = 1; id <= 16; ++id) {
      ConnectionOutput out = conn->OnFrame(s->Frames(testing::Whoami(round * 16 + id))[0], now_);
      ASSERT_EQ(out.close, CloseKind::kNone);
      for (auto& r : out.requests) all.requests.push_back(std::move(r));
    }
    Execute(*conn, all);
    EXPECT_EQ(all.frames.size(), 16u);
    EXPECT_EQ(conn->in_flight(), 0u);
  }
}

TEST_F(ConnectionTest, ChunkedOneMebibytePutAndGet) {
  auto conn = NewConnection();
  std::optional<ClientSession> s = Connect(*conn, testing::NewKey());
  ASSERT_TRUE(s.has_value());
  const Bytes value = Pattern(session::kMaxValueSize, 9);
  const std::string key(session::kMaxKeySize, 'k');
  session::Response put = Call(*conn, *s, testing::Put(1, key, value));
  EXPECT_EQ(put.code, StatusCode::kOk) << put.reason;
  // The get response is chunked by the server.
  ConnectionOutput out;
  for (const Bytes& f : s->Frames(testing::Get(2, key))) {
    ConnectionOutput o = conn->OnFrame(f, now_);
    for (auto& r : o.requests) out.requests.push_back(std::move(r));
  }
  Execute(*conn, out);
  EXPECT_EQ(out.frames.size(), 17u);
  std::optional<session::Message> m;
  for (const Bytes& f : out.frames) {
    EXPECT_LE(f.size(), 65535u);
    auto r = s->OnFrame(f);
    ASSERT_THAT(r, IsOk());
    if (r->has_value()) m = std::move(**r);
  }
  ASSERT_TRUE(m.has_value());
  const auto& get = std::get<session::Response>(*m);
  ASSERT_EQ(get.code, StatusCode::kOk);
  EXPECT_EQ(std::get<session::GetResult>(*get.result).value, value);
}

TEST_F(ConnectionTest, ChunkTimeoutCloses) {
  auto conn = NewConnection(ConnectionLimits{std::chrono::seconds(10), std::chrono::seconds(300),
                                             std::chrono::milliseconds(500)});
  std::optional<ClientSession> s = Connect(*conn, testing::NewKey());
  ASSERT_TRUE(s.has_value());
  const std::vector<Bytes> records =
      session::SplitIntoRecords(session::EncodeRequest(testing::Put(1, "k", Bytes(70000, 1))).value()).value();
  ASSERT_EQ(conn->OnFrame(s->Seal(records[0]), now_).close, CloseKind::kNone);
  ASSERT_TRUE(conn->NextDeadline().has_value());
  EXPECT_EQ(*conn->NextDeadline(), now_ + std::chrono::milliseconds(500));
  ConnectionOutput out = conn->OnTick(now_ + std::chrono::milliseconds(500));
  std::optional<session::Close> close = CloseOf(*s, out);
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->code, StatusCode::kResourceExhausted);
  EXPECT_EQ(close->reason, "session.message_timeout");
}

TEST_F(ConnectionTest, IdleTimeoutClosesOnlyWhenNothingIsInFlight) {
  const auto idle = std::chrono::seconds(5);
  auto conn = NewConnection(ConnectionLimits{std::chrono::seconds(10), idle, std::chrono::seconds(60)});
  std::optional<ClientSession> s = Connect(*conn, testing::NewKey());
  ASSERT_TRUE(s.has_value());
  ConnectionOutput pending = conn->OnFrame(s->Frames(testing::Whoami(1))[0], now_);
  ASSERT_EQ(pending.requests.size(), 1u);
  EXPECT_FALSE(conn->NextDeadline().has_value());  // a request in flight: not idle
  EXPECT_EQ(conn->OnTick(now_ + idle * 2).close, CloseKind::kNone);
  now_ += idle * 2;
  Execute(*conn, pending);
  ASSERT_TRUE(conn->NextDeadline().has_value());
  EXPECT_EQ(*conn->NextDeadline(), now_ + idle);
  ConnectionOutput out = conn->OnTick(now_ + idle);
  std::optional<session::Close> close;
  // The response first, then the close.
  ASSERT_THAT(s->OnFrame(pending.frames[0]), IsOk());
  close = CloseOf(*s, out);
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->code, StatusCode::kUnavailable);
  EXPECT_EQ(close->reason, "session.idle_timeout");
  EXPECT_EQ(out.close, CloseKind::kGraceful);
}

TEST_F(ConnectionTest, DrainAnswersInFlightThenCloses) {
  auto conn = NewConnection();
  std::optional<ClientSession> s = Connect(*conn, testing::NewKey());
  ASSERT_TRUE(s.has_value());
  ConnectionOutput pending = conn->OnFrame(s->Frames(testing::Put(1, "k", Bytes{1, 2}))[0], now_);
  ASSERT_EQ(pending.requests.size(), 1u);
  ConnectionOutput drained = conn->Drain(now_);
  EXPECT_EQ(drained.close, CloseKind::kNone);
  EXPECT_TRUE(conn->draining());
  // New requests are not taken any more.
  EXPECT_TRUE(conn->OnFrame(s->Frames(testing::Whoami(2))[0], now_).requests.empty());
  Execute(*conn, pending);
  ASSERT_EQ(pending.frames.size(), 2u);
  auto response = s->OnFrame(pending.frames[0]);
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(std::get<session::Response>(**response).code, StatusCode::kOk);
  std::optional<session::Close> close = CloseOf(*s, pending);
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->reason, "session.server_shutdown");
  EXPECT_EQ(pending.close, CloseKind::kGraceful);
}

TEST_F(ConnectionTest, DrainOfIdleSessionClosesAtOnceAndAbortsHandshakes) {
  auto idle = NewConnection();
  std::optional<ClientSession> s = Connect(*idle, testing::NewKey());
  ASSERT_TRUE(s.has_value());
  ConnectionOutput out = idle->Drain(now_);
  std::optional<session::Close> close = CloseOf(*s, out);
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->code, StatusCode::kUnavailable);
  EXPECT_EQ(close->reason, "session.server_shutdown");

  auto handshaking = NewConnection();
  ConnectionOutput h = handshaking->Drain(now_);
  EXPECT_EQ(h.close, CloseKind::kAbort);
  EXPECT_TRUE(h.frames.empty());
}

TEST_F(ConnectionTest, UsersAreIsolatedThroughTheWholeStack) {
  auto alice_conn = NewConnection();
  auto bob_conn = NewConnection();
  std::optional<ClientSession> alice = Connect(*alice_conn, testing::NewKey());
  std::optional<ClientSession> bob = Connect(*bob_conn, testing::NewKey());
  ASSERT_TRUE(alice.has_value() && bob.has_value());
  ASSERT_NE(alice_conn->user_id(), bob_conn->user_id());
  EXPECT_EQ(Call(*alice_conn, *alice, testing::Put(1, "notes/a", ToBytes("alice secret"))).code, StatusCode::kOk);
  EXPECT_EQ(Call(*bob_conn, *bob, testing::Get(1, "notes/a")).code, StatusCode::kNotFound);
  session::Response list = Call(*bob_conn, *bob, testing::List(2, ""));
  ASSERT_EQ(list.code, StatusCode::kOk);
  EXPECT_TRUE(std::get<session::ListResult>(*list.result).keys.empty());
  EXPECT_EQ(Call(*bob_conn, *bob, testing::Delete(3, "notes/a")).code, StatusCode::kNotFound);
  EXPECT_EQ(Call(*bob_conn, *bob, testing::Put(4, "notes/a", ToBytes("bob"))).code, StatusCode::kOk);
  session::Response a = Call(*alice_conn, *alice, testing::Get(2, "notes/a"));
  ASSERT_EQ(a.code, StatusCode::kOk);
  EXPECT_EQ(std::get<session::GetResult>(*a.result).value, ToBytes("alice secret"));
}

}  // namespace
}  // namespace perimeter::server
