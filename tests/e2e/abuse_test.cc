// Bad input and abuse against a real `perimeter serve` process (issue 4,
// point 10): malformed and oversized frames, half-open and slow
// connections, handshake floods and the connection limit. After each attack
// the server must still run and serve an honest client, and it must never
// answer a broken handshake (no oracle: docs/wire-protocol.md section 11).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "perimeter/base/unique_fd.h"
#include "perimeter/client/client.h"
#include "perimeter/crypto/xdh.h"
#include "tests/e2e/server_harness.h"
#include "tests/testing/child_process.h"
#include "tests/testing/matchers.h"

namespace perimeter::e2e {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::TempDir;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kMaxConnections = 64;

std::uint16_t PortOf(const std::string& hostport) {
  return static_cast<std::uint16_t>(std::stoi(hostport.substr(hostport.rfind(':') + 1)));
}

UniqueFd Dial(std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return UniqueFd();
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

struct Outcome {
  bool closed = false;       // the server closed (EOF or reset) within the time
  std::size_t received = 0;  // bytes the server sent before closing
  Clock::duration after{};   // when it closed
};

// Reads until the peer closes or `timeout` passes.
Outcome WaitForClose(int fd, std::chrono::milliseconds timeout) {
  Outcome o;
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  char buf[4096];
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      o.closed = true;
      o.after = Clock::now() - start;
      return o;
    }
    o.received += static_cast<std::size_t>(n);
  }
  return o;
}

class AbuseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    ASSERT_THAT(MakePlatform(dir_->File("platform")), IsOk());
    Result<std::string> m = MeasurementOf(PERIMETER_BINARY);
    ASSERT_THAT(m, IsOk());
    auto trust = MakeTrust(dir_->File("platform"), {*m});
    ASSERT_THAT(trust, IsOk());
    trust_ = new std::shared_ptr<const client::TrustConfig>(*trust);
  }
  static void TearDownTestSuite() {
    delete trust_;
    delete dir_;
  }

  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_->path(), "abuse", dir_->File("platform"));
    ASSERT_THAT(server_->Start(PERIMETER_BINARY, {"--max-connections", std::to_string(kMaxConnections),
                                                  "--handshake-timeout", "1", "--idle-timeout", "2"}),
                IsOk());
    tcp_port_ = PortOf(server_->tcp());
    http_port_ = PortOf(server_->http());
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "--- server log ---\n%s\n", server_->Log().c_str());
    EXPECT_EQ(server_->Stop(), 0) << "the server must still be running and drain cleanly";
  }

  // An honest client completes a handshake and a request.
  void ExpectServesHonestClient() {
    client::ClientOptions o;
    o.trust = *trust_;
    o.identity = std::make_shared<const crypto::XdhPrivateKey>(
        *crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519));
    client::ConnectResult c = client::Connect(server_->tcp(), o);
    ASSERT_THAT(c.status, IsOk());
    EXPECT_THAT(c.session->Put("still", AsBytes("serving")), IsOk());
    ASSERT_NE(server_->process(), nullptr);
    EXPECT_TRUE(server_->process()->Running());
  }

  static TempDir* dir_;
  static std::shared_ptr<const client::TrustConfig>* trust_;
  std::unique_ptr<ServerProcess> server_;
  std::uint16_t tcp_port_ = 0;
  std::uint16_t http_port_ = 0;
};

TempDir* AbuseTest::dir_ = nullptr;
std::shared_ptr<const client::TrustConfig>* AbuseTest::trust_ = nullptr;

// Frames that break the framing or the handshake are dropped at once and
// never answered (no oracle).
TEST_F(AbuseTest, MalformedFramesAreDroppedWithoutAnAnswer) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"zero-length frame", std::string("\x00\x00", 2)},
      {"unknown pattern byte", std::string("\x00\x21", 2) + std::string(1, '\x07') + std::string(32, 'k')},
      {"XX message 1 too short", std::string("\x00\x10", 2) + std::string(1, '\x00') + std::string(15, 'k')},
      {"XX message 1 too long", std::string("\x00\x41", 2) + std::string(1, '\x00') + std::string(64, 'k')},
      // (A well-formed IK message 1 that fails to decrypt is answered with
      // XXfallback by design; one of the wrong size is malformed.)
      {"IK message 1 too short", std::string("\x00\x32", 2) + std::string(1, '\x01') + std::string(49, 'z')},
      {"IK message 1 with a low-order key", std::string("\x00\x61", 2) + std::string(1, '\x01') + std::string(96, '\0')},
      {"HTTP on the Noise port", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
  };
  for (const auto& [name, bytes] : cases) {
    UniqueFd fd = Dial(tcp_port_);
    ASSERT_GE(fd.get(), 0);
    ASSERT_TRUE(SendAll(fd.get(), bytes)) << name;
    Outcome o = WaitForClose(fd.get(), 5s);
    EXPECT_TRUE(o.closed) << name;
    EXPECT_EQ(o.received, 0u) << name << ": the server answered a broken handshake";
  }
  ExpectServesHonestClient();
}

// A frame that announces 65,535 bytes and never delivers them, and a client
// that trickles its first message: both are closed by the handshake timeout
// (1 s here), counted from the accept, not from the last byte.
TEST_F(AbuseTest, SlowAndHalfOpenConnectionsAreClosedByTheHandshakeTimeout) {
  UniqueFd silent = Dial(tcp_port_);
  UniqueFd oversized = Dial(tcp_port_);
  ASSERT_TRUE(SendAll(oversized.get(), std::string("\xff\xff", 2) + std::string(1000, 'x')));
  UniqueFd trickle = Dial(tcp_port_);
  std::thread dripper([fd = trickle.get()] {
    const std::string msg = std::string("\x00\x21", 2) + std::string(1, '\x00') + std::string(32, 'e');
    for (std::size_t i = 0; i + 1 < msg.size(); ++i) {  // never the last byte
      if (!SendAll(fd, msg.substr(i, 1))) return;
      std::this_thread::sleep_for(100ms);
    }
  });
  for (int fd : {silent.get(), oversized.get(), trickle.get()}) {
    Outcome o = WaitForClose(fd, 5s);
    EXPECT_TRUE(o.closed);
    EXPECT_EQ(o.received, 0u);
    EXPECT_LT(o.after, 4s);
  }
  dripper.join();
  ExpectServesHonestClient();
}

// A flood of connections beyond the limit: the excess is closed at once,
// the half-open ones time out, and then honest clients are served again.
TEST_F(AbuseTest, ConnectionFloodIsBoundedByTheLimit) {
  std::vector<UniqueFd> flood;
  for (int i = 0; i < kMaxConnections * 2; ++i) {
    UniqueFd fd = Dial(tcp_port_);
    if (fd.get() >= 0) flood.push_back(std::move(fd));
  }
  int closed_at_once = 0;
  for (UniqueFd& fd : flood) {
    Outcome o = WaitForClose(fd.get(), 200ms);
    if (o.closed) ++closed_at_once;
  }
  // Everything over the limit was refused straight away.
  EXPECT_GE(closed_at_once, kMaxConnections) << "connections over the limit must be closed at once";
  // The rest time out (handshake timeout 1 s) and free their slots.
  for (UniqueFd& fd : flood) (void)WaitForClose(fd.get(), 5s);
  flood.clear();
  ExpectServesHonestClient();
}

// Memory stays bounded while many connections each hold an incomplete
// maximal frame: at most one frame is buffered per connection.
TEST_F(AbuseTest, PartialMaximalFramesKeepMemoryBounded) {
  const std::size_t before = testing::RssBytes(server_->process()->pid());
  std::vector<UniqueFd> conns;
  const std::string partial = std::string("\xff\xff", 2) + std::string(65000, 'p');
  for (int i = 0; i < kMaxConnections - 4; ++i) {
    UniqueFd fd = Dial(tcp_port_);
    ASSERT_GE(fd.get(), 0);
    if (SendAll(fd.get(), partial)) conns.push_back(std::move(fd));
  }
  std::this_thread::sleep_for(300ms);
  const std::size_t during = testing::RssBytes(server_->process()->pid());
  const double per_connection = (static_cast<double>(during) - static_cast<double>(before)) /
                                static_cast<double>(conns.size());
  std::printf("partial 64 KiB frames: %zu connections, server RSS %.1f -> %.1f MiB (%.1f KiB per connection)\n",
              conns.size(), static_cast<double>(before) / 1048576.0, static_cast<double>(during) / 1048576.0,
              per_connection / 1024.0);
  // One maximal frame (64 KiB) plus the connection's own state.
  EXPECT_LT(per_connection, 256.0 * 1024.0);
  for (UniqueFd& fd : conns) EXPECT_TRUE(WaitForClose(fd.get(), 5s).closed);
  ExpectServesHonestClient();
}

// WebSocket: the upgrade needs the subprotocol; a text message, an empty
// message and one over 65,535 bytes end the connection; plain HTTP routes
// answer as documented.
TEST_F(AbuseTest, WebSocketAndHttpAbuse) {
  auto http = [&](const std::string& request) {
    UniqueFd fd = Dial(http_port_);
    EXPECT_TRUE(SendAll(fd.get(), request));
    std::string reply;
    char buf[4096];
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline) {
      pollfd p{fd.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) {
        if (reply.find("\r\n\r\n") != std::string::npos) break;
        continue;
      }
      const ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
      if (n <= 0) break;
      reply.append(buf, static_cast<std::size_t>(n));
    }
    return reply;
  };
  const std::string upgrade_base =
      "GET /v1/noise HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  // No subprotocol offered: refused, not upgraded.
  EXPECT_THAT(http(upgrade_base + "\r\n"), ::testing::Not(::testing::HasSubstr("101 Switching")));
  // The wrong subprotocol: refused.
  EXPECT_THAT(http(upgrade_base + "Sec-WebSocket-Protocol: chat\r\n\r\n"),
              ::testing::Not(::testing::HasSubstr("101 Switching")));
  EXPECT_THAT(http("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), ::testing::HasSubstr("200"));
  EXPECT_THAT(http("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"), ::testing::HasSubstr("200"));
  EXPECT_THAT(http("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"), ::testing::HasSubstr("404"));
  // An oversized request head is refused, not buffered without bound.
  const std::string big = http("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(100000, 'a') + "\r\n\r\n");
  EXPECT_THAT(big, ::testing::Not(::testing::HasSubstr("200 OK")));
  const std::string metrics = http("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(metrics, ::testing::HasSubstr("200"));
  EXPECT_THAT(metrics, ::testing::HasSubstr("# TYPE"));

  // Upgraded WebSocket connections that then misbehave.
  auto upgraded = [&] {
    UniqueFd fd = Dial(http_port_);
    EXPECT_TRUE(SendAll(fd.get(), upgrade_base + "Sec-WebSocket-Protocol: secure-perimeter.v1\r\n\r\n"));
    std::string head;
    char c;
    while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd.get(), &c, 1, 0) == 1) head.push_back(c);
    EXPECT_THAT(head, ::testing::HasSubstr("101"));
    EXPECT_THAT(head, ::testing::HasSubstr("secure-perimeter.v1"));
    EXPECT_THAT(head, ::testing::Not(::testing::HasSubstr("permessage-deflate")));
    return fd;
  };
  // Client frames are masked (RFC 6455 5.3); the mask key is zero here.
  auto frame = [](std::uint8_t opcode, std::size_t len, std::size_t send_len) {
    std::string f;
    f.push_back(static_cast<char>(0x80 | opcode));
    if (len < 126) {
      f.push_back(static_cast<char>(0x80 | len));
    } else if (len <= 0xffff) {
      f.push_back(static_cast<char>(0x80 | 126));
      f.push_back(static_cast<char>(len >> 8));
      f.push_back(static_cast<char>(len & 0xff));
    } else {
      f.push_back(static_cast<char>(0x80 | 127));
      for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
    }
    f += std::string(4, '\0');
    f += std::string(send_len, 'x');
    return f;
  };
  {
    UniqueFd fd = upgraded();
    ASSERT_TRUE(SendAll(fd.get(), frame(0x1, 33, 33)));  // a text message
    EXPECT_TRUE(WaitForClose(fd.get(), 5s).closed);
  }
  {
    UniqueFd fd = upgraded();
    (void)SendAll(fd.get(), frame(0x2, 1 << 20, 70000));  // announces 1 MiB
    EXPECT_TRUE(WaitForClose(fd.get(), 5s).closed);
  }
  {
    UniqueFd fd = upgraded();
    ASSERT_TRUE(SendAll(fd.get(), frame(0x2, 0, 0)));  // an empty message
    EXPECT_TRUE(WaitForClose(fd.get(), 5s).closed);
  }
  ExpectServesHonestClient();
}

}  // namespace
}  // namespace perimeter::e2e
