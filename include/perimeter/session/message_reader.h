// MessageReader: the receiving side of one direction of a session. Feed it
// every decrypted transport plaintext in order; it decodes records,
// reassembles chunks (ChunkAssembler) and returns each complete message.
//
// It also enforces who may send what: a client sends only requests (whole or
// chunked); a server sends only responses (whole or chunked) and close.
// Anything else is "session.unexpected_type".
//
// Every error is terminal (the caller closes the session; a server first
// sends a Close with the error's code and reason). Errors: those of
// DecodeRecord and DecodeMessage (codec.h) and ChunkAssembler, plus
// kInvalidArgument "session.unexpected_type" and kFailedPrecondition
// "session.reader_failed" after an earlier error.
//
// Thread-compatible.
#ifndef PERIMETER_SESSION_MESSAGE_READER_H_
#define PERIMETER_SESSION_MESSAGE_READER_H_

#include <optional>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/session/chunk_assembler.h"
#include "perimeter/session/message.h"

namespace perimeter::session {

class MessageReader {
 public:
  enum class Sender { kClient, kServer };

  // `sender` is the peer whose records this reader receives: a server reads
  // from Sender::kClient.
  explicit MessageReader(Sender sender, ChunkAssembler::Limits limits = {})
      : sender_(sender), assembler_(limits) {}

  // One transport plaintext. Returns a message when one is complete, or
  // nullopt after a chunk that does not complete one.
  Result<std::optional<Message>> OnRecord(ByteView record);

  const ChunkAssembler& assembler() const { return assembler_; }
  bool failed() const { return failed_; }

 private:
  Status CheckAllowed(RecordType type) const;
  Sender sender_;
  ChunkAssembler assembler_;
  bool failed_ = false;
};

}  // namespace perimeter::session

#endif  // PERIMETER_SESSION_MESSAGE_READER_H_
