// Encoding and decoding of session protocol messages, version 1
// (docs/wire-protocol.md). All integers are big-endian.
//
// The encoding is canonical: every message has exactly one encoding, so a
// decoder that accepts bytes B yields a message that encodes to exactly B.
// Decoders never trust a length: each one is checked against the bytes that
// remain and against its limit (limits.h) before use; trailing bytes, unknown
// record types and unknown operations are errors. Encoders check the same
// rules, so a peer cannot produce what the other side would reject.
//
// All errors are kInvalidArgument with a "session.*" reason unless stated:
//   session.empty_record, session.record_too_large, session.unknown_type,
//   session.unknown_operation, session.truncated, session.trailing_bytes,
//   session.bad_request_id, session.bad_status, session.bad_reason,
//   session.unexpected_body, session.empty_key, session.key_too_long,
//   session.bad_utf8, session.value_too_large, session.page_token_too_long,
//   session.bad_limit, session.too_many_keys, session.bad_user_id,
//   session.bad_chunk_total, session.bad_chunk_count, session.bad_chunk_index,
//   session.bad_chunk_size;
//   kResourceExhausted session.message_too_large (over kMaxMessageSize).
//
// Stateless functions; thread-safe.
#ifndef PERIMETER_SESSION_CODEC_H_
#define PERIMETER_SESSION_CODEC_H_

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/session/message.h"

namespace perimeter::session {

// Whole messages, of any size up to kMaxMessageSize (a message over
// kMaxRecordSize must then be sent with Chunker, see chunker.h).
Result<Bytes> EncodeRequest(const Request& request);
Result<Bytes> EncodeResponse(const Response& response);
Result<Bytes> EncodeClose(const Close& close);
Result<Bytes> EncodeMessage(const Message& message);

Result<Request> DecodeRequest(ByteView message);
Result<Response> DecodeResponse(ByteView message);
Result<Close> DecodeClose(ByteView message);
// Any of the three, by its type byte (a chunk record is session.unknown_type
// here: chunks are not messages).
Result<Message> DecodeMessage(ByteView message);

// A chunk record (header and data). Checks every canonical rule of Chunk
// (message.h) that does not need the other chunks.
Result<Bytes> EncodeChunk(const Chunk& chunk);
// The checks of EncodeChunk without the encoding (same errors).
Status ValidateChunk(const Chunk& chunk);
Result<Chunk> DecodeChunk(ByteView record);

// One transport plaintext: at most kMaxRecordSize bytes
// (session.record_too_large), holding a request, response, close or chunk.
// Reassembling chunks is ChunkAssembler's job (chunk_assembler.h).
Result<Record> DecodeRecord(ByteView record);
// The inverse of DecodeRecord for a record that fits (session.record_too_large
// for a request or response over kMaxRecordSize: use Chunker).
Result<Bytes> EncodeRecord(const Record& record);

}  // namespace perimeter::session

#endif  // PERIMETER_SESSION_CODEC_H_
