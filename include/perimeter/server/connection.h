// Connection: the server side of one client connection, independent of the
// transport (docs/wire-protocol.md sections 3-11). Frame bodies go in; frame
// bodies to send, requests to execute and close decisions come out. TCP and
// WebSocket (server.h) and the unit tests drive the same state machine.
//
// States:
//   handshake  a noise::PipesServer answers XX, IK or XXfallback with the
//              evidence document. Any failure (bad pattern byte, decryption,
//              non-empty client payload, low-order key, ...) and the
//              handshake timeout end the connection with nothing sent
//              (CloseKind::kAbort: no oracle).
//   open       every frame body is a Noise transport message. A message that
//              fails to decrypt, or decrypts to an empty record, aborts with
//              nothing sent. Records go through session::MessageReader
//              (Sender::kClient); a protocol violation ends the session with
//              a CLOSE record carrying the violation's code and reason
//              (section 10.3), then CloseKind::kGraceful.
//   draining   after Drain(): nothing new is read or executed; once every
//              request being executed is answered, CLOSE 9
//              session.server_shutdown.
//   closed     nothing more happens; late responses are dropped.
//
// Requests: a request is in flight from its first record (chunk 0, or the
// whole request) until its response has been produced. Ids in flight must be
// distinct (session.duplicate_request_id); a 17th request in flight closes the
// session (session.too_many_in_flight). Complete requests are returned in
// ConnectionOutput::requests, bound to this session's user_id (lower-case hex
// SHA-256 of the client's static key); the caller executes each exactly once
// (WorkloadService, off the network thread: it blocks) and hands the response
// to OnResponse(). Responses too large for one record are chunked
// (session::Chunker) and their records emitted back to back.
//
// Time: the caller passes `now` into every call and arms a timer for
// NextDeadline(); when it fires it calls OnTick(). Deadlines: the handshake
// (abort), chunks of one message (CLOSE 7 session.message_timeout, counted
// from the message's first chunk) and idle (CLOSE 9 session.idle_timeout:
// nothing received and no request in flight for the idle timeout).
//
// Not thread-safe: one connection is driven by one strand/thread at a time.
// Not copyable or movable (owned through unique_ptr).
#ifndef PERIMETER_SERVER_CONNECTION_H_
#define PERIMETER_SERVER_CONNECTION_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/status.h"
#include "perimeter/crypto/xdh.h"
#include "perimeter/noise/pipes.h"
#include "perimeter/noise/transport.h"
#include "perimeter/server/metrics.h"
#include "perimeter/session/message.h"
#include "perimeter/session/message_reader.h"

namespace perimeter::server {

// Timeouts of docs/wire-protocol.md section 11 (defaults) - configurable for
// tests.
struct ConnectionLimits {
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds idle_timeout{300'000};
  std::chrono::milliseconds chunk_timeout{60'000};
};

// How the transport must end the connection.
enum class CloseKind {
  kNone,      // keep going
  kGraceful,  // after sending `frames` (the last holds a CLOSE record): TCP FIN / WebSocket 1000
  kAbort,     // now, sending nothing further: drop TCP / WebSocket 1008
};

// A complete request to execute for the session's user.
struct PendingRequest {
  std::string user_id;
  session::Request request;
};

struct ConnectionOutput {
  std::vector<Bytes> frames;  // frame bodies to send, in order
  std::vector<PendingRequest> requests;
  CloseKind close = CloseKind::kNone;
};

// Reason counted when the handshake does not complete in time.
inline constexpr std::string_view kHandshakeTimeoutReason = "server.handshake_timeout";

class Connection {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::shared_ptr<const crypto::XdhPrivateKey> static_key;  // required
    std::shared_ptr<const Bytes> evidence;                    // required, <= 65,000 bytes
    ConnectionLimits limits;
    Metrics* metrics = nullptr;  // optional; must outlive the connection
  };

  // Starts in the handshake state; the handshake timeout runs from `now`.
  // Errors: kInvalidArgument "server.bad_connection_options"; PipesServer::New's.
  static Result<std::unique_ptr<Connection>> New(Options options, Clock::time_point now);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One frame body from the client (WebSocket: one binary message; TCP: the
  // bytes after the length prefix).
  ConnectionOutput OnFrame(ByteView body, Clock::time_point now);
  // The response to a request returned earlier.
  ConnectionOutput OnResponse(session::Response response, Clock::time_point now);
  // Checks the deadlines.
  ConnectionOutput OnTick(Clock::time_point now);
  // Server shutdown: see "draining" above. A connection still in its
  // handshake is aborted.
  ConnectionOutput Drain(Clock::time_point now);
  // The transport closed (peer gone, error): the connection is closed.
  void OnTransportClosed();

  // The earliest deadline, if any; call OnTick() once it has passed.
  std::optional<Clock::time_point> NextDeadline() const;

  bool handshake_complete() const { return state_ != State::kHandshake && pattern_.has_value(); }
  bool closed() const { return state_ == State::kClosed; }
  bool draining() const { return state_ == State::kDraining; }
  // Requests being received or executed.
  std::size_t in_flight() const { return partial_.size() + executing_.size(); }
  // After the handshake: the pattern that completed and the session's user.
  std::optional<noise::PipesPattern> pattern() const { return pattern_; }
  const std::string& user_id() const { return user_id_; }

 private:
  enum class State { kHandshake, kOpen, kDraining, kClosed };
  Connection(Options options, noise::PipesServer pipes, Clock::time_point now);

  ConnectionOutput OnHandshakeFrame(ByteView body, Clock::time_point now);
  ConnectionOutput OnTransportFrame(ByteView body, Clock::time_point now);
  // Ends the session with a CLOSE record (status `s`).
  ConnectionOutput CloseWith(const Status& s);
  ConnectionOutput CloseWith(ConnectionOutput out, const Status& s);
  ConnectionOutput Abort();
  // Encrypts one record into `out`; false (and the connection aborted) on error.
  bool Seal(ByteView record, ConnectionOutput& out);
  void MarkClosed();

  Options options_;
  State state_ = State::kHandshake;
  Clock::time_point handshake_deadline_;
  std::optional<noise::PipesServer> pipes_;
  std::optional<noise::Transport> transport_;
  std::optional<noise::PipesPattern> pattern_;
  std::string user_id_;
  session::MessageReader reader_{session::MessageReader::Sender::kClient};
  std::map<std::uint32_t, Clock::time_point> partial_;  // id -> first chunk's arrival
  std::set<std::uint32_t> executing_;                  // complete, awaiting OnResponse
  Clock::time_point last_activity_;
  bool session_counted_ = false;  // metrics: counted in sessions_active
};

}  // namespace perimeter::server

#endif  // PERIMETER_SERVER_CONNECTION_H_
