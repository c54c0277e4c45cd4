// Identifiers that enter the key hierarchy (DESIGN.md section 5): pod_id,
// user_id and session_id, and the derivation of user_id from a client's Noise
// static public key.
//
// Accepted forms (see src/keys/README.md for the reasoning):
//   user_id     exactly 64 characters of lowercase hex [0-9a-f]: the lowercase
//               hex of SHA-256(client static public key). Only the canonical
//               form is accepted, so one client has exactly one user_id.
//   pod_id,     1..128 characters from [A-Za-z0-9._-]. No ':' (the separator
//   session_id  of the HKDF info labels), no whitespace, no control or
//               non-ASCII bytes: every id has one spelling and is safe in
//               logs and paths.
//
// All functions are pure and thread-safe.
#ifndef PERIMETER_KEYS_IDENTIFIERS_H_
#define PERIMETER_KEYS_IDENTIFIERS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/status.h"

namespace perimeter::keys {

inline constexpr std::size_t kUserIdLength = 64;
inline constexpr std::size_t kMaxIdLength = 128;  // pod_id and session_id

// Errors: kInvalidArgument "keys.bad_pod_id".
Status ValidatePodId(std::string_view pod_id);
// Errors: kInvalidArgument "keys.bad_user_id".
Status ValidateUserId(std::string_view user_id);
// Errors: kInvalidArgument "keys.bad_session_id".
Status ValidateSessionId(std::string_view session_id);

// user_id = lowercase hex of SHA-256(static_public_key) (DESIGN.md section 4).
// Errors: kInvalidArgument "keys.bad_static_key" unless the key is 32 bytes
// (an X25519 public key); kInternal from the hash.
Result<std::string> UserIdFromStaticKey(ByteView static_public_key);

}  // namespace perimeter::keys

#endif  // PERIMETER_KEYS_IDENTIFIERS_H_
