#include "perimeter/server/connection.h"

#include <algorithm>
#include <utility>

#include "perimeter/keys/identifiers.h"
#include "perimeter/session/chunker.h"
#include "perimeter/session/codec.h"
#include "perimeter/session/limits.h"

namespace perimeter::server {
namespace {

std::uint32_t LoadBigEndian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

Status DuplicateId() {
  return InvalidArgumentError("session.duplicate_request_id", "server: a request with this id is in flight");
}

Status TooManyInFlight() {
  return ResourceExhaustedError("session.too_many_in_flight", "server: too many requests in flight");
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::New(Options options, Clock::time_point now) {
  if (options.static_key == nullptr || options.evidence == nullptr) {
    return InvalidArgumentError("server.bad_connection_options", "server: a connection needs a key and evidence");
  }
  noise::PipesServer::Config config;
  config.static_key = options.static_key;
  config.evidence = *options.evidence;
  PERIMETER_ASSIGN_OR_RETURN(noise::PipesServer pipes, noise::PipesServer::New(std::move(config)));
  return std::unique_ptr<Connection>(new Connection(std::move(options), std::move(pipes), now));
}

Connection::Connection(Options options, noise::PipesServer pipes, Clock::time_point now)
    : options_(std::move(options)),
      handshake_deadline_(now + options_.limits.handshake_timeout),
      pipes_(std::move(pipes)),
      last_activity_(now) {}

Connection::~Connection() { MarkClosed(); }

void Connection::MarkClosed() {
  state_ = State::kClosed;
  pipes_.reset();
  transport_.reset();  // wipes the session keys
  partial_.clear();
  executing_.clear();
  if (session_counted_ && options_.metrics != nullptr) options_.metrics->SessionClosed();
  session_counted_ = false;
}

void Connection::OnTransportClosed() { MarkClosed(); }

ConnectionOutput Connection::Abort() {
  MarkClosed();
  ConnectionOutput out;
  out.close = CloseKind::kAbort;
  return out;
}

bool Connection::Seal(ByteView record, ConnectionOutput& out) {
  Result<Bytes> sealed = transport_->Encrypt(record);
  if (!sealed.has_value()) {
    // Nonce exhaustion (or a bug): nothing more can be sent on this session.
    out.frames.clear();
    MarkClosed();
    out.close = CloseKind::kAbort;
    return false;
  }
  out.frames.push_back(std::move(sealed).value());
  return true;
}

ConnectionOutput Connection::CloseWith(const Status& s) { return CloseWith(ConnectionOutput{}, s); }

ConnectionOutput Connection::CloseWith(ConnectionOutput out, const Status& s) {
  out.requests.clear();
  if (state_ == State::kClosed || !transport_.has_value()) {
    MarkClosed();
    out.close = CloseKind::kAbort;
    return out;
  }
  session::Close close{s.code(), std::string(s.reason())};
  Result<Bytes> record = session::EncodeClose(close);
  if (!record.has_value()) {
    // A status that is not a wire reason (a bug): report it as internal.
    close = session::Close{StatusCode::kInternal, "session.internal"};
    record = session::EncodeClose(close);
  }
  if (!record.has_value() || !Seal(*record, out)) {
    MarkClosed();
    out.close = CloseKind::kAbort;
    return out;
  }
  if (options_.metrics != nullptr) options_.metrics->SessionCloseSent(close.reason);
  MarkClosed();
  out.close = CloseKind::kGraceful;
  return out;
}

ConnectionOutput Connection::OnFrame(ByteView body, Clock::time_point now) {
  switch (state_) {
    case State::kHandshake:
      return OnHandshakeFrame(body, now);
    case State::kOpen:
      return OnTransportFrame(body, now);
    case State::kDraining:
    case State::kClosed:
      return {};
  }
  return {};
}

ConnectionOutput Connection::OnHandshakeFrame(ByteView body, Clock::time_point now) {
  ConnectionOutput out;
  Result<std::optional<Bytes>> reply = pipes_->OnFrame(body);
  if (!reply.has_value()) {
    if (options_.metrics != nullptr) options_.metrics->HandshakeFailed(reply.error().reason());
    return Abort();
  }
  if (reply->has_value()) out.frames.push_back(std::move(**reply));
  if (!pipes_->complete()) return out;

  Result<noise::PipesSession> session = pipes_->TakeSession();
  pipes_.reset();
  if (!session.has_value()) {
    if (options_.metrics != nullptr) options_.metrics->HandshakeFailed(session.error().reason());
    return Abort();
  }
  Result<std::string> user = keys::UserIdFromStaticKey(session->remote_static);
  if (!user.has_value()) {
    if (options_.metrics != nullptr) options_.metrics->HandshakeFailed(user.error().reason());
    return Abort();
  }
  user_id_ = std::move(user).value();
  pattern_ = session->pattern;
  transport_.emplace(std::move(session->transport));
  state_ = State::kOpen;
  last_activity_ = now;
  if (options_.metrics != nullptr) {
    options_.metrics->HandshakeCompleted(noise::PipesPatternName(*pattern_));
    options_.metrics->SessionOpened();
    session_counted_ = true;
  }
  return out;
}

ConnectionOutput Connection::OnTransportFrame(ByteView body, Clock::time_point now) {
  last_activity_ = now;
  Result<Bytes> record = transport_->Decrypt(body);
  // Section 6: undecryptable or empty -> close without a word.
  if (!record.has_value() || record->empty()) return Abort();

  Result<std::optional<session::Message>> message = reader_.OnRecord(*record);
  if (!message.has_value()) return CloseWith(message.error());

  const ByteView r = *record;
  ConnectionOutput out;
  if (r[0] == static_cast<std::uint8_t>(session::RecordType::kChunk)) {
    // The reader accepted the chunk, so its header is well-formed.
    const std::uint32_t id = LoadBigEndian32(&r[1]);
    const std::uint16_t index = LoadBigEndian16(&r[5]);
    if (index == 0) {
      if (executing_.contains(id)) return CloseWith(DuplicateId());
      if (in_flight() >= session::kMaxInFlightRequests) return CloseWith(TooManyInFlight());
      partial_.emplace(id, now);
    }
    if (!message->has_value()) return out;
    partial_.erase(id);
    // The reassembled request is now executed under the same id.
    session::Request& request = std::get<session::Request>(**message);
    executing_.insert(request.id);
    out.requests.push_back(PendingRequest{user_id_, std::move(request)});
    return out;
  }
  // A whole request (the reader admits nothing else from a client).
  session::Request& request = std::get<session::Request>(**message);
  if (executing_.contains(request.id) || partial_.contains(request.id)) return CloseWith(DuplicateId());
  if (in_flight() >= session::kMaxInFlightRequests) return CloseWith(TooManyInFlight());
  executing_.insert(request.id);
  out.requests.push_back(PendingRequest{user_id_, std::move(request)});
  return out;
}

ConnectionOutput Connection::OnResponse(session::Response response, Clock::time_point now) {
  ConnectionOutput out;
  if (state_ != State::kOpen && state_ != State::kDraining) return out;
  if (executing_.erase(response.id) == 0) return out;  // not ours: a caller bug, drop it
  last_activity_ = now;
  Result<Bytes> encoded = session::EncodeResponse(response);
  if (!encoded.has_value()) {
    encoded = session::EncodeResponse(
        session::Response::Error(response.id, response.operation, StatusCode::kInternal, "workload.internal"));
  }
  if (!encoded.has_value()) return CloseWith(InternalError("session.internal", "server: cannot encode"));
  Result<session::Chunker> chunker = session::Chunker::New(std::move(encoded).value());
  if (!chunker.has_value()) return CloseWith(InternalError("session.internal", "server: cannot chunk"));
  while (!chunker->done()) {
    const Bytes record = chunker->Next();
    if (!Seal(record, out)) return out;
  }
  if (state_ == State::kDraining && executing_.empty()) {
    return CloseWith(std::move(out), UnavailableError("session.server_shutdown", "server: shutting down"));
  }
  return out;
}

std::optional<Connection::Clock::time_point> Connection::NextDeadline() const {
  switch (state_) {
    case State::kHandshake:
      return handshake_deadline_;
    case State::kOpen: {
      std::optional<Clock::time_point> d;
      for (const auto& [id, start] : partial_) {
        const Clock::time_point t = start + options_.limits.chunk_timeout;
        if (!d || t < *d) d = t;
      }
      if (in_flight() == 0) {
        const Clock::time_point t = last_activity_ + options_.limits.idle_timeout;
        if (!d || t < *d) d = t;
      }
      return d;
    }
    case State::kDraining:
    case State::kClosed:
      return std::nullopt;
  }
  return std::nullopt;
}

ConnectionOutput Connection::OnTick(Clock::time_point now) {
  if (state_ == State::kHandshake) {
    if (now < handshake_deadline_) return {};
    if (options_.metrics != nullptr) options_.metrics->HandshakeFailed(kHandshakeTimeoutReason);
    return Abort();
  }
  if (state_ != State::kOpen) return {};
  for (const auto& [id, start] : partial_) {
    if (now >= start + options_.limits.chunk_timeout) {
      return CloseWith(ResourceExhaustedError("session.message_timeout", "server: chunks arrived too slowly"));
    }
  }
  if (in_flight() == 0 && now >= last_activity_ + options_.limits.idle_timeout) {
    return CloseWith(UnavailableError("session.idle_timeout", "server: idle session"));
  }
  return {};
}

ConnectionOutput Connection::Drain(Clock::time_point /*now*/) {
  switch (state_) {
    case State::kHandshake:
      return Abort();
    case State::kOpen:
      state_ = State::kDraining;
      partial_.clear();  // never completed: their outcome is unknown to the client anyway
      if (executing_.empty()) {
        return CloseWith(UnavailableError("session.server_shutdown", "server: shutting down"));
      }
      return {};
    case State::kDraining:
    case State::kClosed:
      return {};
  }
  return {};
}

}  // namespace perimeter::server
