// Chunker: turns one encoded message into the records (transport plaintexts)
// that carry it (docs/wire-protocol.md, "Chunking"). A message of at most
// kMaxRecordSize bytes is its own single record; a larger one becomes
// ceil(size / kMaxChunkDataSize) chunk records, each at most kMaxRecordSize
// bytes, to be sent in order.
//
// Move-only would do, but it is intentionally copyable (it owns the message
// and a position). Thread-compatible.
#ifndef PERIMETER_SESSION_CHUNKER_H_
#define PERIMETER_SESSION_CHUNKER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::session {

class Chunker {
 public:
  // Takes an encoded request or response (EncodeRequest/EncodeResponse). It
  // is not decoded again: only its type byte, id and size are checked.
  // Errors: kInvalidArgument "session.empty_message", "session.truncated"
  // (shorter than a type and an id), "session.unknown_type" (not a request or
  // response: a close record is never chunked, it is always small),
  // "session.bad_request_id" (id 0); kResourceExhausted
  // "session.message_too_large" (over kMaxMessageSize).
  static Result<Chunker> New(Bytes message);

  // How many records Next() yields in all (1 when the message is not chunked).
  std::size_t record_count() const { return count_; }
  bool done() const { return next_ == count_; }
  // The next record. REQUIRES: !done().
  Bytes Next();

 private:
  Chunker(Bytes message, std::uint32_t id, std::size_t count)
      : message_(std::move(message)), id_(id), count_(count) {}
  Bytes message_;
  std::uint32_t id_;
  std::size_t count_;
  std::size_t next_ = 0;
};

// Convenience: all records of `message` at once (errors as Chunker::New).
Result<std::vector<Bytes>> SplitIntoRecords(Bytes message);

}  // namespace perimeter::session

#endif  // PERIMETER_SESSION_CHUNKER_H_
