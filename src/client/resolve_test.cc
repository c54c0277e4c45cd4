// Name resolution honours the connect deadline (resolve.h). This binary
// interposes getaddrinfo: the reserved name kStalledName stalls (like a DNS
// server that never answers) until the test releases it, or by itself after
// kStallLimit; every other name goes to the real getaddrinfo. Without the
// fix (Asio's resolver, whose completion Dial waited for) every Dial of the
// stalled name took the whole kStallLimit, whatever its deadline.
#include "client/resolve.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <netdb.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "client/testing/test_server.h"
#include "perimeter/client/client.h"
#include "perimeter/perimeter.h"
#include "tests/testing/matchers.h"

namespace {

constexpr const char* kStalledName = "stalled.perimeter.invalid";
constexpr auto kStallLimit = std::chrono::seconds(8);

std::mutex g_mu;
std::condition_variable g_cv;
bool g_released = false;  // GUARDED_BY(g_mu)
std::atomic<int> g_stalled_calls{0};

using RealGetAddrInfo = int (*)(const char*, const char*, const addrinfo*, addrinfo**);

int Stall() {
  g_stalled_calls.fetch_add(1);
  std::unique_lock<std::mutex> lock(g_mu);
  g_cv.wait_for(lock, kStallLimit, [] { return g_released; });
  return EAI_AGAIN;
}

}  // namespace

// The interposer (the executable's definition wins over libc's for every
// call from this binary, Asio's included).
extern "C" int getaddrinfo(const char* __restrict node, const char* __restrict service,
                           const addrinfo* __restrict hints, addrinfo** __restrict res) noexcept {
  static const RealGetAddrInfo real = reinterpret_cast<RealGetAddrInfo>(::dlsym(RTLD_NEXT, "getaddrinfo"));
  if (node != nullptr && std::strcmp(node, kStalledName) == 0) return Stall();
  if (real == nullptr) return EAI_SYSTEM;
  return real(node, service, hints, res);
}

namespace perimeter::client {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;
using std::chrono::milliseconds;

std::atomic<int> g_counted_calls{0};
int CountingGetAddrInfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res) {
  g_counted_calls.fetch_add(1);
  return ::getaddrinfo(node, service, hints, res);
}

class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::lock_guard<std::mutex> lock(g_mu);
    g_released = false;
  }
  // Releases every stalled lookup and waits for the abandoned threads.
  void TearDown() override {
    {
      std::lock_guard<std::mutex> lock(g_mu);
      g_released = true;
    }
    g_cv.notify_all();
    const auto until = Clock::now() + std::chrono::seconds(10);
    while (internal::AbandonedResolutions() != 0 && Clock::now() < until) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    EXPECT_EQ(internal::AbandonedResolutions(), 0u);
  }
};

TEST_F(ResolveTest, NumericHostsNeverReachTheResolver) {
  g_counted_calls = 0;
  const Deadline past = Clock::now() - std::chrono::seconds(1);  // no time at all is needed
  auto v4 = internal::ResolveTcp("127.0.0.1", 7000, past, &CountingGetAddrInfo);
  ASSERT_THAT(v4, IsOk());
  ASSERT_EQ(v4->size(), 1u);
  EXPECT_EQ((*v4)[0].address().to_string(), "127.0.0.1");
  EXPECT_EQ((*v4)[0].port(), 7000);
  auto v6 = internal::ResolveTcp("::1", 80, past, &CountingGetAddrInfo);
  ASSERT_THAT(v6, IsOk());
  ASSERT_EQ(v6->size(), 1u);
  EXPECT_TRUE((*v6)[0].address().is_v6());
  EXPECT_EQ(g_counted_calls.load(), 0);
}

TEST_F(ResolveTest, NamesAreResolved) {
  g_counted_calls = 0;
  auto r = internal::ResolveTcp("localhost", 7000, Clock::now() + std::chrono::seconds(10), &CountingGetAddrInfo);
  ASSERT_THAT(r, IsOk());
  ASSERT_FALSE(r->empty());
  for (const auto& e : *r) {
    EXPECT_TRUE(e.address().is_loopback()) << e.address().to_string();
    EXPECT_EQ(e.port(), 7000);
  }
  EXPECT_EQ(g_counted_calls.load(), 1);
  auto no_such_name = [](const char*, const char*, const addrinfo*, addrinfo**) { return EAI_NONAME; };
  EXPECT_THAT(internal::ResolveTcp("no-such-host.invalid", 1, Clock::now() + std::chrono::seconds(10), no_such_name),
              StatusIs(StatusCode::kUnavailable, "client.connect_failed"));
}

TEST_F(ResolveTest, AStalledLookupIsAbandonedAtTheDeadline) {
  const auto start = Clock::now();
  auto r = internal::ResolveTcp(kStalledName, 7000, start + milliseconds(200));
  const auto took = Clock::now() - start;
  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable, "client.timeout"));
  EXPECT_GE(took, milliseconds(190));
  EXPECT_LT(took, milliseconds(2000));
  EXPECT_EQ(internal::AbandonedResolutions(), 1u);
}

TEST_F(ResolveTest, AbandonedLookupsAreBounded) {
  const int before = g_stalled_calls.load();
  for (std::size_t i = 0; i < internal::kMaxAbandonedResolutions; ++i) {
    EXPECT_THAT(internal::ResolveTcp(kStalledName, 1, Clock::now() + milliseconds(20)),
                StatusIs(StatusCode::kUnavailable, "client.timeout"));
  }
  EXPECT_EQ(internal::AbandonedResolutions(), internal::kMaxAbandonedResolutions);
  // No further thread while they all hang; numeric hosts still work.
  const auto start = Clock::now();
  EXPECT_THAT(internal::ResolveTcp("other.perimeter.invalid", 1, Clock::now() + std::chrono::seconds(5)),
              StatusIs(StatusCode::kUnavailable, "client.connect_failed"));
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  EXPECT_THAT(internal::ResolveTcp("127.0.0.1", 1, Clock::now() + std::chrono::seconds(5)), IsOk());
  // Wait until every helper thread has really entered getaddrinfo, so the
  // release below reaches all of them.
  const auto until = Clock::now() + std::chrono::seconds(5);
  while (g_stalled_calls.load() - before < static_cast<int>(internal::kMaxAbandonedResolutions) &&
         Clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(5));
  }
}

// The finding itself, through Dial, Connect and the C API: a stalled DNS
// lookup no longer holds the caller past connect_timeout.
TEST_F(ResolveTest, DialConnectAndTheCApiReturnAtTheConnectTimeout) {
  for (Endpoint::Kind kind : {Endpoint::Kind::kTcp, Endpoint::Kind::kWebSocket}) {
    Endpoint e;
    e.kind = kind;
    e.host = kStalledName;
    e.port = 7000;
    e.path = std::string(kWebSocketPath);
    const auto start = Clock::now();
    auto c = Dial(e, start + milliseconds(300));
    EXPECT_THAT(c, StatusIs(StatusCode::kUnavailable, "client.timeout"));
    EXPECT_LT(Clock::now() - start, milliseconds(2000));
  }

  testing::TempDir dir;
  auto trust_path = testing::WriteTrustFile(dir.path(), *testing::SharedPlatform(), testing::DefaultPolicyYaml());
  ASSERT_TRUE(trust_path.has_value());
  ClientOptions o;
  o.trust = std::make_shared<const TrustConfig>(LoadTrustConfig(*trust_path).value());
  o.identity = std::make_shared<const crypto::XdhPrivateKey>(
      crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519).value());
  o.connect_timeout = milliseconds(300);
  auto start = Clock::now();
  ConnectResult r = Connect(std::string(kStalledName) + ":7000", o);
  EXPECT_THAT(r.status, StatusIs(StatusCode::kUnavailable, "client.timeout"));
  EXPECT_LT(Clock::now() - start, milliseconds(2000));

  perimeter_trust_t* trust = nullptr;
  perimeter_identity_t* identity = nullptr;
  ASSERT_EQ(perimeter_trust_load(trust_path->c_str(), &trust), PERIMETER_OK);
  ASSERT_EQ(perimeter_identity_load_or_create(dir.File("me.key").c_str(), &identity, nullptr), PERIMETER_OK);
  perimeter_connect_options_t options{};
  options.connect_timeout_ms = 300;
  perimeter_session_t* session = nullptr;
  start = Clock::now();
  const std::string endpoint = "ws://" + std::string(kStalledName) + ":7000/v1/noise";
  EXPECT_EQ(perimeter_connect(endpoint.c_str(), trust, identity, nullptr, &options, &session, nullptr),
            PERIMETER_UNAVAILABLE);
  EXPECT_STREQ(perimeter_last_error_reason(), "client.timeout");
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
  EXPECT_EQ(session, nullptr);
  perimeter_identity_destroy(identity);
  perimeter_trust_destroy(trust);
}

}  // namespace
}  // namespace perimeter::client
