// Limits of the session protocol, version 1 (docs/wire-protocol.md, "Limits").
// These numbers are part of the wire contract: a peer that exceeds one is
// closed. Changing one is a protocol change (a new prologue).
#ifndef PERIMETER_SESSION_LIMITS_H_
#define PERIMETER_SESSION_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace perimeter::session {

// One record is one Noise transport plaintext: 65535 - 16 (tag) bytes.
inline constexpr std::size_t kMaxRecordSize = 65519;

// A key (and a list prefix) is UTF-8, at most 1 KiB; keys are non-empty.
inline constexpr std::size_t kMaxKeySize = 1024;
// A value is at most 1 MiB; empty values are allowed.
inline constexpr std::size_t kMaxValueSize = 1024 * 1024;
// A list page token is opaque bytes, at most 256.
inline constexpr std::size_t kMaxPageTokenSize = 256;
// A list request asks for 1..1000 keys; a list response has at most 1000.
inline constexpr std::uint16_t kMaxListLimit = 1000;
// A non-OK reason is 1..64 characters of [a-z0-9._].
inline constexpr std::size_t kMaxReasonSize = 64;
// whoami answers lower-case hex of SHA-256: exactly 64 characters.
inline constexpr std::size_t kUserIdSize = 64;

// The largest encoded message (request or response, before chunking):
// 1 MiB of value plus 4 KiB for headers, key and the like. The largest legal
// message is a put of a 1 KiB key and a 1 MiB value: 1,049,612 bytes.
inline constexpr std::size_t kMaxMessageSize = kMaxValueSize + 4096;  // 1,052,672

// A chunk record: type(1) message_id(4) index(2) count(2) total_length(4).
inline constexpr std::size_t kChunkHeaderSize = 13;
// Message bytes per chunk; every chunk but the last carries exactly this many.
inline constexpr std::size_t kMaxChunkDataSize = kMaxRecordSize - kChunkHeaderSize;  // 65506

// Per direction of one session: messages whose chunks are still arriving,
// and the sum of their declared total lengths.
inline constexpr std::size_t kMaxPartialMessages = 4;
inline constexpr std::size_t kMaxBufferedBytes = 2 * kMaxMessageSize;  // 2,105,344

// Requests a client may have outstanding (sent, wholly or in part, and not
// yet answered) on one session.
inline constexpr std::size_t kMaxInFlightRequests = 16;

}  // namespace perimeter::session

#endif  // PERIMETER_SESSION_LIMITS_H_
