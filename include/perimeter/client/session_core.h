// SessionCore: the client side of the session protocol (docs/wire-protocol.md
// sections 6-9) over frame bodies, without I/O: it numbers requests, encodes
// and chunks them (session::Chunker), encrypts the records, and decrypts,
// reassembles (session::MessageReader) and checks what the server sends.
//
// Checks on the server's messages (any violation is terminal; the caller
// closes the connection and sends nothing): a transport message that does
// not decrypt; a record or chunk sequence that breaks the codec's rules; a
// REQUEST or chunk of one from the server; a RESPONSE whose request_id is not
// in flight ("client.unexpected_response") or whose operation differs from
// the request's ("client.operation_mismatch"). A CLOSE is returned to the
// caller and ends the session.
//
// Errors that are the caller's (a key that is too long, a value over 1 MiB,
// 16 requests in flight: kResourceExhausted "client.too_many_in_flight") do
// not end the session.
//
// Move-only (it owns the transport keys). Thread-compatible.
#ifndef PERIMETER_CLIENT_SESSION_CORE_H_
#define PERIMETER_CLIENT_SESSION_CORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/noise/transport.h"
#include "perimeter/session/message.h"
#include "perimeter/session/message_reader.h"

namespace perimeter::client {

class SessionCore {
 public:
  explicit SessionCore(noise::Transport transport);
  SessionCore(SessionCore&&) noexcept = default;
  SessionCore& operator=(SessionCore&&) noexcept = default;

  // Gives `body` the next request id (1, 2, 3, ...; never 0, never one in
  // flight) and returns the encrypted frame bodies that carry it, to be sent
  // in order. The request is in flight until its response is returned by
  // OpenFrame. Errors: the codec's kInvalidArgument "session.*" and
  // kResourceExhausted "session.message_too_large" for an invalid request
  // (the session goes on); kResourceExhausted "client.too_many_in_flight";
  // kFailedPrecondition "client.session_failed" after a terminal error;
  // noise errors (terminal).
  Result<std::vector<Bytes>> SealRequest(session::RequestBody body, std::uint32_t* id = nullptr);

  // One frame body from the server. Returns a complete Response or Close, or
  // nullopt after a chunk that completes nothing. Errors (terminal):
  // kUnauthenticated "noise.decrypt_failed"; the codec's and reader's
  // "session.*"; kInvalidArgument "client.unexpected_response",
  // "client.operation_mismatch"; kFailedPrecondition "client.session_failed"
  // (after a terminal error or a Close).
  Result<std::optional<session::Message>> OpenFrame(ByteView body);

  std::size_t in_flight() const { return in_flight_.size(); }
  bool failed() const { return failed_; }
  bool closed() const { return closed_; }

 private:
  Status Fail(Status s);

  noise::Transport transport_;
  session::MessageReader reader_{session::MessageReader::Sender::kServer};
  std::map<std::uint32_t, session::Operation> in_flight_;
  std::uint32_t next_id_ = 1;
  bool failed_ = false;
  bool closed_ = false;
};

}  // namespace perimeter::client

#endif  // PERIMETER_CLIENT_SESSION_CORE_H_
