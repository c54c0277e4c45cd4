#include "perimeter/client/session_core.h"

#include <utility>

#include "perimeter/session/chunker.h"
#include "perimeter/session/codec.h"
#include "perimeter/session/limits.h"

namespace perimeter::client {

SessionCore::SessionCore(noise::Transport transport) : transport_(std::move(transport)) {}

Status SessionCore::Fail(Status s) {
  failed_ = true;
  in_flight_.clear();
  return s;
}

Result<std::vector<Bytes>> SessionCore::SealRequest(session::RequestBody body, std::uint32_t* id_out) {
  if (failed_ || closed_) {
    return FailedPreconditionError("client.session_failed", "client: the session has ended");
  }
  if (in_flight_.size() >= session::kMaxInFlightRequests) {
    return ResourceExhaustedError("client.too_many_in_flight", "client: 16 requests are already in flight");
  }
  // The next id that is neither 0 nor in flight (ids wrap after 2^32 - 1).
  while (next_id_ == 0 || in_flight_.count(next_id_) != 0) ++next_id_;
  session::Request request{next_id_, std::move(body)};
  // Encoding checks the caller's input; a failure here leaves the session as
  // it was.
  PERIMETER_ASSIGN_OR_RETURN(Bytes message, session::EncodeRequest(request));
  PERIMETER_ASSIGN_OR_RETURN(session::Chunker chunker, session::Chunker::New(std::move(message)));
  std::vector<Bytes> frames;
  frames.reserve(chunker.record_count());
  while (!chunker.done()) {
    Bytes record = chunker.Next();
    Result<Bytes> frame = transport_.Encrypt(record);
    if (!frame.has_value()) return Fail(frame.error());
    frames.push_back(std::move(frame).value());
  }
  in_flight_[request.id] = request.operation();
  if (id_out != nullptr) *id_out = request.id;
  ++next_id_;
  return frames;
}

Result<std::optional<session::Message>> SessionCore::OpenFrame(ByteView body) {
  if (failed_ || closed_) {
    return FailedPreconditionError("client.session_failed", "client: the session has ended");
  }
  Result<Bytes> record = transport_.Decrypt(body);
  if (!record.has_value()) return Fail(record.error());
  Result<std::optional<session::Message>> message = reader_.OnRecord(*record);
  if (!message.has_value()) return Fail(message.error());
  if (!message->has_value()) return std::optional<session::Message>();
  session::Message& m = **message;
  if (auto* response = std::get_if<session::Response>(&m)) {
    auto it = in_flight_.find(response->id);
    if (it == in_flight_.end()) {
      return Fail(InvalidArgumentError("client.unexpected_response",
                                       "client: a response to request " + std::to_string(response->id) +
                                           ", which is not in flight"));
    }
    if (it->second != response->operation) {
      return Fail(InvalidArgumentError("client.operation_mismatch",
                                       "client: the response to request " + std::to_string(response->id) +
                                           " is for another operation"));
    }
    in_flight_.erase(it);
  } else if (std::holds_alternative<session::Close>(m)) {
    closed_ = true;
    in_flight_.clear();
  } else {
    // MessageReader lets only responses and closes through from a server.
    return Fail(InvalidArgumentError("session.unexpected_type", "client: the server sent a request"));
  }
  return std::move(message).value();
}

}  // namespace perimeter::client
