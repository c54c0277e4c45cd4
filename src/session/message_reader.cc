#include "perimeter/session/message_reader.h"

#include <utility>

#include "perimeter/session/codec.h"

namespace perimeter::session {

Status MessageReader::CheckAllowed(RecordType type) const {
  const bool ok = sender_ == Sender::kClient ? type == RecordType::kRequest
                                             : (type == RecordType::kResponse || type == RecordType::kClose);
  if (!ok) return InvalidArgumentError("session.unexpected_type", "session: the peer may not send this type");
  return Status::Ok();
}

Result<std::optional<Message>> MessageReader::OnRecord(ByteView record) {
  if (failed_) return FailedPreconditionError("session.reader_failed", "session: the reader failed earlier");
  auto fail = [this](Status s) {
    failed_ = true;
    return s;
  };
  Result<Record> decoded = DecodeRecord(record);
  if (!decoded.has_value()) return fail(decoded.error());
  Record& rec = *decoded;
  if (auto* chunk = std::get_if<Chunk>(&rec)) {
    // The first chunk starts with the carried message's own type byte.
    if (chunk->index == 0 && !chunk->data.empty()) {
      if (Status s = CheckAllowed(static_cast<RecordType>(chunk->data[0])); !s.ok()) return fail(s);
    }
    Result<std::optional<Bytes>> whole = assembler_.Add(std::move(*chunk));
    if (!whole.has_value()) return fail(whole.error());
    if (!whole->has_value()) return std::optional<Message>();
    Result<Message> m = DecodeMessage(**whole);
    if (!m.has_value()) return fail(m.error());
    return std::optional<Message>(std::move(*m));
  }
  Message m;
  if (auto* req = std::get_if<Request>(&rec)) {
    m = std::move(*req);
  } else if (auto* resp = std::get_if<Response>(&rec)) {
    m = std::move(*resp);
  } else {
    m = std::get<Close>(std::move(rec));
  }
  const RecordType type = m.index() == 0   ? RecordType::kRequest
                          : m.index() == 1 ? RecordType::kResponse
                                           : RecordType::kClose;
  if (Status s = CheckAllowed(type); !s.ok()) return fail(s);
  return std::optional<Message>(std::move(m));
}

}  // namespace perimeter::session
