// The client's cache of verified server static keys, one per endpoint, used
// to offer IK on the next connection (DESIGN.md section 4). A key enters the
// cache only after a handshake whose evidence was verified and accepted
// (XX), and is replaced only after a verified XXfallback; a rejected or
// failed handshake never changes it.
//
// The cache is not a trust anchor: a cached key only selects IK, and the
// evidence the server sends in IK message 2 is verified again like any other.
//
// File format (small JSON, written atomically: a temporary file in the same
// directory, fsync, rename; mode 0600):
//   {"version":1,"servers":{"<endpoint>":"<64 hex: X25519 public key>", ...}}
// Endpoints are the canonical strings of endpoint.h. A missing file is an
// empty cache; a malformed one is an error (fail closed: fix or delete it).
//
// Thread-safe (an internal mutex). Several processes may share a file; each
// update re-reads it first, so only concurrent updates of the same moment can
// lose one (the next handshake then falls back and writes it again).
#ifndef PERIMETER_CLIENT_KNOWN_SERVERS_H_
#define PERIMETER_CLIENT_KNOWN_SERVERS_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::client {

class KnownServers {
 public:
  // Opens the cache at `path` (the file need not exist yet).
  // Errors: kDataLoss "client.known_servers_corrupt" (unparsable, unknown
  // version or members, a key that is not 32 bytes of hex);
  // kUnavailable "client.known_servers_io".
  static Result<std::unique_ptr<KnownServers>> Open(const std::string& path);

  // A cache that lives in memory only (for tests and for callers that keep
  // their own storage).
  static std::unique_ptr<KnownServers> InMemory();

  KnownServers(const KnownServers&) = delete;
  KnownServers& operator=(const KnownServers&) = delete;

  // The cached key of `endpoint`, if any.
  std::optional<Bytes> Find(const std::string& endpoint) const;

  // Stores `server_static` (32 bytes) for `endpoint` and writes the file.
  // REQUIRES: the key was authenticated by a handshake whose evidence was
  // accepted. Errors: kInvalidArgument "client.known_servers_bad_key";
  // kUnavailable "client.known_servers_io"; kDataLoss as Open (the file was
  // damaged meanwhile).
  Status Remember(const std::string& endpoint, ByteView server_static);

  // Forgets `endpoint` (e.g. on the user's request). Errors as Remember.
  Status Forget(const std::string& endpoint);

  const std::string& path() const { return path_; }

 private:
  explicit KnownServers(std::string path) : path_(std::move(path)) {}
  Status ReloadLocked();
  Status WriteLocked() const;

  const std::string path_;  // empty: in memory only
  mutable std::mutex mu_;
  std::map<std::string, Bytes> servers_;  // GUARDED_BY(mu_)
};

}  // namespace perimeter::client

#endif  // PERIMETER_CLIENT_KNOWN_SERVERS_H_
