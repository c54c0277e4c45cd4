// noise_interop_peer: our side of the Noise interoperability test
// (tests/interop/run_noise_interop.sh), with the same flags and output as
// tests/interop/go-noise-peer, which uses the independent flynn/noise.
//
//   -role client|server  -pattern XX|IK  -addr 127.0.0.1:PORT
//   -static-key HEX  [-remote-static HEX]  [-server-payload HEX]
//   [-messages N]  [-print-public]
//
// It runs our Noise Pipes state machines (pipes.h) over TCP with the 2-byte
// framing of framing.h. After the handshake the client sends N transport
// messages (lengths cycling 0, 1, 100, 65519, 1000; byte j of message i is
// (i*31 + j) % 251); the server checks each and answers with it reversed;
// the client checks each answer. On success it prints one JSON line
// {"role","pattern","handshake_hash","remote_static","server_payload","messages"}
// and exits 0; on any error it prints the reason on stderr and exits 1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include "perimeter/base/unique_fd.h"
#include "perimeter/noise/framing.h"
#include "perimeter/noise/pipes.h"

namespace {

using perimeter::Bytes;
using perimeter::ByteView;
using perimeter::Result;
using perimeter::Status;
using perimeter::UniqueFd;
namespace noise = perimeter::noise;
namespace crypto = perimeter::crypto;

constexpr int kIoTimeoutMs = 10000;
constexpr std::size_t kLengths[] = {0, 1, 100, 65519, 1000};


Status Io(const std::string& what) {
  return perimeter::UnavailableError("interop.io", what + ": " + std::strerror(errno));
}

Status WaitFor(int fd, short events) {
  pollfd p{fd, events, 0};
  int rc = poll(&p, 1, kIoTimeoutMs);
  if (rc == 0) return perimeter::UnavailableError("interop.timeout", "timed out");
  if (rc < 0) return Io("poll");
  return Status::Ok();
}

Status SendAll(int fd, ByteView data) {
  while (!data.empty()) {
    PERIMETER_RETURN_IF_ERROR(WaitFor(fd, POLLOUT));
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return Io("send");
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

class Conn {
 public:
  explicit Conn(UniqueFd fd) : fd_(std::move(fd)) {}
  Status Send(ByteView body) {
    PERIMETER_ASSIGN_OR_RETURN(Bytes frame, noise::EncodeFrame(body));
    return SendAll(fd_.get(), frame);
  }
  Result<Bytes> Receive() {
    while (true) {
      if (auto body = decoder_.Next()) return std::move(*body);
      PERIMETER_RETURN_IF_ERROR(WaitFor(fd_.get(), POLLIN));
      std::uint8_t buf[16384];
      ssize_t n = recv(fd_.get(), buf, sizeof(buf), 0);
      if (n == 0) return perimeter::UnavailableError("interop.eof", "connection closed by peer");
      if (n < 0) return Io("recv");
      decoder_.Feed(ByteView(buf, static_cast<std::size_t>(n)));
    }
  }

 private:
  UniqueFd fd_;
  noise::FrameDecoder decoder_;
};

Result<sockaddr_in> ParseAddr(const std::string& addr) {
  std::size_t colon = addr.rfind(':');
  if (colon == std::string::npos) return perimeter::InvalidArgumentError("interop.flag", "-addr HOST:PORT");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(std::stoi(addr.substr(colon + 1))));
  if (inet_pton(AF_INET, addr.substr(0, colon).c_str(), &sa.sin_addr) != 1) {
    return perimeter::InvalidArgumentError("interop.flag", "-addr needs an IPv4 address");
  }
  return sa;
}

Result<Conn> Connect(const sockaddr_in& sa) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) return Io("socket");
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) == 0) {
      return Conn(std::move(fd));
    }
    if (std::chrono::steady_clock::now() > deadline) return Io("connect");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Result<Conn> AcceptOne(const sockaddr_in& sa) {
  UniqueFd lfd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (lfd.get() < 0) return Io("socket");
  int one = 1;
  setsockopt(lfd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(lfd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) return Io("bind");
  if (listen(lfd.get(), 1) != 0) return Io("listen");
  pollfd p{lfd.get(), POLLIN, 0};
  if (poll(&p, 1, 20000) <= 0) return perimeter::UnavailableError("interop.timeout", "no client");
  UniqueFd cfd(accept4(lfd.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (cfd.get() < 0) return Io("accept");
  return Conn(std::move(cfd));
}

Bytes TestMessage(std::size_t i) {
  Bytes b(kLengths[i % 5]);
  for (std::size_t j = 0; j < b.size(); ++j) b[j] = static_cast<std::uint8_t>((i * 31 + j) % 251);
  return b;
}

struct Options {
  std::string role, pattern, addr;
  Bytes static_key, remote_static, server_payload;
  std::size_t messages = 5;
  bool print_public = false;
};

Result<Options> ParseFlags(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string> values;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-print-public" || a == "--print-public") {
      o.print_public = true;
      continue;
    }
    if (a.rfind("--", 0) == 0) a = a.substr(1);
    if (a.size() < 2 || a[0] != '-' || i + 1 >= argc) {
      return perimeter::InvalidArgumentError("interop.flag", "bad flag " + a);
    }
    values[a.substr(1)] = argv[++i];
  }
  auto hex = [&](const char* name, Bytes* out) -> Status {
    auto it = values.find(name);
    if (it == values.end()) return Status::Ok();
    PERIMETER_ASSIGN_OR_RETURN(*out, perimeter::HexDecode(it->second));
    return Status::Ok();
  };
  PERIMETER_RETURN_IF_ERROR(hex("static-key", &o.static_key));
  PERIMETER_RETURN_IF_ERROR(hex("remote-static", &o.remote_static));
  PERIMETER_RETURN_IF_ERROR(hex("server-payload", &o.server_payload));
  o.role = values["role"];
  o.pattern = values["pattern"];
  o.addr = values["addr"];
  if (values.count("messages")) o.messages = static_cast<std::size_t>(std::stoul(values["messages"]));
  return o;
}

Result<std::string> Run(const Options& o) {
  PERIMETER_ASSIGN_OR_RETURN(crypto::XdhPrivateKey key,
                             crypto::XdhPrivateKey::FromBytes(crypto::XdhAlg::kX25519, o.static_key));
  auto static_key = std::make_shared<const crypto::XdhPrivateKey>(std::move(key));
  if (o.print_public) return perimeter::HexEncode(static_key->public_key());
  if (o.pattern != "XX" && o.pattern != "IK") {
    return perimeter::InvalidArgumentError("interop.flag", "-pattern XX|IK");
  }
  PERIMETER_ASSIGN_OR_RETURN(sockaddr_in sa, ParseAddr(o.addr));
  std::optional<noise::PipesSession> session;
  if (o.role == "client") {
    noise::PipesClient::Config cfg;
    cfg.static_key = static_key;
    if (o.pattern == "IK") cfg.cached_server_static = o.remote_static;
    // Interop only: the Go peer sends arbitrary bytes, not evidence.
    cfg.verify_server = [](ByteView, ByteView) { return Status::Ok(); };
    PERIMETER_ASSIGN_OR_RETURN(noise::PipesClient client, noise::PipesClient::New(std::move(cfg)));
    PERIMETER_ASSIGN_OR_RETURN(Conn conn, Connect(sa));
    PERIMETER_ASSIGN_OR_RETURN(Bytes first, client.Start());
    PERIMETER_RETURN_IF_ERROR(conn.Send(first));
    while (!client.complete()) {
      PERIMETER_ASSIGN_OR_RETURN(Bytes body, conn.Receive());
      PERIMETER_ASSIGN_OR_RETURN(std::optional<Bytes> reply, client.OnFrame(body));
      if (reply) PERIMETER_RETURN_IF_ERROR(conn.Send(*reply));
    }
    PERIMETER_ASSIGN_OR_RETURN(noise::PipesSession s, client.TakeSession());
    if ((o.pattern == "XX") != (s.pattern == noise::PipesPattern::kXX)) {
      return perimeter::InternalError("interop.pattern", "unexpected pattern completed");
    }
    for (std::size_t i = 0; i < o.messages; ++i) {
      Bytes m = TestMessage(i);
      PERIMETER_ASSIGN_OR_RETURN(Bytes c, s.transport.Encrypt(m));
      PERIMETER_RETURN_IF_ERROR(conn.Send(c));
      PERIMETER_ASSIGN_OR_RETURN(Bytes r, conn.Receive());
      PERIMETER_ASSIGN_OR_RETURN(Bytes p, s.transport.Decrypt(r));
      std::reverse(m.begin(), m.end());
      if (p != m) return perimeter::DataLossError("interop.mismatch", "answer " + std::to_string(i));
    }
    session.emplace(std::move(s));
  } else if (o.role == "server") {
    noise::PipesServer::Config cfg;
    cfg.static_key = static_key;
    cfg.evidence = o.server_payload;
    PERIMETER_ASSIGN_OR_RETURN(noise::PipesServer server, noise::PipesServer::New(std::move(cfg)));
    PERIMETER_ASSIGN_OR_RETURN(Conn conn, AcceptOne(sa));
    while (!server.complete()) {
      PERIMETER_ASSIGN_OR_RETURN(Bytes body, conn.Receive());
      PERIMETER_ASSIGN_OR_RETURN(std::optional<Bytes> reply, server.OnFrame(body));
      if (reply) PERIMETER_RETURN_IF_ERROR(conn.Send(*reply));
    }
    PERIMETER_ASSIGN_OR_RETURN(noise::PipesSession s, server.TakeSession());
    if (std::string(noise::PipesPatternName(s.pattern)) != o.pattern) {
      return perimeter::InternalError("interop.pattern", "client used another pattern");
    }
    for (std::size_t i = 0; i < o.messages; ++i) {
      PERIMETER_ASSIGN_OR_RETURN(Bytes c, conn.Receive());
      PERIMETER_ASSIGN_OR_RETURN(Bytes p, s.transport.Decrypt(c));
      if (p != TestMessage(i)) return perimeter::DataLossError("interop.mismatch", "message " + std::to_string(i));
      std::reverse(p.begin(), p.end());
      PERIMETER_ASSIGN_OR_RETURN(Bytes r, s.transport.Encrypt(p));
      PERIMETER_RETURN_IF_ERROR(conn.Send(r));
    }
    session.emplace(std::move(s));
  } else {
    return perimeter::InvalidArgumentError("interop.flag", "-role client|server");
  }
  std::string json = "{\"role\":\"" + o.role + "\",\"pattern\":\"" + o.pattern +
                     "\",\"handshake_hash\":\"" + perimeter::HexEncode(session->transport.handshake_hash()) +
                     "\",\"remote_static\":\"" + perimeter::HexEncode(session->remote_static) +
                     "\",\"server_payload\":\"" + perimeter::HexEncode(session->server_payload) +
                     "\",\"messages\":" + std::to_string(o.messages) + "}";
  return json;
}

}  // namespace

int main(int argc, char** argv) {
  Result<Options> options = ParseFlags(argc, argv);
  if (!options.has_value()) {
    std::fprintf(stderr, "noise_interop_peer: %s\n", options.error().ToString().c_str());
    return 1;
  }
  Result<std::string> out = Run(*options);
  if (!out.has_value()) {
    std::fprintf(stderr, "noise_interop_peer: %s\n", out.error().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", out->c_str());
  return 0;
}
