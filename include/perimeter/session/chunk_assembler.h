// ChunkAssembler: reassembles chunked messages received on one direction of
// one session (docs/wire-protocol.md, "Chunking" and "Limits").
//
// Chunks of one message arrive in order (index 0, 1, ..., count - 1); chunks
// of up to max_partial_messages different messages may interleave. Memory is
// bounded: the declared total_length of every partial message is counted
// against max_buffered_bytes when its first chunk arrives, before anything
// is stored.
//
// Every error is terminal: the assembler drops what it holds and refuses all
// further chunks (the session is closed anyway). Errors:
//   kInvalidArgument "session.chunk_out_of_order" (a chunk other than the
//     next one of its message, or a first chunk never seen),
//   "session.duplicate_chunk" (an index already received, or a new first
//     chunk for an id still in progress),
//   "session.chunk_header_mismatch" (count or total_length differ from the
//     message's first chunk), "session.chunk_id_mismatch" (the carried
//     message's own id differs from message_id), "session.unknown_type" (the
//     carried message is not a request or response), and every
//     DecodeChunk-level rule of Chunk (message.h) re-checked here;
//   kResourceExhausted "session.too_many_partial_messages",
//   "session.buffer_limit", "session.message_too_large";
//   kFailedPrecondition "session.assembler_failed" (after an earlier error).
//
// Move-only in spirit, copyable in fact (plain data). Thread-compatible.
#ifndef PERIMETER_SESSION_CHUNK_ASSEMBLER_H_
#define PERIMETER_SESSION_CHUNK_ASSEMBLER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/session/limits.h"
#include "perimeter/session/message.h"

namespace perimeter::session {

class ChunkAssembler {
 public:
  struct Limits {
    std::size_t max_partial_messages = kMaxPartialMessages;
    std::size_t max_buffered_bytes = kMaxBufferedBytes;
    std::size_t max_message_size = kMaxMessageSize;  // at most kMaxMessageSize
  };

  ChunkAssembler() : ChunkAssembler(Limits{}) {}
  explicit ChunkAssembler(Limits limits) : limits_(limits) {}

  // Adds one decoded chunk. Returns the complete encoded message (to be
  // decoded with DecodeMessage) when `chunk` is its last, else nullopt.
  Result<std::optional<Bytes>> Add(Chunk chunk);

  // Messages with chunks still missing, and the sum of their declared sizes.
  std::size_t partial_messages() const { return partial_.size(); }
  std::size_t buffered_bytes() const { return reserved_; }
  bool failed() const { return failed_; }

 private:
  struct Partial {
    std::uint16_t count;
    std::uint32_t total_length;
    std::uint16_t next_index;
    Bytes data;
  };
  Status Fail(Status s);

  Limits limits_;
  std::map<std::uint32_t, Partial> partial_;
  std::size_t reserved_ = 0;
  bool failed_ = false;
};

}  // namespace perimeter::session

#endif  // PERIMETER_SESSION_CHUNK_ASSEMBLER_H_
