#include "perimeter/session/chunker.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "perimeter/session/limits.h"
#include "perimeter/session/message.h"
#include "session/wire.h"

namespace perimeter::session {

Result<Chunker> Chunker::New(Bytes message) {
  if (message.empty()) return InvalidArgumentError("session.empty_message", "session: nothing to send");
  if (message.size() > kMaxMessageSize) {
    return ResourceExhaustedError("session.message_too_large", "session: message over 1 MiB + 4 KiB");
  }
  if (message[0] != static_cast<std::uint8_t>(RecordType::kRequest) &&
      message[0] != static_cast<std::uint8_t>(RecordType::kResponse)) {
    return InvalidArgumentError("session.unknown_type", "session: only requests and responses are chunked");
  }
  if (message.size() < 5) return InvalidArgumentError("session.truncated", "session: message is truncated");
  const std::uint32_t id = internal::LoadU32(message.data() + 1);
  if (id == 0) return InvalidArgumentError("session.bad_request_id", "session: request id 0 is reserved");
  const std::size_t count =
      message.size() <= kMaxRecordSize ? 1 : (message.size() + kMaxChunkDataSize - 1) / kMaxChunkDataSize;
  return Chunker(std::move(message), id, count);
}

Bytes Chunker::Next() {
  const std::size_t index = next_++;
  if (count_ == 1) return message_;
  const std::size_t begin = index * kMaxChunkDataSize;
  const std::size_t size = std::min(kMaxChunkDataSize, message_.size() - begin);
  Bytes out;
  out.reserve(kChunkHeaderSize + size);
  internal::PutU8(out, static_cast<std::uint8_t>(RecordType::kChunk));
  internal::PutU32(out, id_);
  internal::PutU16(out, static_cast<std::uint16_t>(index));
  internal::PutU16(out, static_cast<std::uint16_t>(count_));
  internal::PutU32(out, static_cast<std::uint32_t>(message_.size()));
  out.insert(out.end(), message_.begin() + static_cast<std::ptrdiff_t>(begin),
             message_.begin() + static_cast<std::ptrdiff_t>(begin + size));
  return out;
}

Result<std::vector<Bytes>> SplitIntoRecords(Bytes message) {
  PERIMETER_ASSIGN_OR_RETURN(Chunker chunker, Chunker::New(std::move(message)));
  std::vector<Bytes> records;
  records.reserve(chunker.record_count());
  while (!chunker.done()) records.push_back(chunker.Next());
  return records;
}

}  // namespace perimeter::session
