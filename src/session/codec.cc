#include "perimeter/session/codec.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "perimeter/session/limits.h"
#include "session/wire.h"

namespace perimeter::session {
namespace {

using internal::PutU16;
using internal::PutU32;
using internal::PutU8;
using internal::WireReader;

constexpr std::uint8_t kMaxStatusCode = static_cast<std::uint8_t>(StatusCode::kUnimplemented);

Status Truncated() { return InvalidArgumentError("session.truncated", "session: message is truncated"); }

Status CheckTrailing(const WireReader& r) {
  if (!r.done()) return InvalidArgumentError("session.trailing_bytes", "session: bytes after the message");
  return Status::Ok();
}

Status CheckRequestId(std::uint32_t id) {
  if (id == 0) return InvalidArgumentError("session.bad_request_id", "session: request id 0 is reserved");
  return Status::Ok();
}

Status CheckOperation(std::uint8_t op) {
  if (op < static_cast<std::uint8_t>(Operation::kWhoami) || op > static_cast<std::uint8_t>(Operation::kList)) {
    return InvalidArgumentError("session.unknown_operation", "session: unknown operation");
  }
  return Status::Ok();
}

Status CheckMessageSize(std::size_t size) {
  if (size > kMaxMessageSize) {
    return ResourceExhaustedError("session.message_too_large", "session: message over 1 MiB + 4 KiB");
  }
  return Status::Ok();
}

// A key (allow_empty = false) or a list prefix (allow_empty = true).
Status CheckKey(std::string_view key, bool allow_empty) {
  if (key.empty() && !allow_empty) return InvalidArgumentError("session.empty_key", "session: empty key");
  if (key.size() > kMaxKeySize) return InvalidArgumentError("session.key_too_long", "session: key over 1024 bytes");
  if (!internal::IsWellFormedUtf8(AsBytes(key))) {
    return InvalidArgumentError("session.bad_utf8", "session: key is not well-formed UTF-8");
  }
  return Status::Ok();
}

Status CheckValue(std::size_t size) {
  if (size > kMaxValueSize) return InvalidArgumentError("session.value_too_large", "session: value over 1 MiB");
  return Status::Ok();
}

Status CheckPageToken(std::size_t size) {
  if (size > kMaxPageTokenSize) {
    return InvalidArgumentError("session.page_token_too_long", "session: page token over 256 bytes");
  }
  return Status::Ok();
}

Status CheckLimit(std::uint16_t limit) {
  if (limit < 1 || limit > kMaxListLimit) {
    return InvalidArgumentError("session.bad_limit", "session: list limit outside 1..1000");
  }
  return Status::Ok();
}

Status CheckStatusCode(std::uint8_t code, bool allow_ok) {
  if (code > kMaxStatusCode || (code == 0 && !allow_ok)) {
    return InvalidArgumentError("session.bad_status", "session: unknown or misplaced status code");
  }
  return Status::Ok();
}

// Empty iff the status is OK; else 1..64 of [a-z0-9._].
Status CheckReason(StatusCode code, std::string_view reason) {
  if (code == StatusCode::kOk) {
    if (!reason.empty()) return InvalidArgumentError("session.bad_reason", "session: OK carries no reason");
    return Status::Ok();
  }
  if (reason.empty() || reason.size() > kMaxReasonSize) {
    return InvalidArgumentError("session.bad_reason", "session: reason must be 1..64 characters");
  }
  for (char c : reason) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
    if (!ok) return InvalidArgumentError("session.bad_reason", "session: reason outside [a-z0-9._]");
  }
  return Status::Ok();
}

Status CheckUserId(std::string_view id) {
  if (id.size() != kUserIdSize) return InvalidArgumentError("session.bad_user_id", "session: user_id is not 64 characters");
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return InvalidArgumentError("session.bad_user_id", "session: user_id is not lower-case hex");
    }
  }
  return Status::Ok();
}

// --- field writers (callers have checked the limits) ---

void PutString16(Bytes& out, std::string_view s) {
  PutU16(out, static_cast<std::uint16_t>(s.size()));
  Append(out, AsBytes(s));
}
void PutBytes16(Bytes& out, ByteView b) {
  PutU16(out, static_cast<std::uint16_t>(b.size()));
  Append(out, b);
}
void PutBytes32(Bytes& out, ByteView b) {
  PutU32(out, static_cast<std::uint32_t>(b.size()));
  Append(out, b);
}

// --- field readers ---

Result<std::string> ReadKey(WireReader& r, bool allow_empty) {
  std::uint16_t len = 0;
  if (!r.ReadU16(len)) return Truncated();
  if (len > kMaxKeySize) return InvalidArgumentError("session.key_too_long", "session: key over 1024 bytes");
  ByteView b;
  if (!r.ReadBytes(len, b)) return Truncated();
  std::string s(b.begin(), b.end());
  PERIMETER_RETURN_IF_ERROR(CheckKey(s, allow_empty));
  return s;
}

Result<Bytes> ReadValue(WireReader& r) {
  std::uint32_t len = 0;
  if (!r.ReadU32(len)) return Truncated();
  PERIMETER_RETURN_IF_ERROR(CheckValue(len));
  ByteView b;
  if (!r.ReadBytes(len, b)) return Truncated();
  return ToBytes(b);
}

Result<Bytes> ReadPageToken(WireReader& r) {
  std::uint16_t len = 0;
  if (!r.ReadU16(len)) return Truncated();
  PERIMETER_RETURN_IF_ERROR(CheckPageToken(len));
  ByteView b;
  if (!r.ReadBytes(len, b)) return Truncated();
  return ToBytes(b);
}

// Reason: u8 length, then the characters.
Result<std::string> ReadReason(WireReader& r, StatusCode code) {
  std::uint8_t len = 0;
  if (!r.ReadU8(len)) return Truncated();
  ByteView b;
  if (!r.ReadBytes(len, b)) return Truncated();
  std::string s(b.begin(), b.end());
  PERIMETER_RETURN_IF_ERROR(CheckReason(code, s));
  return s;
}

// --- request bodies ---

struct RequestBodyEncoder {
  Bytes& out;
  Status operator()(const WhoamiRequest&) const { return Status::Ok(); }
  Status operator()(const PutRequest& p) const {
    PERIMETER_RETURN_IF_ERROR(CheckKey(p.key, false));
    PERIMETER_RETURN_IF_ERROR(CheckValue(p.value.size()));
    PutString16(out, p.key);
    PutBytes32(out, p.value);
    return Status::Ok();
  }
  Status operator()(const GetRequest& g) const {
    PERIMETER_RETURN_IF_ERROR(CheckKey(g.key, false));
    PutString16(out, g.key);
    return Status::Ok();
  }
  Status operator()(const DeleteRequest& d) const {
    PERIMETER_RETURN_IF_ERROR(CheckKey(d.key, false));
    PutString16(out, d.key);
    return Status::Ok();
  }
  Status operator()(const ListRequest& l) const {
    PERIMETER_RETURN_IF_ERROR(CheckKey(l.prefix, true));
    PERIMETER_RETURN_IF_ERROR(CheckPageToken(l.page_token.size()));
    PERIMETER_RETURN_IF_ERROR(CheckLimit(l.limit));
    PutString16(out, l.prefix);
    PutBytes16(out, l.page_token);
    PutU16(out, l.limit);
    return Status::Ok();
  }
};

Result<RequestBody> ReadRequestBody(WireReader& r, Operation op) {
  switch (op) {
    case Operation::kWhoami:
      return RequestBody(WhoamiRequest{});
    case Operation::kPut: {
      PutRequest p;
      PERIMETER_ASSIGN_OR_RETURN(p.key, ReadKey(r, false));
      PERIMETER_ASSIGN_OR_RETURN(p.value, ReadValue(r));
      return RequestBody(std::move(p));
    }
    case Operation::kGet: {
      GetRequest g;
      PERIMETER_ASSIGN_OR_RETURN(g.key, ReadKey(r, false));
      return RequestBody(std::move(g));
    }
    case Operation::kDelete: {
      DeleteRequest d;
      PERIMETER_ASSIGN_OR_RETURN(d.key, ReadKey(r, false));
      return RequestBody(std::move(d));
    }
    case Operation::kList: {
      ListRequest l;
      PERIMETER_ASSIGN_OR_RETURN(l.prefix, ReadKey(r, true));
      PERIMETER_ASSIGN_OR_RETURN(l.page_token, ReadPageToken(r));
      if (!r.ReadU16(l.limit)) return Truncated();
      PERIMETER_RETURN_IF_ERROR(CheckLimit(l.limit));
      return RequestBody(std::move(l));
    }
  }
  return InvalidArgumentError("session.unknown_operation", "session: unknown operation");
}

// --- response results ---

struct ResultEncoder {
  Bytes& out;
  Status operator()(const WhoamiResult& w) const {
    PERIMETER_RETURN_IF_ERROR(CheckUserId(w.user_id));
    PutString16(out, w.user_id);
    return Status::Ok();
  }
  Status operator()(const PutResult&) const { return Status::Ok(); }
  Status operator()(const GetResult& g) const {
    PERIMETER_RETURN_IF_ERROR(CheckValue(g.value.size()));
    PutBytes32(out, g.value);
    return Status::Ok();
  }
  Status operator()(const DeleteResult&) const { return Status::Ok(); }
  Status operator()(const ListResult& l) const {
    if (l.keys.size() > kMaxListLimit) {
      return InvalidArgumentError("session.too_many_keys", "session: more than 1000 keys");
    }
    for (const std::string& k : l.keys) PERIMETER_RETURN_IF_ERROR(CheckKey(k, false));
    PERIMETER_RETURN_IF_ERROR(CheckPageToken(l.next_page_token.size()));
    PutU16(out, static_cast<std::uint16_t>(l.keys.size()));
    for (const std::string& k : l.keys) PutString16(out, k);
    PutBytes16(out, l.next_page_token);
    return Status::Ok();
  }
};

Result<ResponseResult> ReadResult(WireReader& r, Operation op) {
  switch (op) {
    case Operation::kWhoami: {
      std::uint16_t len = 0;
      if (!r.ReadU16(len)) return Truncated();
      if (len != kUserIdSize) return InvalidArgumentError("session.bad_user_id", "session: user_id is not 64 characters");
      ByteView b;
      if (!r.ReadBytes(len, b)) return Truncated();
      WhoamiResult w{std::string(b.begin(), b.end())};
      PERIMETER_RETURN_IF_ERROR(CheckUserId(w.user_id));
      return ResponseResult(std::move(w));
    }
    case Operation::kPut:
      return ResponseResult(PutResult{});
    case Operation::kGet: {
      GetResult g;
      PERIMETER_ASSIGN_OR_RETURN(g.value, ReadValue(r));
      return ResponseResult(std::move(g));
    }
    case Operation::kDelete:
      return ResponseResult(DeleteResult{});
    case Operation::kList: {
      ListResult l;
      std::uint16_t count = 0;
      if (!r.ReadU16(count)) return Truncated();
      if (count > kMaxListLimit) return InvalidArgumentError("session.too_many_keys", "session: more than 1000 keys");
      // Each key takes at least 3 bytes, so a count the input cannot hold is
      // refused before anything is reserved.
      if (r.remaining() / 3 < count) return Truncated();
      l.keys.reserve(count);
      for (std::uint16_t i = 0; i < count; ++i) {
        PERIMETER_ASSIGN_OR_RETURN(std::string k, ReadKey(r, false));
        l.keys.push_back(std::move(k));
      }
      PERIMETER_ASSIGN_OR_RETURN(l.next_page_token, ReadPageToken(r));
      return ResponseResult(std::move(l));
    }
  }
  return InvalidArgumentError("session.unknown_operation", "session: unknown operation");
}

Status CheckChunkHeader(std::uint32_t id, std::uint16_t index, std::uint16_t count, std::uint32_t total,
                        std::size_t data_size) {
  PERIMETER_RETURN_IF_ERROR(CheckRequestId(id));
  if (total <= kMaxRecordSize) {
    return InvalidArgumentError("session.bad_chunk_total", "session: a message that fits one record is not chunked");
  }
  PERIMETER_RETURN_IF_ERROR(CheckMessageSize(total));
  const std::size_t expected_count = (std::size_t{total} + kMaxChunkDataSize - 1) / kMaxChunkDataSize;
  if (count != expected_count) {
    return InvalidArgumentError("session.bad_chunk_count", "session: chunk count does not match the total");
  }
  if (index >= count) return InvalidArgumentError("session.bad_chunk_index", "session: chunk index past the count");
  const std::size_t expected_size =
      index + 1u < count ? kMaxChunkDataSize : std::size_t{total} - kMaxChunkDataSize * (std::size_t{count} - 1);
  if (data_size != expected_size) {
    return InvalidArgumentError("session.bad_chunk_size", "session: chunk data size is not canonical");
  }
  return Status::Ok();
}

}  // namespace

Result<Bytes> EncodeRequest(const Request& request) {
  PERIMETER_RETURN_IF_ERROR(CheckRequestId(request.id));
  Bytes out;
  PutU8(out, static_cast<std::uint8_t>(RecordType::kRequest));
  PutU32(out, request.id);
  PutU8(out, static_cast<std::uint8_t>(request.operation()));
  PERIMETER_RETURN_IF_ERROR(std::visit(RequestBodyEncoder{out}, request.body));
  PERIMETER_RETURN_IF_ERROR(CheckMessageSize(out.size()));
  return out;
}

Result<Request> DecodeRequest(ByteView message) {
  PERIMETER_RETURN_IF_ERROR(CheckMessageSize(message.size()));
  WireReader r(message);
  std::uint8_t type = 0;
  if (!r.ReadU8(type)) return Truncated();
  if (type != static_cast<std::uint8_t>(RecordType::kRequest)) {
    return InvalidArgumentError("session.unknown_type", "session: not a request");
  }
  Request req;
  std::uint8_t op = 0;
  if (!r.ReadU32(req.id) || !r.ReadU8(op)) return Truncated();
  PERIMETER_RETURN_IF_ERROR(CheckRequestId(req.id));
  PERIMETER_RETURN_IF_ERROR(CheckOperation(op));
  PERIMETER_ASSIGN_OR_RETURN(req.body, ReadRequestBody(r, static_cast<Operation>(op)));
  PERIMETER_RETURN_IF_ERROR(CheckTrailing(r));
  return req;
}

Result<Bytes> EncodeResponse(const Response& response) {
  PERIMETER_RETURN_IF_ERROR(CheckRequestId(response.id));
  PERIMETER_RETURN_IF_ERROR(CheckOperation(static_cast<std::uint8_t>(response.operation)));
  PERIMETER_RETURN_IF_ERROR(CheckStatusCode(static_cast<std::uint8_t>(response.code), true));
  PERIMETER_RETURN_IF_ERROR(CheckReason(response.code, response.reason));
  const bool ok = response.code == StatusCode::kOk;
  if (ok != response.result.has_value()) {
    return InvalidArgumentError("session.unexpected_body", "session: a result goes with OK and only with OK");
  }
  if (ok && static_cast<std::size_t>(response.operation) != response.result->index() + 1) {
    return InvalidArgumentError("session.unexpected_body", "session: result does not match the operation");
  }
  Bytes out;
  PutU8(out, static_cast<std::uint8_t>(RecordType::kResponse));
  PutU32(out, response.id);
  PutU8(out, static_cast<std::uint8_t>(response.operation));
  PutU8(out, static_cast<std::uint8_t>(response.code));
  PutU8(out, static_cast<std::uint8_t>(response.reason.size()));
  Append(out, AsBytes(response.reason));
  if (ok) PERIMETER_RETURN_IF_ERROR(std::visit(ResultEncoder{out}, *response.result));
  PERIMETER_RETURN_IF_ERROR(CheckMessageSize(out.size()));
  return out;
}

Result<Response> DecodeResponse(ByteView message) {
  PERIMETER_RETURN_IF_ERROR(CheckMessageSize(message.size()));
  WireReader r(message);
  std::uint8_t type = 0;
  if (!r.ReadU8(type)) return Truncated();
  if (type != static_cast<std::uint8_t>(RecordType::kResponse)) {
    return InvalidArgumentError("session.unknown_type", "session: not a response");
  }
  Response resp;
  std::uint8_t op = 0;
  std::uint8_t code = 0;
  if (!r.ReadU32(resp.id) || !r.ReadU8(op) || !r.ReadU8(code)) return Truncated();
  PERIMETER_RETURN_IF_ERROR(CheckRequestId(resp.id));
  PERIMETER_RETURN_IF_ERROR(CheckOperation(op));
  PERIMETER_RETURN_IF_ERROR(CheckStatusCode(code, true));
  resp.operation = static_cast<Operation>(op);
  resp.code = static_cast<StatusCode>(code);
  PERIMETER_ASSIGN_OR_RETURN(resp.reason, ReadReason(r, resp.code));
  if (resp.code == StatusCode::kOk) {
    PERIMETER_ASSIGN_OR_RETURN(resp.result, ReadResult(r, resp.operation));
  } else if (!r.done()) {
    return InvalidArgumentError("session.unexpected_body", "session: an error response has no body");
  }
  PERIMETER_RETURN_IF_ERROR(CheckTrailing(r));
  return resp;
}

Result<Bytes> EncodeClose(const Close& close) {
  PERIMETER_RETURN_IF_ERROR(CheckStatusCode(static_cast<std::uint8_t>(close.code), false));
  PERIMETER_RETURN_IF_ERROR(CheckReason(close.code, close.reason));
  Bytes out;
  PutU8(out, static_cast<std::uint8_t>(RecordType::kClose));
  PutU8(out, static_cast<std::uint8_t>(close.code));
  PutU8(out, static_cast<std::uint8_t>(close.reason.size()));
  Append(out, AsBytes(close.reason));
  return out;
}

Result<Close> DecodeClose(ByteView message) {
  WireReader r(message);
  std::uint8_t type = 0;
  if (!r.ReadU8(type)) return Truncated();
  if (type != static_cast<std::uint8_t>(RecordType::kClose)) {
    return InvalidArgumentError("session.unknown_type", "session: not a close record");
  }
  std::uint8_t code = 0;
  if (!r.ReadU8(code)) return Truncated();
  PERIMETER_RETURN_IF_ERROR(CheckStatusCode(code, false));
  Close c;
  c.code = static_cast<StatusCode>(code);
  PERIMETER_ASSIGN_OR_RETURN(c.reason, ReadReason(r, c.code));
  PERIMETER_RETURN_IF_ERROR(CheckTrailing(r));
  return c;
}

Result<Bytes> EncodeMessage(const Message& message) {
  switch (message.index()) {
    case 0:
      return EncodeRequest(std::get<0>(message));
    case 1:
      return EncodeResponse(std::get<1>(message));
    default:
      return EncodeClose(std::get<2>(message));
  }
}

Result<Message> DecodeMessage(ByteView message) {
  if (message.empty()) return InvalidArgumentError("session.empty_record", "session: empty message");
  switch (message[0]) {
    case static_cast<std::uint8_t>(RecordType::kRequest): {
      PERIMETER_ASSIGN_OR_RETURN(Request r, DecodeRequest(message));
      return Message(std::move(r));
    }
    case static_cast<std::uint8_t>(RecordType::kResponse): {
      PERIMETER_ASSIGN_OR_RETURN(Response r, DecodeResponse(message));
      return Message(std::move(r));
    }
    case static_cast<std::uint8_t>(RecordType::kClose): {
      PERIMETER_ASSIGN_OR_RETURN(Close c, DecodeClose(message));
      return Message(std::move(c));
    }
    default:
      return InvalidArgumentError("session.unknown_type", "session: unknown message type");
  }
}

Status ValidateChunk(const Chunk& chunk) {
  return CheckChunkHeader(chunk.message_id, chunk.index, chunk.count, chunk.total_length, chunk.data.size());
}

Result<Bytes> EncodeChunk(const Chunk& chunk) {
  PERIMETER_RETURN_IF_ERROR(ValidateChunk(chunk));
  Bytes out;
  out.reserve(kChunkHeaderSize + chunk.data.size());
  PutU8(out, static_cast<std::uint8_t>(RecordType::kChunk));
  PutU32(out, chunk.message_id);
  PutU16(out, chunk.index);
  PutU16(out, chunk.count);
  PutU32(out, chunk.total_length);
  Append(out, chunk.data);
  return out;
}

Result<Chunk> DecodeChunk(ByteView record) {
  if (record.size() > kMaxRecordSize) {
    return InvalidArgumentError("session.record_too_large", "session: record over 65519 bytes");
  }
  WireReader r(record);
  std::uint8_t type = 0;
  if (!r.ReadU8(type)) return Truncated();
  if (type != static_cast<std::uint8_t>(RecordType::kChunk)) {
    return InvalidArgumentError("session.unknown_type", "session: not a chunk");
  }
  Chunk c;
  if (!r.ReadU32(c.message_id) || !r.ReadU16(c.index) || !r.ReadU16(c.count) || !r.ReadU32(c.total_length)) {
    return Truncated();
  }
  PERIMETER_RETURN_IF_ERROR(CheckChunkHeader(c.message_id, c.index, c.count, c.total_length, r.remaining()));
  ByteView data;
  if (!r.ReadBytes(r.remaining(), data)) return Truncated();
  c.data = ToBytes(data);
  return c;
}

Result<Record> DecodeRecord(ByteView record) {
  if (record.empty()) return InvalidArgumentError("session.empty_record", "session: empty record");
  if (record.size() > kMaxRecordSize) {
    return InvalidArgumentError("session.record_too_large", "session: record over 65519 bytes");
  }
  if (record[0] == static_cast<std::uint8_t>(RecordType::kChunk)) {
    PERIMETER_ASSIGN_OR_RETURN(Chunk c, DecodeChunk(record));
    return Record(std::move(c));
  }
  PERIMETER_ASSIGN_OR_RETURN(Message m, DecodeMessage(record));
  switch (m.index()) {
    case 0:
      return Record(std::get<0>(std::move(m)));
    case 1:
      return Record(std::get<1>(std::move(m)));
    default:
      return Record(std::get<2>(std::move(m)));
  }
}

Result<Bytes> EncodeRecord(const Record& record) {
  Result<Bytes> out = InternalError("session.internal", "session: unreachable");
  switch (record.index()) {
    case 0:
      out = EncodeRequest(std::get<0>(record));
      break;
    case 1:
      out = EncodeResponse(std::get<1>(record));
      break;
    case 2:
      out = EncodeClose(std::get<2>(record));
      break;
    default:
      return EncodeChunk(std::get<3>(record));
  }
  if (out.has_value() && out->size() > kMaxRecordSize) {
    return InvalidArgumentError("session.record_too_large", "session: message needs chunking");
  }
  return out;
}

}  // namespace perimeter::session
