// The client's cache of verified server static keys, used to offer IK on the
// next connection (DESIGN.md section 4). A key enters the cache only after a
// handshake whose evidence was verified and accepted (XX), and is replaced
// only after a verified XXfallback; a rejected or failed handshake never
// changes it.
//
// Entries are bound to the trust configuration that accepted them: the cache
// is keyed by (endpoint, TrustConfigFingerprint of the TrustConfig in use,
// trust_config.h). A key cached under one trust configuration (a more lenient
// trust file, or before a measurement was withdrawn) is never used under
// another, so the client's static key, its identity, which IK message 1
// carries, never goes to a server the current configuration was not shown to
// accept: under a new configuration the client offers XX and verifies the
// evidence before revealing anything.
//
// The cache is not a trust anchor: a cached key only selects IK, and the
// evidence the server sends in IK message 2 is verified again like any other.
//
// Endpoints (cache keys) are the canonical strings of endpoint.h; any cache
// key must be 1..1024 printable ASCII characters (0x21..0x7E), else it is
// refused with kInvalidArgument "client.known_servers_bad_endpoint" (Find
// finds nothing for it).
//
// File format (small JSON, written atomically: a temporary file in the same
// directory, fsync, rename; mode 0600):
//   {"version":2,"servers":{"<endpoint>":[
//       {"trust":"<64 hex: trust fingerprint>","key":"<64 hex: X25519 public key>"},
//       {"key":"<64 hex>"},            // unbound (Remember without a fingerprint)
//       ...]}}
// Each endpoint's entries are listed newest first, at most 8 of them (the
// oldest is dropped), with at most one entry per binding. A missing file is
// an empty cache; a malformed one is an error (fail closed: fix or delete
// it). A version-1 file (keys bound to no trust configuration) reads as an
// empty cache and is rewritten as version 2 by the next update.
//
// Thread-safe (an internal mutex). Several processes may share a file; each
// update re-reads it first, so only concurrent updates of the same moment can
// lose one (the next handshake then falls back and writes it again).
#ifndef PERIMETER_CLIENT_KNOWN_SERVERS_H_
#define PERIMETER_CLIENT_KNOWN_SERVERS_H_

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::client {

// Limits of the cache (see above).
inline constexpr std::size_t kMaxKnownServerEndpointLength = 1024;
inline constexpr std::size_t kMaxKnownServerEntriesPerEndpoint = 8;

// Whether `endpoint` can be a cache key: 1..1024 characters 0x21..0x7E.
bool IsValidKnownServerEndpoint(std::string_view endpoint);

class KnownServers {
 public:
  // Opens the cache at `path` (the file need not exist yet).
  // Errors: kDataLoss "client.known_servers_corrupt" (unparsable, unknown
  // version or members, an endpoint that is not a valid cache key, a key or
  // fingerprint that is not 32 bytes of hex, a repeated binding);
  // kUnavailable "client.known_servers_io".
  static Result<std::unique_ptr<KnownServers>> Open(const std::string& path);

  // A cache that lives in memory only (for tests and for callers that keep
  // their own storage).
  static std::unique_ptr<KnownServers> InMemory();

  KnownServers(const KnownServers&) = delete;
  KnownServers& operator=(const KnownServers&) = delete;

  // The key to offer IK with to `endpoint` under the trust configuration
  // whose fingerprint is `trust` (32 bytes, TrustConfigFingerprint): the key
  // remembered under exactly that fingerprint, else an unbound one (see the
  // two-argument Remember). Never a key remembered under another
  // fingerprint. This is what Connect uses.
  std::optional<Bytes> Find(const std::string& endpoint, ByteView trust) const;

  // Stores `server_static` (32 bytes) for `endpoint` under the trust
  // fingerprint `trust` (32 bytes) and writes the file. An unbound entry of
  // `endpoint` with another key is dropped (it is stale).
  // REQUIRES: the key was authenticated by a handshake whose evidence that
  // trust configuration accepted. Errors: kInvalidArgument
  // "client.known_servers_bad_key" (not 32 bytes),
  // "client.known_servers_bad_endpoint"; kUnavailable
  // "client.known_servers_io"; kDataLoss as Open (the file was damaged
  // meanwhile).
  Status Remember(const std::string& endpoint, ByteView trust, ByteView server_static);

  // The newest key remembered for `endpoint` under any binding (for display
  // and tests; Connect never uses it).
  std::optional<Bytes> Find(const std::string& endpoint) const;

  // Stores `server_static` for `endpoint` UNBOUND: Find offers it under
  // every trust configuration that has no key of its own for `endpoint`.
  // Only for a key the caller vouches for by other means (e.g. moving a
  // verified key to the server's new address); Connect never stores one.
  // Errors as the three-argument Remember.
  Status Remember(const std::string& endpoint, ByteView server_static);

  // Forgets every entry of `endpoint` (e.g. on the user's request). Errors
  // as Remember.
  Status Forget(const std::string& endpoint);

  const std::string& path() const { return path_; }

 private:
  struct Entry {
    std::optional<Bytes> trust;  // nullopt: unbound
    Bytes key;
  };

  explicit KnownServers(std::string path) : path_(std::move(path)) {}
  Status Store(const std::string& endpoint, std::optional<Bytes> trust, ByteView server_static);
  Status ReloadLocked();
  Status WriteLocked() const;

  const std::string path_;  // empty: in memory only
  mutable std::mutex mu_;
  std::map<std::string, std::vector<Entry>> servers_;  // GUARDED_BY(mu_); newest first
};

}  // namespace perimeter::client

#endif  // PERIMETER_CLIENT_KNOWN_SERVERS_H_
