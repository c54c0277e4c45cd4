// The messages of the session protocol, version 1, as values
// (docs/wire-protocol.md, "Session protocol"). Encoding and decoding live in
// codec.h; these types carry no wire logic beyond the enumerations' numbers,
// which are the bytes on the wire and never change.
//
// Plain structs: intentionally copyable, comparable with ==. Thread-compatible.
#ifndef PERIMETER_SESSION_MESSAGE_H_
#define PERIMETER_SESSION_MESSAGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "perimeter/base/bytes.h"
#include "perimeter/base/status.h"

namespace perimeter::session {

// The first byte of every record.
enum class RecordType : std::uint8_t {
  kRequest = 0x01,   // client -> server
  kResponse = 0x02,  // server -> client, exactly one per request
  kClose = 0x03,     // server -> client, the last record before closing
  kChunk = 0x04,     // either direction: part of a request or response
};

enum class Operation : std::uint8_t {
  kWhoami = 0x01,
  kPut = 0x02,
  kGet = 0x03,
  kDelete = 0x04,
  kList = 0x05,
};

// --- request bodies -------------------------------------------------------

struct WhoamiRequest {
  bool operator==(const WhoamiRequest&) const = default;
};
struct PutRequest {
  std::string key;  // UTF-8, 1..1024 bytes
  Bytes value;      // 0..1 MiB
  bool operator==(const PutRequest&) const = default;
};
struct GetRequest {
  std::string key;  // UTF-8, 1..1024 bytes
  bool operator==(const GetRequest&) const = default;
};
struct DeleteRequest {
  std::string key;  // UTF-8, 1..1024 bytes
  bool operator==(const DeleteRequest&) const = default;
};
struct ListRequest {
  std::string prefix;  // UTF-8, 0..1024 bytes; empty lists every key
  Bytes page_token;    // 0..256 bytes; empty asks for the first page
  std::uint16_t limit = 100;  // 1..1000
  bool operator==(const ListRequest&) const = default;
};
// The alternative's index + 1 is the operation number.
using RequestBody = std::variant<WhoamiRequest, PutRequest, GetRequest, DeleteRequest, ListRequest>;

struct Request {
  std::uint32_t id = 0;  // 1..2^32-1, unique among the client's in-flight requests
  RequestBody body;
  Operation operation() const { return static_cast<Operation>(body.index() + 1); }
  bool operator==(const Request&) const = default;
};

// --- response results (present only when the status is OK) ---------------

struct WhoamiResult {
  std::string user_id;  // 64 lower-case hex characters
  bool operator==(const WhoamiResult&) const = default;
};
struct PutResult {
  bool operator==(const PutResult&) const = default;
};
struct GetResult {
  Bytes value;  // 0..1 MiB
  bool operator==(const GetResult&) const = default;
};
struct DeleteResult {
  bool operator==(const DeleteResult&) const = default;
};
struct ListResult {
  std::vector<std::string> keys;  // 0..1000 keys, each UTF-8 1..1024 bytes
  Bytes next_page_token;          // 0..256 bytes; empty: no more pages
  bool operator==(const ListResult&) const = default;
};
// Same order as RequestBody: index + 1 is the operation number.
using ResponseResult = std::variant<WhoamiResult, PutResult, GetResult, DeleteResult, ListResult>;

// Contract (checked by the encoder and the decoder): `result` is present iff
// `code` is kOk, and then its alternative matches `operation`; `reason` is
// empty iff `code` is kOk, else 1..64 characters of [a-z0-9._].
struct Response {
  std::uint32_t id = 0;  // the request's id
  Operation operation = Operation::kWhoami;  // the request's operation
  StatusCode code = StatusCode::kOk;
  std::string reason;
  std::optional<ResponseResult> result;

  static Response Ok(std::uint32_t id, ResponseResult result) {
    Response r;
    r.id = id;
    r.operation = static_cast<Operation>(result.index() + 1);
    r.result = std::move(result);
    return r;
  }
  static Response Error(std::uint32_t id, Operation op, StatusCode code, std::string reason) {
    Response r;
    r.id = id;
    r.operation = op;
    r.code = code;
    r.reason = std::move(reason);
    return r;
  }
  bool operator==(const Response&) const = default;
};

// The server's final record: why it is closing. `code` is never kOk; the
// reason follows the same rule as Response::reason.
struct Close {
  StatusCode code = StatusCode::kInternal;
  std::string reason;
  bool operator==(const Close&) const = default;
};

// One piece of a request or response too large for one record. The fields
// are canonical (docs/wire-protocol.md, "Chunking"): total_length is over
// kMaxRecordSize and at most kMaxMessageSize, count is
// ceil(total_length / kMaxChunkDataSize), index < count, and data is exactly
// kMaxChunkDataSize bytes except in the last chunk, which holds the rest.
struct Chunk {
  std::uint32_t message_id = 0;  // the id inside the carried message
  std::uint16_t index = 0;
  std::uint16_t count = 0;
  std::uint32_t total_length = 0;
  Bytes data;
  bool operator==(const Chunk&) const = default;
};

// A complete message (what a record or a reassembled chunk sequence holds).
using Message = std::variant<Request, Response, Close>;
// What one transport plaintext holds.
using Record = std::variant<Request, Response, Close, Chunk>;

}  // namespace perimeter::session

#endif  // PERIMETER_SESSION_MESSAGE_H_
