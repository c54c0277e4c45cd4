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
#include <chrono>
#include <thread>

#include "perimeter/base/unique_fd.h"
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
  explicit TcpClient(const std::string& address) {
    const std::size_t colon = address.rfind(':');
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
    ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
    fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
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
  explicit NoiseTcpClient(const std::string& address, Bytes cached = {}) : tcp_(address) {
    noise::PipesClient client = testing::NewPipesClient(testing::NewKey(), std::move(cached), &evidence_);
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
  EXPECT_NE(body.find("perimeter_operations_total{op=\"put\",code=\"OK\"} 1"), std::string::npos);
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

}  // namespace
}  // namespace perimeter::server
