// End-to-end tests of the attested channel (issue 4, point 7): a real
// `perimeter serve` process on 127.0.0.1 with the simulated SEV-SNP
// platform, real sockets, the C++ client library, over TCP and WebSocket.
//
// Each test starts its own server process (ephemeral ports, reported through
// --ready-file) on a data directory the test owns, so restarts keep or
// change exactly what the test says.
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "perimeter/attest/snp/simulated/platform.h"
#include "perimeter/base/bytes.h"
#include "perimeter/client/client.h"
#include "perimeter/client/identity.h"
#include "perimeter/client/known_servers.h"
#include "perimeter/client/trust_config.h"
#include "perimeter/crypto/hash.h"
#include "perimeter/crypto/random.h"
#include "perimeter/keys/identifiers.h"
#include "tests/e2e/rogue_server.h"
#include "tests/e2e/server_harness.h"
#include "tests/testing/child_process.h"
#include "tests/testing/matchers.h"

namespace perimeter::e2e {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;
using ::perimeter::testing::TempDir;
using ::testing::HasSubstr;

namespace sim = attest::snp::simulated;
using namespace std::chrono_literals;

// One simulated platform for the whole binary (two RSA-4096 keys take
// seconds), and a second, independent one for the untrusted-root case.
struct Platforms {
  TempDir dir;
  std::string trusted;    // directory of the platform the trust files name
  std::string untrusted;  // another platform, never named
};

Platforms* g_platforms = nullptr;

class Environment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_platforms = new Platforms();
    g_platforms->trusted = g_platforms->dir.File("platform");
    g_platforms->untrusted = g_platforms->dir.File("other-platform");
    ASSERT_THAT(MakePlatform(g_platforms->trusted), IsOk());
    ASSERT_THAT(MakePlatform(g_platforms->untrusted), IsOk());
  }
  void TearDown() override {
    delete g_platforms;
    g_platforms = nullptr;
  }
};

const ::testing::Environment* const kEnv = ::testing::AddGlobalTestEnvironment(new Environment);

std::string Measurement(const std::string& binary) {
  Result<std::string> m = MeasurementOf(binary);
  EXPECT_THAT(m, IsOk());
  return m.has_value() ? *m : std::string();
}

std::shared_ptr<const client::TrustConfig> Trust(bool name_simulated_ark, const std::vector<std::string>& measurements) {
  auto t = MakeTrust(name_simulated_ark ? g_platforms->trusted : "", measurements);
  EXPECT_THAT(t, IsOk());
  return t.has_value() ? *t : nullptr;
}

enum class Transport { kTcp, kWebSocket };

std::string TransportName(const ::testing::TestParamInfo<Transport>& info) {
  return info.param == Transport::kTcp ? "Tcp" : "WebSocket";
}

std::string EndpointOf(const ServerProcess& s, Transport t) { return t == Transport::kTcp ? s.tcp() : s.ws(); }

std::shared_ptr<const crypto::XdhPrivateKey> NewIdentity() {
  Result<crypto::XdhPrivateKey> k = crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519);
  EXPECT_THAT(k, IsOk());
  return std::make_shared<const crypto::XdhPrivateKey>(*std::move(k));
}

std::string Str(const Result<Bytes>& r) {
  return r.has_value() ? std::string(r->begin(), r->end()) : "<" + r.status().ToString() + ">";
}
std::string Str(const Bytes& b) { return std::string(b.begin(), b.end()); }

std::string UserIdOf(const crypto::XdhPrivateKey& key) {
  Result<std::string> id = keys::UserIdFromStaticKey(key.public_key());
  EXPECT_THAT(id, IsOk());
  return id.has_value() ? *id : std::string();
}

const attest::Check* FindCheck(const attest::Verdict& v, std::string_view id) {
  for (const attest::Check& c : v.checks) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

class E2eTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    ASSERT_NE(g_platforms, nullptr);
    trust_ = Trust(true, {Measurement(PERIMETER_BINARY)});
    ASSERT_NE(trust_, nullptr);
    ASSERT_THAT(server_.Start(PERIMETER_BINARY), IsOk());
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "--- server log ---\n%s\n", server_.Log().c_str());
  }

  client::ClientOptions Options(std::shared_ptr<const crypto::XdhPrivateKey> identity,
                                std::shared_ptr<client::KnownServers> known = nullptr) const {
    client::ClientOptions o;
    o.trust = trust_;
    o.identity = std::move(identity);
    o.known_servers = std::move(known);
    o.handshake_timeout = 20s;
    o.request_timeout = 30s;
    return o;
  }
  std::string Endpoint() const { return EndpointOf(server_, GetParam()); }

  TempDir dir_;
  ServerProcess server_{dir_.path(), "server", g_platforms->trusted};
  std::shared_ptr<const client::TrustConfig> trust_;
};

// XX on first contact: the client verifies the simulated platform's evidence
// (named explicitly in the trust file), the binding to the server's static
// key, and the measurement; whoami answers the user_id of our static key.
TEST_P(E2eTest, FirstContactUsesXxAndVerifiesEverything) {
  auto alice = NewIdentity();
  client::ConnectResult c = client::Connect(Endpoint(), Options(alice));
  ASSERT_THAT(c.status, IsOk());
  ASSERT_TRUE(c.verdict.has_value());
  EXPECT_TRUE(c.verdict->accepted()) << c.verdict->ToText();
  EXPECT_THAT(c.verdict->root, HasSubstr("explicitly trusted root"));
  EXPECT_EQ(c.pattern, noise::PipesPattern::kXX);
  for (std::string_view id : {"evidence.format", "snp.ark_trusted", "snp.crl", "snp.report_signature",
                              "channel.binding", "policy.measurement"}) {
    const attest::Check* check = FindCheck(*c.verdict, id);
    ASSERT_NE(check, nullptr) << id;
    EXPECT_EQ(check->result, attest::CheckResult::kPassed) << id;
  }
  Result<std::string> who = c.session->Whoami();
  ASSERT_THAT(who, IsOk());
  EXPECT_EQ(*who, UserIdOf(*alice));
}

// IK with the cached key on the next connection; after a restart (new static
// key) the cached key is stale: the server answers with XXfallback, the
// evidence is verified again and the cache now holds the new key.
TEST_P(E2eTest, IkResumptionAndFallbackAfterRestart) {
  auto alice = NewIdentity();
  auto known = client::KnownServers::InMemory();
  std::shared_ptr<client::KnownServers> cache(std::move(known));
  {
    client::ConnectResult c = client::Connect(Endpoint(), Options(alice, cache));
    ASSERT_THAT(c.status, IsOk());
    EXPECT_EQ(c.pattern, noise::PipesPattern::kXX);
    ASSERT_THAT(c.session->Put("k", AsBytes("v1")), IsOk());
  }
  {
    client::ConnectResult c = client::Connect(Endpoint(), Options(alice, cache));
    ASSERT_THAT(c.status, IsOk());
    EXPECT_EQ(c.pattern, noise::PipesPattern::kIK);
    EXPECT_TRUE(c.verdict->accepted());
  }
  const Bytes fingerprint = client::TrustConfigFingerprint(*trust_).value();
  const std::optional<Bytes> before = cache->Find(client::ParseEndpoint(Endpoint())->ToString(), fingerprint);
  ASSERT_TRUE(before.has_value());

  ASSERT_EQ(server_.Stop(), 0);
  ASSERT_THAT(server_.Start(PERIMETER_BINARY), IsOk());
  // Same ports are not guaranteed: move the cached key to the new endpoint.
  ASSERT_THAT(cache->Remember(client::ParseEndpoint(Endpoint())->ToString(), fingerprint, *before), IsOk());

  client::ConnectResult c = client::Connect(Endpoint(), Options(alice, cache));
  ASSERT_THAT(c.status, IsOk());
  EXPECT_EQ(c.pattern, noise::PipesPattern::kXXfallback);
  EXPECT_TRUE(c.verdict->accepted());
  EXPECT_NE(c.session->server_static_key(), *before);
  // Data written before the restart is still there (same master secret).
  Result<Bytes> v = c.session->Get("k");
  ASSERT_THAT(v, IsOk());
  EXPECT_EQ(Str(*v), "v1");
  c.session->Close();

  client::ConnectResult again = client::Connect(Endpoint(), Options(alice, cache));
  ASSERT_THAT(again.status, IsOk());
  EXPECT_EQ(again.pattern, noise::PipesPattern::kIK);
}

// A trust file that does not name the simulated ARK: only AMD's roots are
// trusted, so the simulated platform's evidence is rejected and no session
// is opened.
TEST_P(E2eTest, UntrustedRootIsRejected) {
  auto trust = Trust(false, {Measurement(PERIMETER_BINARY)});
  client::ClientOptions o = Options(NewIdentity());
  o.trust = trust;
  client::ConnectResult c = client::Connect(Endpoint(), o);
  EXPECT_THAT(c.status, StatusIs(StatusCode::kUnauthenticated, "snp.ark_untrusted"));
  EXPECT_EQ(c.session, nullptr);
  ASSERT_TRUE(c.verdict.has_value());
  EXPECT_FALSE(c.verdict->accepted());
  ASSERT_NE(c.verdict->first_failure(), nullptr);
  EXPECT_EQ(c.verdict->first_failure()->id, "snp.ark_trusted");
}

// The simulated ARK of another platform, named in the trust file, does not
// vouch for this server's platform either.
TEST_P(E2eTest, AnotherSimulatedRootIsRejected) {
  std::string yaml = "version: 1\nroots:\n  amd: false\n  arks: [" + g_platforms->untrusted +
                     "/ark.pem]\npolicy:\n  measurements: [" + Measurement(PERIMETER_BINARY) + "]\n";
  Result<client::TrustConfig> t = client::ParseTrustConfig(yaml, "/");
  ASSERT_THAT(t, IsOk());
  client::ClientOptions o = Options(NewIdentity());
  o.trust = std::make_shared<const client::TrustConfig>(*std::move(t));
  client::ConnectResult c = client::Connect(Endpoint(), o);
  EXPECT_THAT(c.status, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(c.session, nullptr);
  ASSERT_TRUE(c.verdict.has_value());
  ASSERT_NE(c.verdict->first_failure(), nullptr);
  EXPECT_EQ(c.verdict->first_failure()->id, "snp.ark_trusted");
}

// A measurement that is not allowed (the server's code differs from what the
// trust file names) is rejected with the policy's reason.
TEST_P(E2eTest, MeasurementNotAllowedIsRejected) {
  client::ClientOptions o = Options(NewIdentity());
  o.trust = Trust(true, {std::string(96, 'a')});
  client::ConnectResult c = client::Connect(Endpoint(), o);
  EXPECT_THAT(c.status, StatusIs(StatusCode::kUnauthenticated, "snp.policy_measurement"));
  EXPECT_EQ(c.session, nullptr);
  ASSERT_TRUE(c.verdict.has_value());
  EXPECT_EQ(c.verdict->first_failure()->id, "policy.measurement");
}

// A server whose code changed: a copy of the binary with bytes appended (it
// runs the same, but measures differently) is rejected by the trust file of
// the original; a trust file that allows the new measurement accepts it.
TEST_P(E2eTest, ChangedCodeIsRejectedUntilItsMeasurementIsAllowed) {
  const std::string v2 = dir_.File("perimeter-v2");
  ASSERT_TRUE(testing::WriteFile(v2, testing::ReadFileOrEmpty(PERIMETER_BINARY) + "\npatched build\n"));
  ASSERT_EQ(::chmod(v2.c_str(), 0755), 0);
  ServerProcess changed(dir_.path(), "changed", g_platforms->trusted);
  ASSERT_THAT(changed.Start(v2), IsOk());
  client::ConnectResult c = client::Connect(EndpointOf(changed, GetParam()), Options(NewIdentity()));
  EXPECT_THAT(c.status, StatusIs(StatusCode::kUnauthenticated, "snp.policy_measurement"));
  EXPECT_EQ(c.session, nullptr);

  client::ClientOptions o = Options(NewIdentity());
  o.trust = Trust(true, {Measurement(PERIMETER_BINARY), Measurement(v2)});
  client::ConnectResult ok = client::Connect(EndpointOf(changed, GetParam()), o);
  EXPECT_THAT(ok.status, IsOk());
  EXPECT_EQ(changed.Stop(), 0);
}

// The evidence-replay attack: an impostor presents the genuine server's
// evidence (captured from a handshake) with its own static key. Everything
// about the report verifies except the binding, which names the genuine key.
// (The impostor speaks TCP only; the binding check does not depend on the
// transport.)
class E2eImpostorTest : public E2eTest {};

TEST_P(E2eImpostorTest, EvidenceNotBoundToTheServersKeyIsRejected) {
  const auto colon = server_.tcp().rfind(':');
  Result<Bytes> evidence =
      CaptureEvidence(server_.tcp().substr(0, colon), static_cast<std::uint16_t>(std::stoi(server_.tcp().substr(colon + 1))));
  ASSERT_THAT(evidence, IsOk());
  Result<std::unique_ptr<RogueServer>> rogue = RogueServer::Start(*evidence);
  ASSERT_THAT(rogue, IsOk());
  client::ConnectResult c =
      client::Connect("127.0.0.1:" + std::to_string((*rogue)->port()), Options(NewIdentity()));
  EXPECT_THAT(c.status, StatusIs(StatusCode::kUnauthenticated, "channel.binding_mismatch"));
  EXPECT_EQ(c.session, nullptr);
  ASSERT_TRUE(c.verdict.has_value());
  EXPECT_EQ(c.verdict->first_failure()->id, "channel.binding");
  // The report itself verified: only the binding failed.
  EXPECT_EQ(FindCheck(*c.verdict, "snp.report_signature")->result, attest::CheckResult::kPassed);
  EXPECT_EQ((*rogue)->evidence_sent(), 1);
  EXPECT_EQ((*rogue)->completed(), 0);
}

// Two users on one server: each reads, lists, overwrites and deletes only
// its own records, even under the same record keys.
TEST_P(E2eTest, TwoUsersAreIsolated) {
  auto alice_key = NewIdentity();
  auto bob_key = NewIdentity();
  client::ConnectResult alice = client::Connect(Endpoint(), Options(alice_key));
  client::ConnectResult bob = client::Connect(Endpoint(), Options(bob_key));
  ASSERT_THAT(alice.status, IsOk());
  ASSERT_THAT(bob.status, IsOk());
  EXPECT_NE(*alice.session->Whoami(), *bob.session->Whoami());

  ASSERT_THAT(alice.session->Put("notes/secret", AsBytes("alice's")), IsOk());
  ASSERT_THAT(alice.session->Put("notes/only-alice", AsBytes("a")), IsOk());
  EXPECT_THAT(bob.session->Get("notes/only-alice"), StatusIs(StatusCode::kNotFound, "workload.not_found"));
  EXPECT_THAT(bob.session->Delete("notes/only-alice"), StatusIs(StatusCode::kNotFound, "workload.not_found"));
  Result<client::ListPage> bob_list = bob.session->List("");
  ASSERT_THAT(bob_list, IsOk());
  EXPECT_TRUE(bob_list->keys.empty());

  // Bob writes the same key: his own record, Alice's is untouched.
  ASSERT_THAT(bob.session->Put("notes/secret", AsBytes("bob's")), IsOk());
  EXPECT_EQ(Str(alice.session->Get("notes/secret")), "alice's");
  EXPECT_EQ(Str(bob.session->Get("notes/secret")), "bob's");
  ASSERT_THAT(bob.session->Delete("notes/secret"), IsOk());
  EXPECT_EQ(Str(alice.session->Get("notes/secret")), "alice's");

  Result<client::ListPage> alice_list = alice.session->List("notes/");
  ASSERT_THAT(alice_list, IsOk());
  EXPECT_EQ(alice_list->keys, (std::vector<std::string>{"notes/only-alice", "notes/secret"}));

  // The same identity on a new connection is the same user.
  client::ConnectResult alice2 = client::Connect(Endpoint(), Options(alice_key));
  ASSERT_THAT(alice2.status, IsOk());
  EXPECT_EQ(Str(alice2.session->Get("notes/only-alice")), "a");
}

// Paging, a 1 MiB value (chunked both ways), and data kept across a clean
// restart (SIGTERM drains and exits 0).
TEST_P(E2eTest, LargeValuesPagingAndDataKeptAcrossRestarts) {
  auto alice = NewIdentity();
  Bytes big(1 << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7 + 3);
  {
    client::ConnectResult c = client::Connect(Endpoint(), Options(alice));
    ASSERT_THAT(c.status, IsOk());
    ASSERT_THAT(c.session->Put("big", big), IsOk());
    for (int i = 0; i < 25; ++i) {
      char key[16];
      std::snprintf(key, sizeof(key), "p/%02d", i);
      ASSERT_THAT(c.session->Put(key, AsBytes(std::string(key))), IsOk());
    }
    std::vector<std::string> all;
    Bytes token;
    do {
      Result<client::ListPage> page = c.session->List("p/", token, 10);
      ASSERT_THAT(page, IsOk());
      EXPECT_LE(page->keys.size(), 10u);
      all.insert(all.end(), page->keys.begin(), page->keys.end());
      token = page->next_page_token;
    } while (!token.empty());
    ASSERT_EQ(all.size(), 25u);
    EXPECT_EQ(all.front(), "p/00");
    EXPECT_EQ(all.back(), "p/24");
  }
  ASSERT_EQ(server_.Stop(), 0);
  ASSERT_THAT(server_.Start(PERIMETER_BINARY), IsOk());
  client::ConnectResult c = client::Connect(Endpoint(), Options(alice));
  ASSERT_THAT(c.status, IsOk());
  Result<Bytes> back = c.session->Get("big");
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(*back, big);
  EXPECT_EQ(Str(c.session->Get("p/17")), "p/17");
}

// Durability under load: writers put distinct keys; the server is killed
// with SIGKILL in the middle; after a restart every acknowledged put is
// there with its value.
TEST_P(E2eTest, AcknowledgedPutsSurviveKillNine) {
  constexpr int kWriters = 8;
  std::mutex mu;
  std::vector<std::pair<std::shared_ptr<const crypto::XdhPrivateKey>, std::vector<std::string>>> acked(kWriters);
  std::atomic<int> total{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    acked[static_cast<std::size_t>(w)].first = NewIdentity();
    writers.emplace_back([&, w] {
      auto& mine = acked[static_cast<std::size_t>(w)];
      client::ConnectResult c = client::Connect(Endpoint(), Options(mine.first));
      if (!c.status.ok()) return;
      for (int i = 0; i < 100000; ++i) {
        const std::string key = "k" + std::to_string(i);
        if (!c.session->Put(key, AsBytes("value of " + key)).ok()) return;  // the kill
        std::lock_guard lock(mu);
        mine.second.push_back(key);
        ++total;
      }
    });
  }
  // Kill once a good number of writes were acknowledged, with writes in flight.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (total.load() < 400 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  ASSERT_GE(total.load(), 400) << "writers made too little progress";
  server_.Kill();
  for (auto& t : writers) t.join();

  ASSERT_THAT(server_.Start(PERIMETER_BINARY), IsOk());
  int checked = 0;
  for (auto& [identity, keys] : acked) {
    client::ConnectResult c = client::Connect(Endpoint(), Options(identity));
    ASSERT_THAT(c.status, IsOk());
    for (const std::string& key : keys) {
      Result<Bytes> v = c.session->Get(key);
      ASSERT_THAT(v, IsOk()) << key;
      EXPECT_EQ(Str(*v), "value of " + key);
      ++checked;
    }
  }
  std::printf("kill -9 under load: %d acknowledged puts, all %d read back after restart\n", total.load(),
              checked);
  EXPECT_EQ(checked, total.load());
}

// SIGTERM with an idle session open: the server closes it with
// session.server_shutdown (or drops the connection) and exits 0.
TEST_P(E2eTest, SigtermDrainsAndExitsCleanly) {
  client::ConnectResult c = client::Connect(Endpoint(), Options(NewIdentity()));
  ASSERT_THAT(c.status, IsOk());
  ASSERT_THAT(c.session->Put("a", AsBytes("b")), IsOk());
  EXPECT_EQ(server_.Stop(), 0);
  Status after = c.session->Put("c", AsBytes("d"));
  EXPECT_FALSE(after.ok());
}

// The C API (include/perimeter/perimeter.h), from a program written in C,
// against the real server: XX then IK, every operation, a chunked 1 MiB
// value, error reasons (src/client/c_api_test.c).
TEST_P(E2eTest, CApiProgramAgainstTheRealServer) {
  const std::string trust = dir_.File("c-trust.yaml");
  ASSERT_TRUE(testing::WriteFile(trust, "version: 1\nroots:\n  amd: true\n  arks: [" + g_platforms->trusted +
                                            "/ark.pem]\npolicy:\n  measurements: [" +
                                            Measurement(PERIMETER_BINARY) + "]\n"));
  const std::string work = dir_.File("c-work");
  ASSERT_EQ(::mkdir(work.c_str(), 0700), 0);
  auto child = testing::ChildProcess::Start({PERIMETER_C_API_TEST, Endpoint(), trust, work}, dir_.File("c-api.log"));
  ASSERT_THAT(child, IsOk());
  std::optional<int> code = child->Wait(120s);
  EXPECT_EQ(code, 0) << testing::ReadFileOrEmpty(dir_.File("c-api.log"));
}

// `perimeter verify` and `perimeter client` against the real server: the
// verdict with every check (text and JSON), exit 0 accepted / 1 rejected,
// and the session operations from the command line.
TEST_P(E2eTest, CommandLineVerifyAndClient) {
  int run = 0;
  auto cli = [&](std::vector<std::string> args) {
    const std::string out = dir_.File("cli-" + std::to_string(++run) + ".out");
    args.insert(args.begin(), PERIMETER_BINARY);
    auto child = testing::ChildProcess::Start(args, out);
    EXPECT_THAT(child, IsOk());
    std::optional<int> code = child.has_value() ? child->Wait(60s) : std::nullopt;
    return std::make_pair(code.value_or(-1), testing::ReadFileOrEmpty(out));
  };
  auto write_trust = [&](const std::string& name, const std::string& measurement) {
    const std::string path = dir_.File(name);
    EXPECT_TRUE(testing::WriteFile(path, "version: 1\nroots:\n  arks: [" + g_platforms->trusted +
                                             "/ark.pem]\npolicy:\n  measurements: [" + measurement + "]\n"));
    return path;
  };
  const std::string good = write_trust("good.yaml", Measurement(PERIMETER_BINARY));
  const std::string bad = write_trust("bad.yaml", std::string(96, 'b'));

  auto [ok_code, ok_text] = cli({"verify", Endpoint(), "--trust", good});
  EXPECT_EQ(ok_code, 0) << ok_text;
  for (const char* line : {"[pass] evidence document", "[pass] report signature", "[pass] REPORT_DATA binds",
                           "[pass] launch measurement allowed", "verdict: ACCEPTED"}) {
    EXPECT_THAT(ok_text, HasSubstr(line));
  }
  auto [bad_code, bad_json] = cli({"verify", Endpoint(), "--trust", bad, "--json"});
  EXPECT_EQ(bad_code, 1) << bad_json;
  nlohmann::json verdict = nlohmann::json::parse(bad_json, nullptr, false);
  ASSERT_TRUE(verdict.is_object()) << bad_json;
  EXPECT_EQ(verdict["accepted"], false);
  EXPECT_EQ(verdict["reason"], "snp.policy_measurement");
  EXPECT_GE(verdict["checks"].size(), 20u);

  const std::vector<std::string> common = {"client", "--trust", good, "--identity", dir_.File("me.key"),
                                           "--known-servers", dir_.File("known.json"), Endpoint()};
  auto with = [&](std::vector<std::string> op) {
    std::vector<std::string> args = common;
    args.insert(args.end(), op.begin(), op.end());
    return cli(args);
  };
  EXPECT_EQ(with({"put", "notes/a", "hello from the CLI"}).first, 0);
  EXPECT_EQ(with({"put", "notes/b", "second"}).first, 0);
  auto [get_code, got] = with({"get", "notes/a"});
  EXPECT_EQ(get_code, 0);
  EXPECT_THAT(got, HasSubstr("hello from the CLI"));
  auto [list_code, listed] = with({"list", "notes/"});
  EXPECT_EQ(list_code, 0);
  EXPECT_THAT(listed, HasSubstr("notes/a\nnotes/b\n"));
  EXPECT_EQ(with({"delete", "notes/a"}).first, 0);
  auto [missing_code, missing] = with({"get", "notes/a"});
  EXPECT_NE(missing_code, 0);
  EXPECT_THAT(missing, HasSubstr("workload.not_found"));
  // The CLI cached the verified key: the next connections used IK.
  EXPECT_THAT(testing::ReadFileOrEmpty(dir_.File("known.json")), HasSubstr(client::ParseEndpoint(Endpoint())->ToString()));
}

INSTANTIATE_TEST_SUITE_P(Transports, E2eTest, ::testing::Values(Transport::kTcp, Transport::kWebSocket),
                         TransportName);
INSTANTIATE_TEST_SUITE_P(Tcp, E2eImpostorTest, ::testing::Values(Transport::kTcp), TransportName);

}  // namespace
}  // namespace perimeter::e2e
