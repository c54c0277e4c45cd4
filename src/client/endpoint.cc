#include "perimeter/client/endpoint.h"

#include <charconv>

namespace perimeter::client {
namespace {

Status Bad(std::string_view text, const std::string& why) {
  return InvalidArgumentError("client.bad_endpoint",
                              "client: bad endpoint '" + std::string(text) + "': " + why +
                                  " (expected HOST:PORT or ws://HOST:PORT/v1/noise)");
}

bool HostCharOk(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_';
}

// "host:port" or "[v6]:port".
Status ParseHostPort(std::string_view all, std::string_view hp, Endpoint& out) {
  std::string_view host, port;
  if (!hp.empty() && hp[0] == '[') {
    const std::size_t close = hp.find(']');
    if (close == std::string_view::npos || close + 1 >= hp.size() || hp[close + 1] != ':') {
      return Bad(all, "an IPv6 address is written [ADDR]:PORT");
    }
    host = hp.substr(1, close - 1);
    port = hp.substr(close + 2);
    for (char c : host) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.')) {
        return Bad(all, "not an IPv6 address");
      }
    }
  } else {
    const std::size_t colon = hp.rfind(':');
    if (colon == std::string_view::npos) return Bad(all, "no port");
    host = hp.substr(0, colon);
    port = hp.substr(colon + 1);
    for (char c : host) {
      if (!HostCharOk(c)) return Bad(all, "bad character in the host name");
    }
  }
  if (host.empty()) return Bad(all, "no host");
  if (host.size() > 253) return Bad(all, "host name too long");
  unsigned v = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || v == 0 || v > 65535) {
    return Bad(all, "the port must be 1..65535");
  }
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(v);
  return Status::Ok();
}

}  // namespace

std::string Endpoint::ToString() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const std::string hp = h + ":" + std::to_string(port);
  return kind == Kind::kTcp ? hp : "ws://" + hp + path;
}

Result<Endpoint> ParseEndpoint(std::string_view text) {
  Endpoint out;
  const std::size_t scheme = text.find("://");
  if (scheme == std::string_view::npos) {
    out.kind = Endpoint::Kind::kTcp;
    PERIMETER_RETURN_IF_ERROR(ParseHostPort(text, text, out));
    return out;
  }
  std::string_view name = text.substr(0, scheme);
  if (name != "ws") {
    return UnimplementedError("client.unsupported_scheme",
                              "client: scheme '" + std::string(name) + "://' is not supported (use ws:// or HOST:PORT)");
  }
  out.kind = Endpoint::Kind::kWebSocket;
  std::string_view rest = text.substr(scheme + 3);
  const std::size_t slash = rest.find('/');
  std::string_view hp = rest.substr(0, slash);
  out.path = slash == std::string_view::npos ? std::string(kWebSocketPath) : std::string(rest.substr(slash));
  for (char c : out.path) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == '?' || c == '#') {
      return Bad(text, "bad character in the path");
    }
  }
  PERIMETER_RETURN_IF_ERROR(ParseHostPort(text, hp, out));
  return out;
}

}  // namespace perimeter::client
