#include "perimeter/session/chunk_assembler.h"

#include <cstdint>
#include <utility>

#include "perimeter/session/codec.h"
#include "session/wire.h"

namespace perimeter::session {

Status ChunkAssembler::Fail(Status s) {
  failed_ = true;
  partial_.clear();
  reserved_ = 0;
  return s;
}

Result<std::optional<Bytes>> ChunkAssembler::Add(Chunk chunk) {
  if (failed_) {
    return FailedPreconditionError("session.assembler_failed", "session: the assembler failed earlier");
  }
  // The stateless rules first: a Chunk built by hand gets the same checks as
  // one from DecodeChunk.
  if (Status s = ValidateChunk(chunk); !s.ok()) return Fail(std::move(s));
  if (chunk.total_length > limits_.max_message_size) {
    return Fail(ResourceExhaustedError("session.message_too_large", "session: chunked message over the limit"));
  }

  auto it = partial_.find(chunk.message_id);
  if (chunk.index == 0) {
    if (it != partial_.end()) {
      return Fail(InvalidArgumentError("session.duplicate_chunk", "session: message id already in progress"));
    }
    // The carried message must be a request or response with the same id
    // (the first chunk always holds more than 5 bytes).
    const std::uint8_t type = chunk.data[0];
    if (type != static_cast<std::uint8_t>(RecordType::kRequest) &&
        type != static_cast<std::uint8_t>(RecordType::kResponse)) {
      return Fail(InvalidArgumentError("session.unknown_type", "session: chunks carry requests or responses only"));
    }
    if (internal::LoadU32(chunk.data.data() + 1) != chunk.message_id) {
      return Fail(InvalidArgumentError("session.chunk_id_mismatch", "session: chunk id differs from the message id"));
    }
    if (partial_.size() >= limits_.max_partial_messages) {
      return Fail(ResourceExhaustedError("session.too_many_partial_messages",
                                         "session: too many chunked messages in progress"));
    }
    if (reserved_ + chunk.total_length > limits_.max_buffered_bytes) {
      return Fail(ResourceExhaustedError("session.buffer_limit", "session: chunked messages exceed the buffer limit"));
    }
    reserved_ += chunk.total_length;
    Partial p{chunk.count, chunk.total_length, 1, {}};
    p.data.reserve(chunk.total_length);
    Append(p.data, chunk.data);
    partial_.emplace(chunk.message_id, std::move(p));
    return std::optional<Bytes>();
  }

  if (it == partial_.end()) {
    return Fail(InvalidArgumentError("session.chunk_out_of_order", "session: chunk of a message never started"));
  }
  Partial& p = it->second;
  if (chunk.count != p.count || chunk.total_length != p.total_length) {
    return Fail(InvalidArgumentError("session.chunk_header_mismatch", "session: chunk header differs from the first"));
  }
  if (chunk.index < p.next_index) {
    return Fail(InvalidArgumentError("session.duplicate_chunk", "session: chunk index received already"));
  }
  if (chunk.index > p.next_index) {
    return Fail(InvalidArgumentError("session.chunk_out_of_order", "session: chunk index skips ahead"));
  }
  Append(p.data, chunk.data);
  ++p.next_index;
  if (p.next_index < p.count) return std::optional<Bytes>();

  // Complete: the canonical sizes make data exactly total_length long.
  Bytes done = std::move(p.data);
  reserved_ -= p.total_length;
  partial_.erase(it);
  if (done.size() != chunk.total_length) {
    return Fail(InternalError("session.internal", "session: reassembled size differs from the total"));
  }
  return std::optional<Bytes>(std::move(done));
}

}  // namespace perimeter::session
