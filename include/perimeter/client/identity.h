// The client's identity: its Noise static key (DESIGN.md section 4; the
// server derives user_id = hex(SHA-256(public key)) from it). Stored in the
// key file format of `perimeter noise keygen`: the 32-byte X25519 private key
// as 64 hex digits and a newline, mode 0600.
//
// Losing the key loses access to the user's data, so the file is never
// overwritten; a file readable by group or others is refused.
//
// Thread-safe: free functions; the returned key is immutable.
#ifndef PERIMETER_CLIENT_IDENTITY_H_
#define PERIMETER_CLIENT_IDENTITY_H_

#include <memory>
#include <string>

#include "perimeter/base/result.h"
#include "perimeter/crypto/xdh.h"

namespace perimeter::client {

// Reads a key file. Errors: kNotFound "client.identity_missing";
// kPermissionDenied "client.identity_insecure_mode" (group/other bits set, or
// not a regular file); kInvalidArgument "client.identity_bad_file" (not 64 hex
// digits); kUnavailable "client.identity_io".
Result<std::shared_ptr<const crypto::XdhPrivateKey>> LoadIdentity(const std::string& path);

// Reads the key file, or, if there is none, creates a fresh key there
// (O_EXCL, mode 0600, synced). `*created` (if non-null) says which happened.
// Errors: those of LoadIdentity; kUnavailable "client.identity_io" when the
// file cannot be created or written.
Result<std::shared_ptr<const crypto::XdhPrivateKey>> LoadOrCreateIdentity(const std::string& path,
                                                                          bool* created = nullptr);

}  // namespace perimeter::client

#endif  // PERIMETER_CLIENT_IDENTITY_H_
