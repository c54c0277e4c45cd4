// The server over real sockets on 127.0.0.1 (ephemeral ports): TCP framing,
// WebSocket rules, HTTP probes, limits, timeouts, drain, and that abuse on
// one connection never stops the server from serving another client.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "perimeter/base/unique_fd.h"
#include "perimeter/keys/identifiers.h"
#include "perimeter/noise/framing.h"
#include "perimeter/server/server.h"
#include "src/server/server_test_util.h"

namespace perimeter::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using testing::ClientSession;
using testing::IsOk;
using Ms = std::chrono::milliseconds;

// A blocking TCP client with receive timeouts.
class TcpClient {
 public:
  // `rcvbuf` > 0: a fixed, small receive buffer (a peer that does not read
  // then stops the server's writes quickly).
  explicit TcpClient(const std::string& address, int rcvbuf = 0) {
    const std::size_t colon = address.rfind(':');
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
    ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
    fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (rcvbuf > 0) ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
    const int one = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  bool connected() const { return connected_; }

  bool SendRaw(ByteView data) {
    std::size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = ::send(fd_.get(), data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  bool SendFrame(ByteView body) { return SendRaw(noise::EncodeFrame(body).value()); }

  // Reads exactly n bytes; false on EOF, error or timeout.
  bool ReadExact(std::uint8_t* out, std::size_t n, Ms timeout) {
    SetTimeout(timeout);
    std::size_t off = 0;
    while (off < n) {
      const ssize_t r = ::recv(fd_.get(), out + off, n - off, 0);
      if (r <= 0) return false;
      off += static_cast<std::size_t>(r);
    }
    return true;
  }
  std::optional<Bytes> ReadFrame(Ms timeout = Ms(5000)) {
    std::uint8_t header[2];
    if (!ReadExact(header, 2, timeout)) return std::nullopt;
    Bytes body(LoadBigEndian16(header));
    if (!ReadExact(body.data(), body.size(), timeout)) return std::nullopt;
    return body;
  }
  // True if the server closes (EOF or reset) within `timeout` without
  // sending a single byte.
  bool ClosedSilently(Ms timeout) {
    SetTimeout(timeout);
    std::uint8_t b;
    const ssize_t r = ::recv(fd_.get(), &b, 1, 0);
    if (r == 0) return true;
    return r < 0 && (errno == ECONNRESET || errno == EPIPE);
  }
  void Close() { fd_.Close(); }

 private:
  void SetTimeout(Ms timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  UniqueFd fd_;
  bool connected_ = false;
};

// Noise + session protocol over a TcpClient.
class NoiseTcpClient {
 public:
  explicit NoiseTcpClient(const std::string& address, Bytes cached = {},
                          std::shared_ptr<const crypto::XdhPrivateKey> key = testing::NewKey(), int rcvbuf = 0)
      : tcp_(address, rcvbuf) {
    noise::PipesClient client = testing::NewPipesClient(std::move(key), std::move(cached), &evidence_);
    if (!tcp_.connected() || !tcp_.SendFrame(client.Start().value())) return;
    while (!client.complete()) {
      std::optional<Bytes> frame = tcp_.ReadFrame();
      if (!frame) return;
      Result<std::optional<Bytes>> reply = client.OnFrame(*frame);
      if (!reply.has_value()) return;
      if (reply->has_value() && !tcp_.SendFrame(**reply)) return;
    }
    session_.emplace(client.TakeSession().value());
  }
  bool ok() const { return session_.has_value(); }
  const Bytes& evidence() const { return evidence_; }

  std::optional<session::Message> Read() {
    while (true) {
      std::optional<Bytes> frame = tcp_.ReadFrame();
      if (!frame) return std::nullopt;
      Result<std::optional<session::Message>> m = session_->OnFrame(*frame);
      if (!m.has_value()) return std::nullopt;
      if (m->has_value()) return std::move(**m);
    }
  }
  std::optional<session::Response> Call(const session::Request& request) {
    for (const Bytes& f : session_->Frames(request)) {
      if (!tcp_.SendFrame(f)) return std::nullopt;
    }
    std::optional<session::Message> m = Read();
    if (!m || !std::holds_alternative<session::Response>(*m)) return std::nullopt;
    return std::get<session::Response>(std::move(*m));
  }
  ClientSession& session() { return *session_; }
  TcpClient& tcp() { return tcp_; }

 private:
  TcpClient tcp_;
  Bytes evidence_;
  std::optional<ClientSession> session_;
};

// One HTTP/1.1 request; returns "status body" or "" on failure.
std::pair<int, std::string> HttpRequest(const std::string& address, const std::string& method,
                                        const std::string& target, const std::string& extra_headers = "") {
  TcpClient c(address);
  if (!c.connected()) return {0, ""};
  const std::string req = method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n";
  if (!c.SendRaw(AsBytes(req))) return {0, ""};
  std::string text;
  std::uint8_t b;
  while (c.ReadExact(&b, 1, Ms(3000))) text.push_back(static_cast<char>(b));
  if (text.size() < 12) return {0, text};
  const std::size_t body = text.find("\r\n\r\n");
  return {std::stoi(text.substr(9, 3)), body == std::string::npos ? "" : text.substr(body + 4)};
}

// A WebSocket client (Beast, synchronous).
struct WsClient {
  asio::io_context io;
  websocket::stream<asio::ip::tcp::socket> ws{io};
  websocket::response_type response;
  beast::error_code error;

  bool Connect(const std::string& address, const std::string& protocols, bool offer_deflate = false) {
    const std::size_t colon = address.rfind(':');
    asio::ip::tcp::endpoint ep(asio::ip::make_address(address.substr(0, colon)),
                               static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
    ws.next_layer().connect(ep, error);
    if (error) return false;
    ws.set_option(websocket::stream_base::decorator([protocols, offer_deflate](websocket::request_type& req) {
      if (!protocols.empty()) req.set(http::field::sec_websocket_protocol, protocols);
      if (offer_deflate) req.set(http::field::sec_websocket_extensions, "permessage-deflate; client_max_window_bits");
    }));
    ws.handshake(response, address, "/v1/noise", error);
    return !error;
  }
  bool Send(ByteView body) {
    ws.binary(true);
    ws.write(asio::buffer(body.data(), body.size()), error);
    return !error;
  }
  std::optional<Bytes> Read() {
    beast::flat_buffer buffer;
    ws.read(buffer, error);
    if (error) return std::nullopt;
    const auto d = buffer.cdata();
    return Bytes(static_cast<const std::uint8_t*>(d.data()), static_cast<const std::uint8_t*>(d.data()) + d.size());
  }
};

class ServerSocketTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions o = {}) {
    o.listen = "127.0.0.1:0";
    o.http_listen = "127.0.0.1:0";
    if (!o.probe_listen.empty()) o.probe_listen = "127.0.0.1:0";
    o.io_threads = 2;
    o.worker_threads = 1;
    o.linger_timeout = Ms(500);
    server_ = Server::Start(o, evidence_.get(), &service_, &metrics_).value();
  }
  static ServerOptions Short() {
    ServerOptions o;
    o.session.handshake_timeout = Ms(400);
    o.session.idle_timeout = Ms(5000);
    o.drain_timeout = Ms(2000);
    o.evidence_refresh = Ms(0);
    return o;
  }
  // A complete session (handshake + whoami + put/get) still works.
  void ExpectServing() {
    NoiseTcpClient c(server_->tcp_address());
    ASSERT_TRUE(c.ok()) << "the server stopped serving";
    std::optional<session::Response> r = c.Call(testing::Whoami(1));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->code, StatusCode::kOk);
  }

  std::unique_ptr<EvidenceSource> evidence_ = testing::NewFakeEvidenceSource();
  testing::TestStore store_;
  Metrics metrics_;
  WorkloadService service_{store_.store.get(), &metrics_};
  std::unique_ptr<Server> server_;
};

TEST_F(ServerSocketTest, TcpSessionEndToEnd) {
  StartServer(Short());
  NoiseTcpClient c(server_->tcp_address());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.evidence(), *evidence_->evidence());
  auto put = c.Call(testing::Put(1, "k", Bytes(200000, 7)));  // chunked request
  ASSERT_TRUE(put.has_value());
  EXPECT_EQ(put->code, StatusCode::kOk);
  auto get = c.Call(testing::Get(2, "k"));  // chunked response
  ASSERT_TRUE(get.has_value());
  ASSERT_EQ(get->code, StatusCode::kOk);
  EXPECT_EQ(std::get<session::GetResult>(*get->result).value, Bytes(200000, 7));
  // IK with the key the client now knows.
  NoiseTcpClient ik(server_->tcp_address(), ToBytes(evidence_->static_public_key()));
  ASSERT_TRUE(ik.ok());
  EXPECT_EQ(metrics_.Value("perimeter_handshakes_total", "pattern=\"IK\""), 1);
  auto [status, body] = HttpRequest(server_->http_address(), "GET", "/metrics");
  EXPECT_EQ(status, 200);
  EXPECT_NE(body.find("perimeter_handshakes_total{pattern=\"XX\"} 1"), std::string::npos);
  EXPECT_NE(body.find("perimeter_operations_total{operation=\"put\",code=\"OK\"} 1"), std::string::npos);
}

TEST_F(ServerSocketTest, HealthAndReadiness) {
  StartServer(Short());
  EXPECT_EQ(HttpRequest(server_->http_address(), "GET", "/healthz").first, 200);
  EXPECT_EQ(HttpRequest(server_->http_address(), "GET", "/readyz").first, 200);
  EXPECT_EQ(HttpRequest(server_->http_address(), "GET", "/nope").first, 404);
  EXPECT_EQ(HttpRequest(server_->http_address(), "POST", "/healthz", "Content-Length: 0\r\n").first, 405);
  EXPECT_EQ(HttpRequest(server_->http_address(), "GET", "/healthz", "Content-Length: 5\r\n").first, 400);
  const std::string huge = "X-Big: " + std::string(20000, 'a') + "\r\n";
  EXPECT_NE(HttpRequest(server_->http_address(), "GET", "/healthz", huge).first, 200);
  ExpectServing();
}

TEST_F(ServerSocketTest, ReadyzIs503WithoutAStore) {
  WorkloadService no_store(nullptr, &metrics_);
  ServerOptions o = Short();
  o.listen = "127.0.0.1:0";
  o.http_listen = "127.0.0.1:0";
  auto server = Server::Start(o, evidence_.get(), &no_store, &metrics_).value();
  EXPECT_EQ(HttpRequest(server->http_address(), "GET", "/readyz").first, 503);
  EXPECT_EQ(HttpRequest(server->http_address(), "GET", "/healthz").first, 200);
}

TEST_F(ServerSocketTest, ZeroLengthAndMalformedFramesCloseSilently) {
  StartServer(Short());
  {
    TcpClient c(server_->tcp_address());
    ASSERT_TRUE(c.SendRaw(Bytes{0, 0}));
    EXPECT_TRUE(c.ClosedSilently(Ms(2000)));
  }
  {
    TcpClient c(server_->tcp_address());
    ASSERT_TRUE(c.SendFrame(Bytes(40, 9)));  // bad pattern byte
    EXPECT_TRUE(c.ClosedSilently(Ms(2000)));
  }
  {
    TcpClient c(server_->tcp_address());
    ASSERT_TRUE(c.SendFrame(Bytes(65535, 0)));  // XX message 1 with a huge payload
    EXPECT_TRUE(c.ClosedSilently(Ms(2000)));
  }
  {
    // A handshake, then a transport message that does not decrypt.
    NoiseTcpClient c(server_->tcp_address());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.tcp().SendFrame(Bytes(100, 1)));
    EXPECT_TRUE(c.tcp().ClosedSilently(Ms(2000)));
  }
  {
    // A session protocol violation: a CLOSE record, then FIN.
    NoiseTcpClient c(server_->tcp_address());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.tcp().SendFrame(c.session().Seal(Bytes{0x09})));
    std::optional<session::Message> m = c.Read();
    ASSERT_TRUE(m.has_value());
    ASSERT_TRUE(std::holds_alternative<session::Close>(*m));
    EXPECT_EQ(std::get<session::Close>(*m).reason, "session.unknown_type");
    EXPECT_TRUE(c.tcp().ClosedSilently(Ms(2000)));
  }
  EXPECT_GE(metrics_.Value("perimeter_handshake_failures_total", "reason=\"noise.bad_pattern_byte\""), 1);
  ExpectServing();
}

TEST_F(ServerSocketTest, HalfOpenConnectionsHitTheHandshakeTimeout) {
  StartServer(Short());
  TcpClient silent(server_->tcp_address());
  TcpClient partial(server_->tcp_address());
  ASSERT_TRUE(partial.SendRaw(Bytes{0xff, 0xff, 0, 1, 2}));  // a frame that never completes
  ExpectServing();  // meanwhile, others are served
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.ClosedSilently(Ms(3000)));
  EXPECT_TRUE(partial.ClosedSilently(Ms(3000)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, Ms(2500));
  EXPECT_GE(metrics_.Value("perimeter_handshake_failures_total", "reason=\"server.handshake_timeout\""), 2);
}

TEST_F(ServerSocketTest, ConnectionLimitRejectsExcessAndRecovers) {
  ServerOptions o = Short();
  o.session.handshake_timeout = Ms(10000);
  o.max_connections = 3;
  StartServer(o);
  std::vector<std::unique_ptr<TcpClient>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<TcpClient>(server_->tcp_address()));
  for (int i = 0; i < 100 && server_->connections() < 3; ++i) std::this_thread::sleep_for(Ms(10));
  ASSERT_EQ(server_->connections(), 3u);
  TcpClient excess(server_->tcp_address());
  EXPECT_TRUE(excess.ClosedSilently(Ms(2000)));
  EXPECT_EQ(metrics_.Value("perimeter_connections_rejected_total", "reason=\"limit\""), 1);
  held.pop_back();
  for (int i = 0; i < 200 && server_->connections() >= 3; ++i) std::this_thread::sleep_for(Ms(10));
  ExpectServing();
}

TEST_F(ServerSocketTest, IdleSessionGetsIdleTimeoutClose) {
  ServerOptions o = Short();
  o.session.idle_timeout = Ms(300);
  StartServer(o);
  NoiseTcpClient c(server_->tcp_address());
  ASSERT_TRUE(c.ok());
  std::optional<session::Message> m = c.Read();
  ASSERT_TRUE(m.has_value());
  ASSERT_TRUE(std::holds_alternative<session::Close>(*m));
  EXPECT_EQ(std::get<session::Close>(*m).code, StatusCode::kUnavailable);
  EXPECT_EQ(std::get<session::Close>(*m).reason, "session.idle_timeout");
  EXPECT_TRUE(c.tcp().ClosedSilently(Ms(2000)));
}

TEST_F(ServerSocketTest, DrainSendsServerShutdown) {
  StartServer(Short());
  NoiseTcpClient c(server_->tcp_address());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.Call(testing::Whoami(1)).has_value());
  std::thread drainer([this] { server_->Drain(); });
  std::optional<session::Message> m = c.Read();
  drainer.join();
  ASSERT_TRUE(m.has_value());
  ASSERT_TRUE(std::holds_alternative<session::Close>(*m));
  EXPECT_EQ(std::get<session::Close>(*m).reason, "session.server_shutdown");
  EXPECT_FALSE(server_->ready());
  TcpClient late(server_->tcp_address());
  EXPECT_FALSE(late.connected() && !late.ClosedSilently(Ms(500)));
}

TEST_F(ServerSocketTest, WebSocketSession) {
  StartServer(Short());
  WsClient ws;
  ASSERT_TRUE(ws.Connect(server_->http_address(), "foo, secure-perimeter.v1", /*offer_deflate=*/true))
      << ws.error.message();
  EXPECT_EQ(ws.response[http::field::sec_websocket_protocol], "secure-perimeter.v1");
  EXPECT_EQ(ws.response.count(http::field::sec_websocket_extensions), 0u);  // never negotiated
  noise::PipesClient client = testing::NewPipesClient(testing::NewKey());
  ASSERT_TRUE(ws.Send(client.Start().value()));
  while (!client.complete()) {
    std::optional<Bytes> frame = ws.Read();
    ASSERT_TRUE(frame.has_value());
    auto reply = client.OnFrame(*frame);
    ASSERT_THAT(reply, IsOk());
    if (reply->has_value()) {
      ASSERT_TRUE(ws.Send(**reply));
    }
  }
  ClientSession s(client.TakeSession().value());
  ASSERT_TRUE(ws.Send(s.Frames(testing::Whoami(1))[0]));
  std::optional<Bytes> frame = ws.Read();
  ASSERT_TRUE(frame.has_value());
  auto m = s.OnFrame(*frame);
  ASSERT_THAT(m, IsOk());
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ(std::get<session::Response>(**m).code, StatusCode::kOk);
  // A protocol violation: CLOSE record, then close code 1000.
  ASSERT_TRUE(ws.Send(s.Seal(Bytes{0x09})));
  frame = ws.Read();
  ASSERT_TRUE(frame.has_value());
  m = s.OnFrame(*frame);
  ASSERT_THAT(m, IsOk());
  EXPECT_EQ(std::get<session::Close>(**m).reason, "session.unknown_type");
  EXPECT_FALSE(ws.Read().has_value());
  EXPECT_EQ(ws.ws.reason().code, websocket::close_code::normal);
}

TEST_F(ServerSocketTest, WebSocketRefusesMissingOrWrongSubprotocol) {
  StartServer(Short());
  const std::string upgrade =
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n";
  for (const std::string protocols : {"", "secure-perimeter.v2", "chat, secure-perimeter"}) {
    WsClient ws;
    EXPECT_FALSE(ws.Connect(server_->http_address(), protocols)) << protocols;
    const std::string header = protocols.empty() ? "" : "Sec-WebSocket-Protocol: " + protocols + "\r\n";
    EXPECT_EQ(HttpRequest(server_->http_address(), "GET", "/v1/noise", upgrade + header).first, 400) << protocols;
  }
  // The same request with the subprotocol is upgraded; on another path it is not.
  EXPECT_EQ(HttpRequest(server_->http_address(), "GET", "/v1/noise",
                        upgrade + "Sec-WebSocket-Protocol: secure-perimeter.v1\r\n")
                .first,
            101);
  EXPECT_EQ(HttpRequest(server_->http_address(), "GET", "/v2/noise",
                        upgrade + "Sec-WebSocket-Protocol: secure-perimeter.v1\r\n")
                .first,
            404);
  ExpectServing();
}

TEST_F(ServerSocketTest, WebSocketTextEmptyAndOversizedMessagesClose) {
  StartServer(Short());
  {
    WsClient ws;
    ASSERT_TRUE(ws.Connect(server_->http_address(), "secure-perimeter.v1"));
    ws.ws.text(true);
    ws.ws.write(asio::buffer(std::string("\x00hello", 6)), ws.error);
    EXPECT_FALSE(ws.Read().has_value());
    EXPECT_EQ(ws.ws.reason().code, websocket::close_code::policy_error);
  }
  {
    WsClient ws;
    ASSERT_TRUE(ws.Connect(server_->http_address(), "secure-perimeter.v1"));
    ASSERT_TRUE(ws.Send(Bytes{}));
    EXPECT_FALSE(ws.Read().has_value());
    EXPECT_EQ(ws.ws.reason().code, websocket::close_code::policy_error);
  }
  {
    WsClient ws;
    ASSERT_TRUE(ws.Connect(server_->http_address(), "secure-perimeter.v1"));
    ws.Send(Bytes(65536, 0));
    EXPECT_FALSE(ws.Read().has_value());
    EXPECT_NE(ws.ws.reason().code, websocket::close_code::normal);
  }
  {
    // A bad handshake message over WebSocket: 1008, nothing else.
    WsClient ws;
    ASSERT_TRUE(ws.Connect(server_->http_address(), "secure-perimeter.v1"));
    ASSERT_TRUE(ws.Send(Bytes(33, 7)));
    EXPECT_FALSE(ws.Read().has_value());
    EXPECT_EQ(ws.ws.reason().code, websocket::close_code::policy_error);
  }
  ExpectServing();
}

TEST_F(ServerSocketTest, EvidenceIsRefreshedOnATimer) {
  ServerOptions o = Short();
  o.evidence_refresh = Ms(100);
  StartServer(o);
  const Bytes first = *evidence_->evidence();
  for (int i = 0; i < 100 && metrics_.Value("perimeter_evidence_refreshes_total", "result=\"ok\"") < 2; ++i) {
    std::this_thread::sleep_for(Ms(20));
  }
  EXPECT_GE(metrics_.Value("perimeter_evidence_refreshes_total", "result=\"ok\""), 2);
  EXPECT_NE(*evidence_->evidence(), first);
  ExpectServing();
}

TEST_F(ServerSocketTest, ManyAbusiveConnectionsDoNotStopService) {
  StartServer(Short());
  std::vector<std::thread> abusers;
  for (int t = 0; t < 4; ++t) {
    abusers.emplace_back([this, t] {
      for (int i = 0; i < 15; ++i) {
        TcpClient c(server_->tcp_address());
        Bytes junk(static_cast<std::size_t>(1 + (i * 37 + t) % 300), static_cast<std::uint8_t>(i));
        c.SendFrame(junk);
        c.ClosedSilently(Ms(1000));
      }
    });
  }
  for (int i = 0; i < 5; ++i) ExpectServing();
  for (auto& t : abusers) t.join();
  ExpectServing();
}

// Stores a 1 MiB value "big" for the user of `key`.
void PutBigValue(const std::string& address, std::shared_ptr<const crypto::XdhPrivateKey> key) {
  NoiseTcpClient c(address, {}, std::move(key));
  ASSERT_TRUE(c.ok());
  std::optional<session::Response> put = c.Call(testing::Put(1, "big", Bytes(1 << 20, 0x5a)));
  ASSERT_TRUE(put.has_value());
  ASSERT_EQ(put->code, StatusCode::kOk);
}

// Waits until `pred` holds (up to `timeout`).
template <typename Pred>
bool WaitFor(Pred pred, Ms timeout = Ms(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(Ms(10));
  }
  return true;
}

// Finding: max_write_queue_bytes only paused reading; the requests already
// received went on being executed and their responses queued although the
// peer read nothing (8 connections x 16 gets of a 1 MiB value: 12.8 MiB
// each against a 4 MiB limit). Now a request starts only when its largest
// response fits, per connection and server-wide, and resumes as writes
// drain.
TEST_F(ServerSocketTest, ResponsesForPeersThatDoNotReadStayWithinTheLimits) {
  ServerOptions o = Short();
  o.session.idle_timeout = Ms(60000);
  o.max_write_queue_bytes = 2 << 20;
  o.max_total_write_queue_bytes = 6 << 20;
  StartServer(o);
  const auto key = testing::NewKey();
  PutBigValue(server_->tcp_address(), key);
  constexpr int kPeers = 4;
  constexpr std::uint32_t kGets = 16;
  std::vector<std::unique_ptr<NoiseTcpClient>> peers;
  for (int i = 0; i < kPeers; ++i) {
    peers.push_back(std::make_unique<NoiseTcpClient>(server_->tcp_address(), Bytes{}, key, /*rcvbuf=*/8192));
    ASSERT_TRUE(peers.back()->ok());
    for (std::uint32_t id = 1; id <= kGets; ++id) {
      for (const Bytes& f : peers.back()->session().Frames(testing::Get(id, "big"))) {
        ASSERT_TRUE(peers.back()->tcp().SendFrame(f));
      }
    }
  }
  std::size_t peak = 0;
  for (int i = 0; i < 60; ++i) {
    peak = std::max(peak, server_->write_queue_bytes());
    std::this_thread::sleep_for(Ms(25));
  }
  // Handshake replies and CLOSE records are never held back: one frame each.
  constexpr std::size_t kUnreserved = kPeers * 65536;
  EXPECT_GT(peak, std::size_t{1} << 20);
  EXPECT_LE(peak, o.max_total_write_queue_bytes + kUnreserved);
  const std::string gets_ok = "operation=\"get\",code=\"OK\"";
  EXPECT_LT(metrics_.Value("perimeter_operations_total", gets_ok), kPeers * kGets / 2);
  // /metrics reports it.
  auto [status, body] = HttpRequest(server_->http_address(), "GET", "/metrics");
  EXPECT_EQ(status, 200);
  EXPECT_NE(body.find("perimeter_write_queue_bytes "), std::string::npos);

  // Once the peers read, every request is answered.
  std::vector<std::thread> readers;
  std::atomic<int> answered{0};
  for (auto& p : peers) {
    readers.emplace_back([&answered, peer = p.get()] {
      for (std::uint32_t i = 0; i < kGets; ++i) {
        std::optional<session::Message> m = peer->Read();
        if (!m || !std::holds_alternative<session::Response>(*m)) return;
        const auto& r = std::get<session::Response>(*m);
        if (r.code == StatusCode::kOk && std::get<session::GetResult>(*r.result).value.size() == (1u << 20)) {
          ++answered;
        }
      }
    });
  }
  for (auto& t : readers) t.join();
  EXPECT_EQ(answered.load(), kPeers * static_cast<int>(kGets));
  EXPECT_TRUE(WaitFor([&] { return server_->write_queue_bytes() == 0; }));
  peers.clear();
  ExpectServing();
}

// When the server-wide budget is held by peers that do not read, they are
// dropped by write_timeout and the budget comes back whole.
TEST_F(ServerSocketTest, BudgetHeldByStalledPeersIsReleasedWhenTheyAreDropped) {
  ServerOptions o = Short();
  o.session.idle_timeout = Ms(60000);
  o.write_timeout = Ms(1500);
  o.max_total_write_queue_bytes = 4 << 20;
  StartServer(o);
  const auto key = testing::NewKey();
  PutBigValue(server_->tcp_address(), key);
  std::vector<std::unique_ptr<NoiseTcpClient>> peers;
  for (int i = 0; i < 4; ++i) {
    peers.push_back(std::make_unique<NoiseTcpClient>(server_->tcp_address(), Bytes{}, key, /*rcvbuf=*/8192));
    ASSERT_TRUE(peers.back()->ok());
    for (std::uint32_t id = 1; id <= 4; ++id) {
      for (const Bytes& f : peers.back()->session().Frames(testing::Get(id, "big"))) {
        ASSERT_TRUE(peers.back()->tcp().SendFrame(f));
      }
    }
  }
  EXPECT_TRUE(WaitFor([&] { return server_->write_queue_bytes() > (2u << 20); }));
  EXPECT_LE(server_->write_queue_bytes(), o.max_total_write_queue_bytes + 4 * 65536);  // + handshake replies
  EXPECT_TRUE(WaitFor([&] { return server_->write_queue_bytes() == 0; }, Ms(15000)));
  ExpectServing();
}

// A provider whose evidence requests can be held up: a refresh then
// occupies a worker thread (the test server has one) until Open().
class GateProvider : public testing::FakeProvider {
 public:
  Result<attest::snp::RawEvidence> GetEvidence(ByteView report_data, std::uint32_t vmpl) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (closed_) {
        ++waiting_;
        cv_.notify_all();
        cv_.wait(lock, [this] { return !closed_; });
        --waiting_;
      }
    }
    return FakeProvider::GetEvidence(report_data, vmpl);
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = false;
    cv_.notify_all();
  }
  bool WaitUntilHeld(Ms timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return waiting_ > 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int waiting_ = 0;
};

// Finding: after a CLOSE record was decided, the requests received before it
// but not yet started were still executed (their puts and deletes applied)
// while the CLOSE waited behind unread responses.
TEST_F(ServerSocketTest, NothingIsExecutedAfterTheCloseRecord) {
  auto gate_owner = std::make_unique<GateProvider>();
  GateProvider* gate = gate_owner.get();
  EvidenceSource::Options eo;
  eo.setup.provider = std::move(gate_owner);
  evidence_ = EvidenceSource::New(std::move(eo)).value();
  ServerOptions o = Short();
  o.session.idle_timeout = Ms(60000);
  o.evidence_refresh = Ms(20);
  o.max_write_queue_bytes = 64 << 20;  // all the gets run; only the CLOSE stops the puts
  StartServer(o);
  const auto key = testing::NewKey();
  PutBigValue(server_->tcp_address(), key);
  NoiseTcpClient c(server_->tcp_address(), {}, key, /*rcvbuf=*/8192);
  ASSERT_TRUE(c.ok());
  // Gets whose answers (more than the socket buffers hold) the client does
  // not read yet: the CLOSE record will wait behind them.
  constexpr int kGets = 8;
  for (std::uint32_t id = 1; id <= kGets; ++id) {
    for (const Bytes& f : c.session().Frames(testing::Get(id, "big"))) ASSERT_TRUE(c.tcp().SendFrame(f));
  }
  ASSERT_TRUE(WaitFor([&] {
    return metrics_.Value("perimeter_operations_total", "operation=\"get\",code=\"OK\"") == kGets;
  }));
  // Hold the worker, then: three puts (the first is handed to the held
  // worker, the others wait) and a protocol violation (an unknown record
  // type): CLOSE session.unknown_type.
  gate->Close();
  ASSERT_TRUE(gate->WaitUntilHeld(Ms(5000)));
  for (std::uint32_t id = 11; id <= 13; ++id) {
    for (const Bytes& f : c.session().Frames(testing::Put(id, "after" + std::to_string(id), Bytes{1}))) {
      ASSERT_TRUE(c.tcp().SendFrame(f));
    }
  }
  ASSERT_TRUE(c.tcp().SendFrame(c.session().Seal(Bytes{0x09})));
  ASSERT_TRUE(WaitFor([&] {
    return metrics_.Value("perimeter_session_closes_total", "reason=\"session.unknown_type\"") == 1;
  }));
  gate->Open();
  std::this_thread::sleep_for(Ms(300));
  // The first put was already handed to a worker; the other two were not.
  const std::string user = keys::UserIdFromStaticKey(key->public_key()).value();
  EXPECT_THAT(store_.store->Get(user, "after12"), testing::StatusIs(StatusCode::kNotFound, "store.not_found"));
  EXPECT_THAT(store_.store->Get(user, "after13"), testing::StatusIs(StatusCode::kNotFound, "store.not_found"));
  // The client reads: the gets' answers, then the CLOSE.
  std::optional<session::Close> close;
  for (int i = 0; i < kGets + 2 && !close; ++i) {
    std::optional<session::Message> m = c.Read();
    ASSERT_TRUE(m.has_value());
    if (std::holds_alternative<session::Close>(*m)) close = std::get<session::Close>(*m);
  }
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->reason, "session.unknown_type");
  EXPECT_TRUE(c.tcp().ClosedSilently(Ms(2000)));
  EXPECT_THAT(store_.store->Get(user, "after13"), testing::StatusIs(StatusCode::kNotFound, "store.not_found"));
  EXPECT_TRUE(WaitFor([&] { return server_->write_queue_bytes() == 0; }));
}

// Finding: /healthz and /readyz shared max_connections with the public
// listeners, so a flood of half-open connections made the probes fail.
TEST_F(ServerSocketTest, ProbeListenerAnswersWhileThePublicListenersAreFull) {
  ServerOptions o = Short();
  o.session.handshake_timeout = Ms(10000);
  o.max_connections = 3;
  o.probe_listen = "127.0.0.1:0";
  StartServer(o);
  const std::string probe = server_->probe_address();
  ASSERT_FALSE(probe.empty());
  std::vector<std::unique_ptr<TcpClient>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<TcpClient>(server_->tcp_address()));
  ASSERT_TRUE(WaitFor([&] { return server_->connections() == 3; }));
  // The public HTTP listener is full ...
  EXPECT_EQ(HttpRequest(server_->http_address(), "GET", "/healthz").first, 0);
  // ... the probe listener answers.
  EXPECT_EQ(HttpRequest(probe, "GET", "/healthz").first, 200);
  EXPECT_EQ(HttpRequest(probe, "GET", "/readyz").first, 200);
  auto [status, body] = HttpRequest(probe, "GET", "/metrics");
  EXPECT_EQ(status, 200);
  EXPECT_NE(body.find("perimeter_connections_active{transport=\"tcp\"} 3"), std::string::npos);
  // It never upgrades to WebSocket.
  EXPECT_EQ(HttpRequest(probe, "GET", "/v1/noise",
                        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: secure-perimeter.v1\r\n")
                .first,
            404);
  EXPECT_EQ(server_->connections(), 3u);
  // It has a limit of its own.
  std::vector<std::unique_ptr<TcpClient>> probes;
  for (std::size_t i = 0; i < kMaxProbeConnections; ++i) probes.push_back(std::make_unique<TcpClient>(probe));
  ASSERT_TRUE(WaitFor([&] {
    return metrics_.Value("perimeter_connections_active", "transport=\"probe\"") == kMaxProbeConnections;
  }));
  TcpClient excess(probe);
  EXPECT_TRUE(excess.ClosedSilently(Ms(2000)));
  EXPECT_EQ(metrics_.Value("perimeter_connections_rejected_total", "reason=\"probe_limit\""), 1);
  probes.clear();
  EXPECT_TRUE(WaitFor([&] { return HttpRequest(probe, "GET", "/healthz").first == 200; }));
}

// Finding: the evidence refresh timer was re-armed from a worker's post and
// cancelled by Stop() on different io threads without a strand. Now both run
// on the timer's strand and Stop() keeps it from being re-armed. (A data
// race shows reliably only under ThreadSanitizer; this exercises the path.)
TEST_F(ServerSocketTest, EvidenceRefreshAndStopDoNotRace) {
  for (int i = 0; i < 25; ++i) {
    ServerOptions o = Short();
    o.evidence_refresh = Ms(1);
    StartServer(o);
    std::this_thread::sleep_for(Ms(2 + i % 7));
    server_->Stop();
    server_.reset();
  }
  EXPECT_GE(metrics_.Value("perimeter_evidence_refreshes_total", "result=\"ok\""), 1);
}

// Aborts (an undecryptable frame) while large responses are being written:
// the frame in flight stays alive until its write completes, and every byte
// is accounted for afterwards.
TEST_F(ServerSocketTest, AbortsDuringWritesReleaseEverything) {
  ServerOptions o = Short();
  o.session.idle_timeout = Ms(60000);
  StartServer(o);
  const auto key = testing::NewKey();
  PutBigValue(server_->tcp_address(), key);
  for (int iter = 0; iter < 40; ++iter) {
    NoiseTcpClient c(server_->tcp_address(), {}, key, /*rcvbuf=*/iter % 2 == 0 ? 8192 : 0);
    ASSERT_TRUE(c.ok());
    for (std::uint32_t id = 1; id <= 3; ++id) {
      for (const Bytes& f : c.session().Frames(testing::Get(id, "big"))) ASSERT_TRUE(c.tcp().SendFrame(f));
    }
    std::thread reader([&c, iter] {
      std::uint8_t buf[4096];
      for (int i = 0; i < iter % 5 * 40; ++i) {
        if (!c.tcp().ReadExact(buf, sizeof(buf), Ms(200))) break;
      }
    });
    std::this_thread::sleep_for(std::chrono::microseconds(200 + (iter % 10) * 300));
    c.tcp().SendFrame(Bytes(40, 0xee));
    reader.join();
  }
  EXPECT_TRUE(WaitFor([&] { return server_->write_queue_bytes() == 0; }, Ms(10000)));
  ExpectServing();
}

}  // namespace
}  // namespace perimeter::server
