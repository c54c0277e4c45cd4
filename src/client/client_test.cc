// The client over real 127.0.0.1 sockets (TCP and WebSocket) against the
// in-test responder (testing/test_server.h): XX, IK with the known-servers
// cache, XXfallback after the server changed its key, rejected servers get
// nothing further, chunked 1 MiB values, CLOSE handling, WebSocket rules.
#include "perimeter/client/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/testing/test_server.h"
#include "perimeter/client/identity.h"
#include "perimeter/keys/identifiers.h"
#include "tests/testing/matchers.h"

namespace perimeter::client {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;
using testing::DefaultEvidence;
using testing::SharedPlatform;
using testing::TempDir;
using testing::TestServer;

class ClientTest : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() { SharedPlatform(); }
  void SetUp() override {
    auto path = testing::WriteTrustFile(dir_.path(), *SharedPlatform(), testing::DefaultPolicyYaml());
    ASSERT_TRUE(path.has_value());
    options_.trust = std::make_shared<const TrustConfig>(LoadTrustConfig(*path).value());
    options_.identity = testing::NewStaticKey();
    options_.known_servers = std::shared_ptr<KnownServers>(KnownServers::Open(dir_.File("known.json")).value());
    options_.at_unix_seconds = testing::kAt;
    options_.handshake_timeout = std::chrono::milliseconds(10000);
    options_.request_timeout = std::chrono::milliseconds(20000);
  }
  std::unique_ptr<TestServer> Start(TestServer::Options o = {}) {
    o.websocket = GetParam();
    return TestServer::Start(std::move(o)).value();
  }

  TempDir dir_;
  ClientOptions options_;
};

TEST_P(ClientTest, XxThenIkThenFallbackWithTheCache) {
  auto server = Start();
  ConnectResult first = Connect(server->endpoint(), options_);
  ASSERT_THAT(first.status, IsOk()) << (first.verdict ? first.verdict->ToText() : "");
  ASSERT_TRUE(first.session);
  ASSERT_TRUE(first.verdict.has_value());
  EXPECT_TRUE(first.verdict->accepted());
  EXPECT_EQ(first.pattern, noise::PipesPattern::kXX);
  EXPECT_THAT(first.cache_status, IsOk());
  EXPECT_EQ(options_.known_servers->Find(server->endpoint()), server->static_public_key());
  Result<std::string> who = first.session->Whoami();
  ASSERT_THAT(who, IsOk());
  EXPECT_EQ(*who, keys::UserIdFromStaticKey(options_.identity->public_key()).value());
  first.session->Close();

  // The cache survives a reload; the next connection uses IK.
  options_.known_servers = std::shared_ptr<KnownServers>(KnownServers::Open(dir_.File("known.json")).value());
  ConnectResult ik = Connect(server->endpoint(), options_);
  ASSERT_THAT(ik.status, IsOk());
  EXPECT_EQ(ik.pattern, noise::PipesPattern::kIK);
  EXPECT_TRUE(ik.verdict->accepted());
  ASSERT_THAT(ik.session->Put("k", AsBytes("v")), IsOk());
  ik.session->Close();

  // The server restarts with a new static key: IK fails on its side, it
  // answers with XXfallback, the client verifies again and updates the cache.
  const Bytes old_key = server->static_public_key();
  ASSERT_THAT(server->RotateStaticKey(), IsOk());
  ConnectResult fb = Connect(server->endpoint(), options_);
  ASSERT_THAT(fb.status, IsOk());
  EXPECT_EQ(fb.pattern, noise::PipesPattern::kXXfallback);
  EXPECT_TRUE(fb.verdict->accepted());
  EXPECT_EQ(fb.session->server_static_key(), server->static_public_key());
  EXPECT_NE(options_.known_servers->Find(server->endpoint()), old_key);
  EXPECT_EQ(options_.known_servers->Find(server->endpoint()), server->static_public_key());
  EXPECT_EQ(fb.session->Get("k").value(), ToBytes("v"));
  fb.session->Close();
  ASSERT_TRUE(server->WaitForConnections(3));
  auto records = server->connections();
  EXPECT_EQ(records[0].pattern, noise::PipesPattern::kXX);
  EXPECT_EQ(records[1].pattern, noise::PipesPattern::kIK);
  EXPECT_EQ(records[2].pattern, noise::PipesPattern::kXXfallback);
}

TEST_P(ClientTest, RejectedServerGetsNothingFurtherAndIsNotCached) {
  TestServer::Options o;
  o.evidence.bind_to = ToBytes(testing::NewStaticKey()->public_key());  // evidence of another key
  auto server = Start(o);
  ConnectResult r = Connect(server->endpoint(), options_);
  EXPECT_THAT(r.status, StatusIs(StatusCode::kUnauthenticated, "channel.binding_mismatch"));
  EXPECT_FALSE(r.session);
  ASSERT_TRUE(r.verdict.has_value());
  EXPECT_FALSE(r.verdict->accepted());
  EXPECT_FALSE(options_.known_servers->Find(server->endpoint()).has_value());
  ASSERT_TRUE(server->WaitForConnections(1));
  auto rec = server->connections()[0];
  EXPECT_TRUE(rec.evidence_sent);
  EXPECT_EQ(rec.frames_after_evidence, 0);  // no XX message 3: the static key was not revealed
  EXPECT_FALSE(rec.handshake_complete);
}

TEST_P(ClientTest, RejectedFallbackKeepsTheOldKey) {
  auto server = Start();
  ConnectResult first = Connect(server->endpoint(), options_);
  ASSERT_THAT(first.status, IsOk());
  first.session->Close();
  const Bytes good_key = server->static_public_key();
  // The "restarted" server runs other code: its measurement is not allowed.
  testing::EvidenceSpec other = DefaultEvidence();
  other.report.measurement = Bytes(48, 0x66);
  ASSERT_THAT(server->SetEvidence(other), IsOk());
  ASSERT_THAT(server->RotateStaticKey(), IsOk());
  ConnectResult r = Connect(server->endpoint(), options_);
  EXPECT_THAT(r.status, StatusIs(StatusCode::kUnauthenticated, "snp.policy_measurement"));
  ASSERT_TRUE(r.verdict.has_value());
  EXPECT_EQ(options_.known_servers->Find(server->endpoint()), good_key);
  ASSERT_TRUE(server->WaitForConnections(2));
  auto rec = server->connections()[1];
  EXPECT_EQ(rec.pattern, noise::PipesPattern::kXXfallback);
  EXPECT_EQ(rec.frames_after_evidence, 0);
  EXPECT_FALSE(rec.handshake_complete);
}

TEST_P(ClientTest, UntrustedRootIsRejected) {
  auto server = Start();
  auto path = testing::WriteTrustFile(dir_.path(), *SharedPlatform(), testing::DefaultPolicyYaml(), "  amd: true\n");
  options_.trust = std::make_shared<const TrustConfig>(LoadTrustConfig(*path).value());
  ConnectResult r = Connect(server->endpoint(), options_);
  EXPECT_THAT(r.status, StatusIs(StatusCode::kUnauthenticated, "snp.ark_untrusted"));
  ASSERT_TRUE(r.verdict.has_value());
  EXPECT_TRUE(r.verdict->root.empty());
}

TEST_P(ClientTest, OperationsWithChunkedMegabyteValues) {
  auto server = Start();
  ConnectResult c = Connect(server->endpoint(), options_);
  ASSERT_THAT(c.status, IsOk());
  Session& s = *c.session;
  Bytes big(1024 * 1024);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>((i * 7) % 253);
  ASSERT_THAT(s.Put("photos/big", big), IsOk());
  EXPECT_EQ(s.Get("photos/big").value(), big);
  ASSERT_THAT(s.Put("photos/empty", {}), IsOk());
  EXPECT_TRUE(s.Get("photos/empty").value().empty());
  for (int i = 0; i < 5; ++i) ASSERT_THAT(s.Put("notes/" + std::to_string(i), AsBytes("n")), IsOk());
  // Paging: 2 + 2 + 1.
  std::vector<std::string> all;
  Bytes token;
  int pages = 0;
  do {
    Result<ListPage> page = s.List("notes/", token, 2);
    ASSERT_THAT(page, IsOk());
    all.insert(all.end(), page->keys.begin(), page->keys.end());
    token = page->next_page_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(all, (std::vector<std::string>{"notes/0", "notes/1", "notes/2", "notes/3", "notes/4"}));
  EXPECT_THAT(s.Delete("notes/0"), IsOk());
  EXPECT_THAT(s.Delete("notes/0"), StatusIs(StatusCode::kNotFound, "workload.not_found"));
  EXPECT_THAT(s.Get("notes/0"), StatusIs(StatusCode::kNotFound, "workload.not_found"));
  // A caller mistake is refused locally and the session goes on.
  EXPECT_THAT(s.Put("", AsBytes("x")), StatusIs(StatusCode::kInvalidArgument, "session.empty_key"));
  EXPECT_THAT(s.Put("k", Bytes(1024 * 1024 + 1)), StatusIs(StatusCode::kInvalidArgument, "session.value_too_large"));
  EXPECT_THAT(s.Whoami(), IsOk());

  // Another user sees none of it.
  ClientOptions other = options_;
  other.identity = testing::NewStaticKey();
  ConnectResult c2 = Connect(server->endpoint(), other);
  ASSERT_THAT(c2.status, IsOk());
  EXPECT_THAT(c2.session->Get("photos/big"), StatusIs(StatusCode::kNotFound, "workload.not_found"));
  EXPECT_TRUE(c2.session->List("", {}, 100).value().keys.empty());
}

TEST_P(ClientTest, ServerCloseEndsTheSession) {
  TestServer::Options o;
  o.close_after_requests = 1;
  auto server = Start(o);
  ConnectResult c = Connect(server->endpoint(), options_);
  ASSERT_THAT(c.status, IsOk());
  EXPECT_THAT(c.session->Whoami(), IsOk());
  EXPECT_THAT(c.session->Whoami(), StatusIs(StatusCode::kUnavailable, "session.server_shutdown"));
  EXPECT_TRUE(c.session->closed());
  EXPECT_THAT(c.session->Whoami(), StatusIs(StatusCode::kFailedPrecondition, "client.session_closed"));
}

// Finding: the cache was keyed by endpoint only, so a key cached under a
// lenient trust file was used for IK under a stricter one, and IK message 1
// carried the client's static key (its identity) to a server the current
// configuration rejects. Entries are now bound to the trust configuration.
TEST_P(ClientTest, KeyCachedUnderALenientTrustFileIsNotOfferedUnderAStricterOne) {
  TestServer::Options o;
  o.evidence.report.measurement = Bytes(48, 0x66);  // not in the default policy
  auto server = Start(o);
  const std::shared_ptr<const TrustConfig> strict = options_.trust;
  auto lenient_path = testing::WriteTrustFile(dir_.path(), *SharedPlatform(), "  allow_any_measurement: true\n");
  ASSERT_TRUE(lenient_path.has_value());
  const auto lenient = std::make_shared<const TrustConfig>(LoadTrustConfig(*lenient_path).value());

  options_.trust = lenient;
  ConnectResult a = Connect(server->endpoint(), options_);
  ASSERT_THAT(a.status, IsOk());
  EXPECT_EQ(a.pattern, noise::PipesPattern::kXX);
  EXPECT_THAT(a.cache_status, IsOk());
  a.session->Close();
  ConnectResult a2 = Connect(server->endpoint(), options_);  // the cache works
  ASSERT_THAT(a2.status, IsOk());
  EXPECT_EQ(a2.pattern, noise::PipesPattern::kIK);
  a2.session->Close();

  // The trust file was tightened: the server is no longer acceptable. The
  // client must offer XX (its static key stays hidden) and reject.
  options_.trust = strict;
  ConnectResult b = Connect(server->endpoint(), options_);
  EXPECT_THAT(b.status, StatusIs(StatusCode::kUnauthenticated, "snp.policy_measurement"));
  ASSERT_TRUE(server->WaitForConnections(3));
  const auto rec = server->connections()[2];
  EXPECT_EQ(rec.pattern, noise::PipesPattern::kXX);  // not IK
  EXPECT_TRUE(rec.evidence_sent);
  EXPECT_EQ(rec.frames_after_evidence, 0);
  EXPECT_FALSE(rec.handshake_complete);
  EXPECT_FALSE(options_.known_servers->Find(server->endpoint(), TrustConfigFingerprint(*strict).value()).has_value());
  EXPECT_TRUE(options_.known_servers->Find(server->endpoint(), TrustConfigFingerprint(*lenient).value()).has_value());
}

TEST_P(ClientTest, EachTrustConfigurationVerifiesBeforeItsOwnIk) {
  auto server = Start();
  const std::shared_ptr<const TrustConfig> a = options_.trust;
  auto b_path = testing::WriteTrustFile(dir_.path(), *SharedPlatform(),
                                        testing::DefaultPolicyYaml() + "  max_vmpl: 1\n");  // another configuration
  ASSERT_TRUE(b_path.has_value());
  const auto b = std::make_shared<const TrustConfig>(LoadTrustConfig(*b_path).value());
  const std::pair<std::shared_ptr<const TrustConfig>, noise::PipesPattern> steps[] = {
      {a, noise::PipesPattern::kXX},  // cached under A
      {b, noise::PipesPattern::kXX},  // B has no key of its own: XX, not IK
      {b, noise::PipesPattern::kIK},
      {a, noise::PipesPattern::kIK},  // A's entry is still there
  };
  for (const auto& [trust, pattern] : steps) {
    options_.trust = trust;
    ConnectResult c = Connect(server->endpoint(), options_);
    ASSERT_THAT(c.status, IsOk());
    EXPECT_EQ(c.pattern, pattern);
    EXPECT_THAT(c.cache_status, IsOk());
    c.session->Close();
  }
  ASSERT_TRUE(server->WaitForConnections(4));
  const auto records = server->connections();
  EXPECT_EQ(records[1].pattern, noise::PipesPattern::kXX);
}

// Finding: ConnectOver accepts any cache key; one that was not UTF-8 made the
// known-servers update throw (nlohmann type_error 316) after a completed
// handshake, and the session was lost as "client.internal".
TEST_P(ClientTest, ConnectOverWithAnUnusableCacheKeyKeepsTheSession) {
  auto server = Start();
  for (const std::string& key : {std::string("\xff\xfe:1"), std::string("caf\xc3\xa9:1"), std::string()}) {
    Result<std::unique_ptr<FrameConnection>> connection =
        Dial(ParseEndpoint(server->endpoint()).value(), Clock::now() + std::chrono::seconds(10));
    ASSERT_THAT(connection, IsOk());
    ConnectResult r = ConnectOver(std::move(connection).value(), key, options_);
    ASSERT_THAT(r.status, IsOk());
    EXPECT_EQ(r.pattern, noise::PipesPattern::kXX);
    EXPECT_THAT(r.cache_status, StatusIs(StatusCode::kInvalidArgument, "client.known_servers_bad_endpoint"));
    EXPECT_THAT(r.session->Whoami(), IsOk());
  }
  // The cache file is intact and still usable.
  EXPECT_THAT(KnownServers::Open(dir_.File("known.json")), IsOk());
}

INSTANTIATE_TEST_SUITE_P(Transports, ClientTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "WebSocket" : "Tcp"; });

class ClientConnectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { SharedPlatform(); }
  void SetUp() override {
    auto path = testing::WriteTrustFile(dir_.path(), *SharedPlatform(), testing::DefaultPolicyYaml());
    options_.trust = std::make_shared<const TrustConfig>(LoadTrustConfig(*path).value());
    options_.identity = testing::NewStaticKey();
    options_.at_unix_seconds = testing::kAt;
  }
  TempDir dir_;
  ClientOptions options_;
};

TEST_F(ClientConnectionTest, WebSocketWithoutTheSubprotocolIsRefused) {
  TestServer::Options o;
  o.websocket = true;
  o.ws_subprotocol = "";
  auto server = TestServer::Start(o).value();
  ConnectResult r = Connect(server->endpoint(), options_);
  EXPECT_THAT(r.status, StatusIs(StatusCode::kFailedPrecondition, "client.websocket_refused"));
  EXPECT_FALSE(r.verdict.has_value());
  o.ws_subprotocol = "secure-perimeter.v2";
  auto server2 = TestServer::Start(o).value();
  EXPECT_THAT(Connect(server2->endpoint(), options_).status,
              StatusIs(StatusCode::kFailedPrecondition, "client.websocket_refused"));
}

TEST_F(ClientConnectionTest, ConnectionErrorsHaveNoVerdict) {
  // A port nobody listens on (bound, never listened).
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string endpoint = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  ConnectResult r = Connect(endpoint, options_);
  EXPECT_THAT(r.status, StatusIs(StatusCode::kUnavailable, "client.connect_failed"));
  EXPECT_FALSE(r.verdict.has_value());
  // A server that accepts and never answers: the handshake times out.
  ASSERT_EQ(::listen(fd, 4), 0);
  options_.handshake_timeout = std::chrono::milliseconds(300);
  r = Connect(endpoint, options_);
  EXPECT_THAT(r.status, StatusIs(StatusCode::kUnavailable, "client.timeout"));
  EXPECT_FALSE(r.verdict.has_value());
  ::close(fd);
  EXPECT_THAT(Connect("nonsense", options_).status, StatusIs(StatusCode::kInvalidArgument, "client.bad_endpoint"));
  ClientOptions none;
  EXPECT_THAT(Connect(endpoint, none).status, StatusIs(StatusCode::kInvalidArgument, "client.missing_trust"));
}

}  // namespace
}  // namespace perimeter::client
