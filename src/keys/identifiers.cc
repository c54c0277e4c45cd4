#include "perimeter/keys/identifiers.h"

#include "perimeter/crypto/hash.h"

namespace perimeter::keys {
namespace {

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

}  // namespace

Status ValidatePodId(std::string_view pod_id) {
  if (!IsValidId(pod_id)) {
    return InvalidArgumentError("keys.bad_pod_id",
                                "keys: pod_id must be 1..128 characters of [A-Za-z0-9._-]");
  }
  return Status::Ok();
}

Status ValidateSessionId(std::string_view session_id) {
  if (!IsValidId(session_id)) {
    return InvalidArgumentError("keys.bad_session_id",
                                "keys: session_id must be 1..128 characters of [A-Za-z0-9._-]");
  }
  return Status::Ok();
}

Status ValidateUserId(std::string_view user_id) {
  bool ok = user_id.size() == kUserIdLength;
  for (char c : user_id) {
    ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }
  if (!ok) {
    return InvalidArgumentError("keys.bad_user_id",
                                "keys: user_id must be 64 lowercase hex digits");
  }
  return Status::Ok();
}

Result<std::string> UserIdFromStaticKey(ByteView static_public_key) {
  if (static_public_key.size() != 32) {
    return InvalidArgumentError("keys.bad_static_key",
                                "keys: a client static public key is 32 bytes");
  }
  PERIMETER_ASSIGN_OR_RETURN(Bytes digest, crypto::Hash(crypto::HashAlg::kSha256, static_public_key));
  return HexEncode(digest);
}

}  // namespace perimeter::keys
