// MasterSecret: one generation of a pod's master secret M_g (DESIGN.md
// section 5), 32 bytes released by the KBS to an attested pod.
//
// The bytes live in a zeroizing SecretBytes; there is no accessor for them
// except ExportRaw(RawKeyAccess). No operator==, no operator<<.
//
// Intentionally copyable (a copy is an independently wiped secret).
// Thread-compatible.
#ifndef PERIMETER_KEYS_MASTER_SECRET_H_
#define PERIMETER_KEYS_MASTER_SECRET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/secret_bytes.h"
#include "perimeter/keys/raw_key_access.h"

namespace perimeter::keys {

// A key generation number. Generations start at 1; 0 is never valid.
using Generation = std::uint32_t;

inline constexpr std::size_t kMasterSecretSize = 32;

class MasterSecret {
 public:
  // Takes 32 bytes of key material for `generation`.
  // Errors: kInvalidArgument "keys.bad_master_secret" unless 32 bytes;
  // kInvalidArgument "keys.bad_generation" if generation is 0.
  static Result<MasterSecret> FromBytes(Generation generation, ByteView secret);

  // A fresh random secret (tests, and the KBS when it creates M_1).
  // Errors: kInvalidArgument "keys.bad_generation"; kInternal from the RNG.
  static Result<MasterSecret> Generate(Generation generation);

  // Loads M_g from a file holding either exactly 32 raw bytes, or 64 hex
  // digits (either case) optionally followed by one "\n" or "\r\n".
  // The file must be a regular file (symlinks are not followed), owned by
  // the effective user or root, and not readable, writable or executable by
  // group or others (mode & 077 == 0).
  // Errors: kFailedPrecondition "keys.insecure_file_mode" (group/world
  // permissions), "keys.insecure_file_owner", "keys.not_regular_file";
  // kNotFound "keys.file_not_found"; kUnavailable "keys.io";
  // kInvalidArgument "keys.bad_master_secret_file" (any other size or
  // content), "keys.bad_generation". Messages name the path, never bytes.
  static Result<MasterSecret> LoadFromFile(const std::string& path, Generation generation);

  Generation generation() const { return generation_; }

  // The raw 32 bytes. Needs the RawKeyAccess capability (raw_key_access.h).
  ByteView ExportRaw(RawKeyAccess) const { return secret_.view(); }

 private:
  MasterSecret(Generation generation, SecretBytes secret)
      : generation_(generation), secret_(std::move(secret)) {}
  Generation generation_;
  SecretBytes secret_;
};

}  // namespace perimeter::keys

#endif  // PERIMETER_KEYS_MASTER_SECRET_H_
