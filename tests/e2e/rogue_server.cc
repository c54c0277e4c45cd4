#include "tests/e2e/rogue_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "perimeter/crypto/xdh.h"
#include "perimeter/noise/framing.h"
#include "perimeter/noise/pipes.h"

namespace perimeter::e2e {
namespace {

Status Io(const std::string& what) {
  return UnavailableError("e2e.io", "rogue: " + what + ": " + std::strerror(errno));
}

Status SendAll(int fd, ByteView data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return Io("send");
    off += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

Status SendFrame(int fd, ByteView body) {
  PERIMETER_ASSIGN_OR_RETURN(Bytes frame, noise::EncodeFrame(body));
  return SendAll(fd, frame);
}

// The next frame body, waiting at most `timeout_ms`.
Result<Bytes> ReadFrame(int fd, noise::FrameDecoder& decoder, int timeout_ms) {
  std::uint8_t buf[65536];
  while (true) {
    if (std::optional<Bytes> body = decoder.Next()) return *std::move(body);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return UnavailableError("e2e.timeout", "rogue: no frame in time");
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return UnavailableError("e2e.closed", "rogue: peer closed");
    decoder.Feed(ByteView(buf, static_cast<std::size_t>(n)));
  }
}

Result<UniqueFd> Connect(const std::string& host, std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  if (fd.get() < 0) return Io("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgumentError("e2e.bad_host", "rogue: host must be an IPv4 address");
  }
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return Io("connect");
  return fd;
}

}  // namespace

Result<Bytes> CaptureEvidence(const std::string& host, std::uint16_t port) {
  PERIMETER_ASSIGN_OR_RETURN(UniqueFd fd, Connect(host, port));
  PERIMETER_ASSIGN_OR_RETURN(crypto::XdhPrivateKey key, crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519));
  Bytes captured;
  noise::PipesClient::Config config;
  config.static_key = std::make_shared<const crypto::XdhPrivateKey>(std::move(key));
  config.verify_server = [&captured](ByteView, ByteView payload) {
    captured.assign(payload.begin(), payload.end());
    // Abandon the handshake: the attacker only wanted the document.
    return FailedPreconditionError("e2e.captured", "evidence captured");
  };
  PERIMETER_ASSIGN_OR_RETURN(noise::PipesClient client, noise::PipesClient::New(std::move(config)));
  PERIMETER_ASSIGN_OR_RETURN(Bytes first, client.Start());
  PERIMETER_RETURN_IF_ERROR(SendFrame(fd.get(), first));
  noise::FrameDecoder decoder;
  PERIMETER_ASSIGN_OR_RETURN(Bytes reply, ReadFrame(fd.get(), decoder, 10000));
  (void)client.OnFrame(reply);  // fails on purpose once the payload is captured
  if (captured.empty()) return InternalError("e2e.no_evidence", "rogue: the server sent no evidence");
  return captured;
}

Result<std::unique_ptr<RogueServer>> RogueServer::Start(Bytes evidence) {
  std::unique_ptr<RogueServer> s(new RogueServer());
  s->evidence_ = std::move(evidence);
  s->listener_ = UniqueFd(::socket(AF_INET, SOCK_STREAM, 0));
  if (s->listener_.get() < 0) return Io("socket");
  const int one = 1;
  ::setsockopt(s->listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(s->listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return Io("bind");
  if (::listen(s->listener_.get(), 16) != 0) return Io("listen");
  socklen_t len = sizeof(addr);
  if (::getsockname(s->listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return Io("getsockname");
  s->port_ = ntohs(addr.sin_port);
  s->thread_ = std::thread([raw = s.get()] { raw->Serve(); });
  return s;
}

RogueServer::~RogueServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void RogueServer::Serve() {
  while (!stop_) {
    pollfd p{listener_.get(), POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    UniqueFd conn(::accept(listener_.get(), nullptr, nullptr));
    if (conn.get() >= 0) ServeOne(conn.get());
  }
}

void RogueServer::ServeOne(int fd) {
  Result<crypto::XdhPrivateKey> key = crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519);
  if (!key.has_value()) return;
  noise::PipesServer::Config config;
  config.static_key = std::make_shared<const crypto::XdhPrivateKey>(*std::move(key));
  config.evidence = evidence_;
  Result<noise::PipesServer> server = noise::PipesServer::New(std::move(config));
  if (!server.has_value()) return;
  noise::FrameDecoder decoder;
  while (!stop_ && !server->complete()) {
    Result<Bytes> body = ReadFrame(fd, decoder, 5000);
    if (!body.has_value()) return;  // the client gave up (as it must)
    Result<std::optional<Bytes>> out = server->OnFrame(*body);
    if (!out.has_value()) return;
    if (out->has_value()) {
      // Counted before sending: the client may judge and hang up before
      // this thread would get to count after the send.
      ++evidence_sent_;
      if (!SendFrame(fd, **out).ok()) return;
    }
  }
  if (server->complete()) ++completed_;
}

}  // namespace perimeter::e2e
