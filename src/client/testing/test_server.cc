#include "client/testing/test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "perimeter/attest/evidence.h"
#include "perimeter/attest/noise_binding.h"
#include "perimeter/attest/snp/simulated/simulated_provider.h"
#include "perimeter/keys/identifiers.h"
#include "perimeter/noise/framing.h"
#include "perimeter/session/chunker.h"
#include "perimeter/session/codec.h"
#include "perimeter/session/message_reader.h"

namespace perimeter::client::testing {

namespace snp = attest::snp;
namespace sim = attest::snp::simulated;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace http = boost::beast::http;

namespace {

std::shared_ptr<const sim::SimulatedPlatform> NewPlatform() {
  sim::CreateOptions o;
  o.product = snp::Product::kMilan;
  o.not_before = kNotBefore;
  o.days = 3650;
  return std::make_shared<const sim::SimulatedPlatform>(sim::SimulatedPlatform::Create(o).value());
}

std::string Pem(const std::string& label, ByteView der) {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  for (std::size_t i = 0; i < der.size(); i += 3) {
    std::uint32_t v = static_cast<std::uint32_t>(der[i]) << 16;
    if (i + 1 < der.size()) v |= static_cast<std::uint32_t>(der[i + 1]) << 8;
    if (i + 2 < der.size()) v |= der[i + 2];
    b64 += kB64[(v >> 18) & 63];
    b64 += kB64[(v >> 12) & 63];
    b64 += i + 1 < der.size() ? kB64[(v >> 6) & 63] : '=';
    b64 += i + 2 < der.size() ? kB64[v & 63] : '=';
  }
  std::string out = "-----BEGIN " + label + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + label + "-----\n";
}

bool WriteFile(const std::string& path, ByteView data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(out);
}

// One accepted connection: frame bodies over TCP or WebSocket.
class PeerConn {
 public:
  virtual ~PeerConn() = default;
  virtual std::optional<Bytes> Read() = 0;
  virtual bool Write(ByteView body) = 0;
};

bool ReadAll(int fd, std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

class TcpPeer final : public PeerConn {
 public:
  explicit TcpPeer(int fd) : fd_(fd) {}
  std::optional<Bytes> Read() override {
    std::uint8_t h[2];
    if (!ReadAll(fd_, h, 2)) return std::nullopt;
    Bytes body(LoadBigEndian16(h));
    if (body.empty() || !ReadAll(fd_, body.data(), body.size())) return std::nullopt;
    return body;
  }
  bool Write(ByteView body) override {
    Result<Bytes> frame = noise::EncodeFrame(body);
    if (!frame.has_value()) return false;
    const std::uint8_t* p = frame->data();
    std::size_t n = frame->size();
    while (n > 0) {
      ssize_t w = ::send(fd_, p, n, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  }

 private:
  int fd_;
};

class WsPeer final : public PeerConn {
 public:
  explicit WsPeer(int fd) : ws_(ioc_) {
    boost::system::error_code ec;
    ws_.next_layer().assign(asio::ip::tcp::v4(), ::dup(fd), ec);
  }
  ~WsPeer() override {
    boost::system::error_code ec;
    ws_.next_layer().close(ec);
  }
  bool Accept(const std::string& subprotocol) {
    boost::system::error_code ec;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(ws_.next_layer(), buffer, req, ec);
    if (ec || !websocket::is_upgrade(req) || req.target() != "/v1/noise") return false;
    ws_.set_option(websocket::stream_base::decorator([subprotocol](websocket::response_type& res) {
      if (!subprotocol.empty()) res.set(http::field::sec_websocket_protocol, subprotocol);
    }));
    ws_.read_message_max(65535);
    ws_.accept(req, ec);
    if (ec) return false;
    ws_.binary(true);
    return true;
  }
  std::optional<Bytes> Read() override {
    boost::system::error_code ec;
    beast::flat_buffer buffer;
    ws_.read(buffer, ec);
    if (ec || !ws_.got_binary() || buffer.size() == 0) return std::nullopt;
    const auto* p = static_cast<const std::uint8_t*>(buffer.cdata().data());
    return Bytes(p, p + buffer.size());
  }
  bool Write(ByteView body) override {
    boost::system::error_code ec;
    ws_.write(asio::buffer(body.data(), body.size()), ec);
    return !ec;
  }

 private:
  asio::io_context ioc_;
  websocket::stream<asio::ip::tcp::socket> ws_;
};

}  // namespace


std::shared_ptr<const crypto::XdhPrivateKey> NewStaticKey() {
  return std::make_shared<const crypto::XdhPrivateKey>(
      crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519).value());
}

std::shared_ptr<const sim::SimulatedPlatform> SharedPlatform() {
  static const std::shared_ptr<const sim::SimulatedPlatform> p = NewPlatform();
  return p;
}

std::shared_ptr<const sim::SimulatedPlatform> OtherPlatform() {
  static const std::shared_ptr<const sim::SimulatedPlatform> p = NewPlatform();
  return p;
}

Bytes TestMeasurement() {
  return sim::SimulatedMeasurement(AsBytes("client test workload"), AsBytes("")).value();
}

EvidenceSpec DefaultEvidence() {
  EvidenceSpec spec;
  spec.report.measurement = TestMeasurement();
  return spec;
}

Result<Bytes> MakeEvidence(ByteView server_static, const EvidenceSpec& spec) {
  std::shared_ptr<const sim::SimulatedPlatform> platform = spec.platform ? spec.platform : SharedPlatform();
  sim::ReportRequest req = spec.report;
  PERIMETER_ASSIGN_OR_RETURN(req.report_data,
                             attest::NoiseBindingReportData(spec.bind_to ? ByteView(*spec.bind_to) : server_static));
  attest::Evidence e;
  PERIMETER_ASSIGN_OR_RETURN(e.report, platform->SignReport(req));
  e.vek = platform->vcek().ToDer();
  if (spec.include_ask) e.ask = platform->ask().ToDer();
  if (spec.include_ark) e.ark = platform->ark().ToDer();
  if (spec.crl) {
    e.crl = spec.crl->ToDer();
  } else if (spec.include_crl) {
    e.crl = platform->crl().ToDer();
  }
  e.provider = std::string(sim::kInsecureSimulatedProviderName);
  PERIMETER_ASSIGN_OR_RETURN(std::string text, attest::SerializeEvidence(e));
  if (spec.mutate) spec.mutate(text);
  return ToBytes(text);
}

std::string DefaultPolicyYaml() {
  return "  measurements: [" + HexEncode(TestMeasurement()) + "]\n  require_crl: true\n";
}

Result<std::string> WriteTrustFile(const std::string& dir, const sim::SimulatedPlatform& platform,
                                   const std::string& policy_yaml, const std::string& roots_yaml,
                                   bool with_crl_file) {
  if (!WriteFile(dir + "/ark.pem", AsBytes(Pem("CERTIFICATE", platform.ark().ToDer()))) ||
      !WriteFile(dir + "/crl.der", platform.crl().ToDer())) {
    return UnavailableError("test.io", "cannot write into " + dir);
  }
  std::string yaml = "version: 1\nroots:\n" +
                     (roots_yaml.empty() ? std::string("  amd: true\n  arks: [ark.pem]\n") : roots_yaml) +
                     (with_crl_file ? "crls: [crl.der]\n" : "") + "policy:\n" + policy_yaml;
  const std::string path = dir + "/trust.yaml";
  if (!WriteFile(path, AsBytes(yaml))) return UnavailableError("test.io", "cannot write " + path);
  return path;
}

// --- the server -----------------------------------------------------------

struct TestServer::Shared {
  Options options;
  int listen_fd = -1;
  std::uint16_t port = 0;
  std::atomic<bool> stopping{false};
  std::thread acceptor;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::shared_ptr<const crypto::XdhPrivateKey> static_key;  // GUARDED_BY(mu)
  Bytes evidence;                                          // GUARDED_BY(mu)
  std::vector<ConnectionRecord> records;                   // GUARDED_BY(mu), ended connections
  std::vector<int> open_fds;                               // GUARDED_BY(mu)
  std::vector<std::thread> workers;                        // GUARDED_BY(mu)
  std::map<std::string, std::map<std::string, Bytes>> store;  // GUARDED_BY(mu): user -> key -> value

  void Serve(int fd);
  void Session(PeerConn& conn, noise::PipesSession session, ConnectionRecord& record);
  session::Response Handle(const std::string& user, const session::Request& request);
};

session::Response TestServer::Shared::Handle(const std::string& user, const session::Request& r) {
  std::lock_guard<std::mutex> lock(mu);
  auto& mine = store[user];
  if (std::holds_alternative<session::WhoamiRequest>(r.body)) {
    return session::Response::Ok(r.id, session::WhoamiResult{user});
  }
  if (auto* put = std::get_if<session::PutRequest>(&r.body)) {
    mine[put->key] = put->value;
    return session::Response::Ok(r.id, session::PutResult{});
  }
  if (auto* get = std::get_if<session::GetRequest>(&r.body)) {
    auto it = mine.find(get->key);
    if (it == mine.end()) {
      return session::Response::Error(r.id, session::Operation::kGet, StatusCode::kNotFound, "workload.not_found");
    }
    return session::Response::Ok(r.id, session::GetResult{it->second});
  }
  if (auto* del = std::get_if<session::DeleteRequest>(&r.body)) {
    if (mine.erase(del->key) == 0) {
      return session::Response::Error(r.id, session::Operation::kDelete, StatusCode::kNotFound,
                                      "workload.not_found");
    }
    return session::Response::Ok(r.id, session::DeleteResult{});
  }
  const auto& list = std::get<session::ListRequest>(r.body);
  // The page token is the last key of the previous page.
  std::string after(list.page_token.begin(), list.page_token.end());
  session::ListResult result;
  auto it = list.page_token.empty() ? mine.lower_bound(list.prefix) : mine.upper_bound(after);
  for (; it != mine.end() && it->first.compare(0, list.prefix.size(), list.prefix) == 0; ++it) {
    if (result.keys.size() == list.limit) {
      result.next_page_token = ToBytes(result.keys.back());
      break;
    }
    result.keys.push_back(it->first);
  }
  return session::Response::Ok(r.id, std::move(result));
}

void TestServer::Shared::Session(PeerConn& conn, noise::PipesSession s, ConnectionRecord& record) {
  const std::string user = keys::UserIdFromStaticKey(s.remote_static).value();
  session::MessageReader reader(session::MessageReader::Sender::kClient);
  auto send_message = [&](Bytes message) {
    if (!message.empty() && message[0] == static_cast<std::uint8_t>(session::RecordType::kClose)) {
      Result<Bytes> ct = s.transport.Encrypt(message);  // a close is never chunked
      return ct.has_value() && conn.Write(*ct);
    }
    Result<session::Chunker> chunker = session::Chunker::New(std::move(message));
    if (!chunker.has_value()) return false;
    while (!chunker->done()) {
      Bytes record_bytes = chunker->Next();
      Result<Bytes> ct = s.transport.Encrypt(record_bytes);
      if (!ct.has_value() || !conn.Write(*ct)) return false;
    }
    return true;
  };
  while (true) {
    std::optional<Bytes> body = conn.Read();
    if (!body) return;
    Result<Bytes> plain = s.transport.Decrypt(*body);
    if (!plain.has_value()) return;
    Result<std::optional<session::Message>> m = reader.OnRecord(*plain);
    if (!m.has_value()) {
      send_message(session::EncodeClose({m.error().code(), std::string(m.error().reason())}).value());
      return;
    }
    if (!m->has_value()) continue;
    const auto& request = std::get<session::Request>(**m);
    if (options.close_after_requests >= 0 && record.requests >= options.close_after_requests) {
      send_message(session::EncodeClose({StatusCode::kUnavailable, "session.server_shutdown"}).value());
      return;
    }
    ++record.requests;
    session::Response response = Handle(user, request);
    if (!send_message(session::EncodeResponse(response).value())) return;
  }
}

void TestServer::Shared::Serve(int fd) {
  ConnectionRecord record;
  std::unique_ptr<PeerConn> conn;
  if (options.websocket) {
    auto ws = std::make_unique<WsPeer>(fd);
    if (ws->Accept(options.ws_subprotocol)) conn = std::move(ws);
  } else {
    conn = std::make_unique<TcpPeer>(fd);
  }
  if (conn) {
    noise::PipesServer::Config config;
    {
      std::lock_guard<std::mutex> lock(mu);
      config.static_key = static_key;
      config.evidence = evidence;
    }
    Result<noise::PipesServer> server = noise::PipesServer::New(std::move(config));
    while (server.has_value()) {
      std::optional<Bytes> body = conn->Read();
      if (!body) break;
      if (record.evidence_sent) ++record.frames_after_evidence;
      Result<std::optional<Bytes>> reply = server->OnFrame(*body);
      if (server->pattern()) record.pattern = server->pattern();
      if (!reply.has_value()) break;
      if (reply->has_value()) {
        if (!conn->Write(**reply)) break;
        record.evidence_sent = true;
      }
      if (server->complete()) {
        Result<noise::PipesSession> s = server->TakeSession();
        if (!s.has_value()) break;
        record.handshake_complete = true;
        record.pattern = s->pattern;
        Session(*conn, std::move(s).value(), record);
        break;
      }
    }
  }
  conn.reset();
  std::lock_guard<std::mutex> lock(mu);
  for (auto it = open_fds.begin(); it != open_fds.end(); ++it) {
    if (*it == fd) {
      open_fds.erase(it);
      break;
    }
  }
  ::close(fd);
  records.push_back(record);
  cv.notify_all();
}

Result<std::unique_ptr<TestServer>> TestServer::Start(Options options) {
  auto shared = std::make_shared<Shared>();
  shared->options = std::move(options);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return UnavailableError("test.socket", "socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return UnavailableError("test.socket", "bind/listen failed");
  }
  shared->listen_fd = fd;
  shared->port = ntohs(addr.sin_port);
  auto server = std::unique_ptr<TestServer>(new TestServer(shared));
  PERIMETER_RETURN_IF_ERROR(server->RotateStaticKey());
  Shared* s = shared.get();
  shared->acceptor = std::thread([s] {
    while (!s->stopping.load()) {
      pollfd p{s->listen_fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept4(s->listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      std::lock_guard<std::mutex> lock(s->mu);
      s->open_fds.push_back(c);
      s->workers.emplace_back([s, c] { s->Serve(c); });
    }
  });
  return server;
}

TestServer::~TestServer() { Stop(); }

void TestServer::Stop() {
  if (shared_->stopping.exchange(true)) return;
  if (shared_->acceptor.joinable()) shared_->acceptor.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    for (int fd : shared_->open_fds) ::shutdown(fd, SHUT_RDWR);
    workers.swap(shared_->workers);
  }
  for (std::thread& t : workers) t.join();
  ::close(shared_->listen_fd);
}

std::string TestServer::endpoint() const {
  const std::string hp = "127.0.0.1:" + std::to_string(shared_->port);
  return shared_->options.websocket ? "ws://" + hp + "/v1/noise" : hp;
}

Status TestServer::RotateStaticKey() {
  PERIMETER_ASSIGN_OR_RETURN(crypto::XdhPrivateKey k, crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519));
  auto key = std::make_shared<const crypto::XdhPrivateKey>(std::move(k));
  PERIMETER_ASSIGN_OR_RETURN(Bytes evidence, MakeEvidence(key->public_key(), shared_->options.evidence));
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->static_key = std::move(key);
  shared_->evidence = std::move(evidence);
  return Status::Ok();
}

Status TestServer::SetEvidence(EvidenceSpec spec) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  PERIMETER_ASSIGN_OR_RETURN(Bytes evidence, MakeEvidence(shared_->static_key->public_key(), spec));
  shared_->options.evidence = std::move(spec);
  shared_->evidence = std::move(evidence);
  return Status::Ok();
}

Bytes TestServer::static_public_key() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return ToBytes(shared_->static_key->public_key());
}

std::vector<TestServer::ConnectionRecord> TestServer::connections() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->records;
}

bool TestServer::WaitForConnections(std::size_t n) const {
  std::unique_lock<std::mutex> lock(shared_->mu);
  return shared_->cv.wait_for(lock, std::chrono::seconds(5), [&] { return shared_->records.size() >= n; });
}

}  // namespace perimeter::client::testing
