// FrameConnection: a connection that carries frame bodies (docs/wire-protocol.md
// section 2), the only thing the client's protocol code needs from a socket.
// Over TCP a body travels as a 2-byte big-endian length and the body; over
// WebSocket as one binary message. Keeping this seam lets the handshake and
// the session protocol run over an in-memory pipe in tests and fuzzers.
//
// Dial() opens a real connection (Boost.Asio / Beast, blocking with
// deadlines). Over WebSocket it offers the subprotocol secure-perimeter.v1 and
// fails unless the server selected exactly it and negotiated no extension.
//
// Thread-compatible: one thread at a time per connection.
#ifndef PERIMETER_CLIENT_FRAME_CONNECTION_H_
#define PERIMETER_CLIENT_FRAME_CONNECTION_H_

#include <chrono>
#include <memory>
#include <string>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/client/endpoint.h"

namespace perimeter::client {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// Stable reasons of connection errors (all kUnavailable unless stated).
inline constexpr std::string_view kConnectFailed = "client.connect_failed";
inline constexpr std::string_view kConnectionClosed = "client.connection_closed";
inline constexpr std::string_view kConnectionTimeout = "client.timeout";
inline constexpr std::string_view kConnectionIo = "client.io_error";
// kInvalidArgument: the peer broke the framing (empty or oversized body,
// text WebSocket message).
inline constexpr std::string_view kBadFrame = "client.bad_frame";
// kFailedPrecondition: the WebSocket server did not select the subprotocol,
// or negotiated an extension.
inline constexpr std::string_view kWebSocketRefused = "client.websocket_refused";

class FrameConnection {
 public:
  virtual ~FrameConnection() = default;

  // Sends one frame body (1..65535 bytes). Errors: kInvalidArgument
  // "client.bad_frame" for an empty or oversized body; the reasons above.
  virtual Status Send(ByteView body, Deadline deadline) = 0;

  // Receives the next frame body. Errors: kUnavailable
  // "client.connection_closed" (orderly close by the peer),
  // "client.timeout", "client.io_error"; kInvalidArgument "client.bad_frame".
  virtual Result<Bytes> Receive(Deadline deadline) = 0;

  // Closes at once (no goodbye: the protocol has none for clients).
  // Idempotent.
  virtual void Close() = 0;
};

// Resolves and connects; over WebSocket also performs the upgrade. Returns
// by `deadline` in every phase, name resolution included: a numeric host
// never reaches the resolver, and a name is looked up on a helper thread
// that is abandoned at the deadline (getaddrinfo cannot be interrupted; the
// thread ends when the system resolver gives up, and drops its result). While
// 8 such abandoned lookups are still running, further names fail at once
// with "client.connect_failed".
// Errors: kUnavailable "client.connect_failed", "client.timeout";
// kFailedPrecondition "client.websocket_refused".
Result<std::unique_ptr<FrameConnection>> Dial(const Endpoint& endpoint, Deadline deadline);

}  // namespace perimeter::client

#endif  // PERIMETER_CLIENT_FRAME_CONNECTION_H_
