// Where a client connects (docs/wire-protocol.md section 2):
//   HOST:PORT                    raw TCP, 2-byte length-prefixed frames
//   ws://HOST:PORT[/PATH]        WebSocket (path default /v1/noise),
//                                subprotocol secure-perimeter.v1
// HOST is a name, an IPv4 address or a bracketed IPv6 address ("[::1]:7000").
// wss:// is not supported by this client (TLS adds nothing to the Noise
// channel's security; put a TLS terminator in front if a network needs it).
//
// Pure functions; thread-safe. Endpoint is intentionally copyable.
#ifndef PERIMETER_CLIENT_ENDPOINT_H_
#define PERIMETER_CLIENT_ENDPOINT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "perimeter/base/result.h"

namespace perimeter::client {

inline constexpr std::string_view kWebSocketPath = "/v1/noise";
inline constexpr std::string_view kWebSocketSubprotocol = "secure-perimeter.v1";

struct Endpoint {
  enum class Kind { kTcp, kWebSocket };
  Kind kind = Kind::kTcp;
  std::string host;  // without brackets
  std::uint16_t port = 0;
  std::string path;  // WebSocket only
  // The canonical spelling ("127.0.0.1:7000", "ws://[::1]:80/v1/noise"),
  // also the key of the known-servers cache.
  std::string ToString() const;
};

// Errors: kInvalidArgument "client.bad_endpoint" (syntax, port 0 or over
// 65535); kUnimplemented "client.unsupported_scheme" (wss:// or any other).
Result<Endpoint> ParseEndpoint(std::string_view text);

}  // namespace perimeter::client

#endif  // PERIMETER_CLIENT_ENDPOINT_H_
