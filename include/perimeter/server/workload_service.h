// WorkloadService: executes session requests (docs/wire-protocol.md section
// 7.7) for one authenticated user against the encrypted record store.
//
// Isolation: the user is never taken from a request. Every call names the
// user_id the handshake established (keys::UserIdFromStaticKey of the
// client's static key, connection.h) and every store call is scoped to it, so
// a session can only list, read, write or delete its own records.
//
// Results map onto the response reasons of docs/wire-protocol.md 10.2:
//   store.not_found                      -> 2 NOT_FOUND        workload.not_found
//   store.bad_page_token                 -> 1 INVALID_ARGUMENT workload.bad_page_token
//   store.corrupt                        -> 8 DATA_LOSS        workload.data_loss
//   store.io, store.key_unavailable, or
//   no store configured                  -> 9 UNAVAILABLE      workload.unavailable
//   anything else                        -> 10 INTERNAL        workload.internal
//   the user's quota would be exceeded -> 7 RESOURCE_EXHAUSTED workload.quota_exceeded
// A request that reaches this class has already passed the session codec
// (key, prefix, value and limit bounds), so the store's argument errors can
// only mean a bug and are reported as workload.internal.
//
// Page tokens: the store's token (base64 of the last key returned, see
// docs/storage-format.md) is sent unchanged when it fits the wire limit of
// 256 bytes; the store binds it to the prefix, and it can only position a
// query that is scoped to the caller's own keys. A longer store token (a last
// key over ~190 bytes) is kept in a bounded in-memory table and the wire
// carries a handle instead: 0xff followed by 16 random bytes (never valid
// base64, so the two forms cannot be confused). A handle is valid only for
// the user and prefix it was issued to, for kLongTokenLifetime, and while
// the table still holds it; otherwise the list fails with
// workload.bad_page_token, as the protocol allows for expired tokens.
// The table is bounded per user and in all: a user holds at most
// kMaxLongTokensPerUser handles (a new one drops that user's oldest), and
// when the table holds kMaxLongTokens a new handle first drops expired ones,
// then the oldest handle of the user holding the most. So one user's lists
// never drop another user's handles while the other holds fewer; only very
// many distinct users (each a client key) holding as many handles each can.
// (A stateless sealed token would need no table, but it must carry the last
// key, up to 1 KiB, and the wire allows 256 bytes: not possible.)
//
// Quotas (UserQuota): a put that would take the user's records or the sum of
// their value sizes beyond the quota is refused (workload.quota_exceeded);
// an overwrite counts the difference between the new and the old value, and
// a put that does not grow either total is always allowed (a user over a
// lowered quota can still shrink). Each user's usage is read once from the
// store (RecordStore::Usage, one aggregate query) and then kept in memory
// (at most kMaxCachedUsages users; an entry dropped from the cache, or one
// whose put/delete failed, is read again when needed). Puts and deletes are
// serialized by the service (the store serializes them anyway). The cache
// assumes this process is the store's only writer.
//
// Calls block (SQLite, fsync on put/delete): run them off network threads.
// Thread-safe: RecordStore serializes internally; Metrics is thread-safe.
#ifndef PERIMETER_SERVER_WORKLOAD_SERVICE_H_
#define PERIMETER_SERVER_WORKLOAD_SERVICE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/status.h"
#include "perimeter/server/metrics.h"
#include "perimeter/session/message.h"
#include "perimeter/store/record_store.h"

namespace perimeter::server {

// Stable response reasons (docs/wire-protocol.md 10.2).
inline constexpr std::string_view kReasonNotFound = "workload.not_found";
inline constexpr std::string_view kReasonBadPageToken = "workload.bad_page_token";
inline constexpr std::string_view kReasonDataLoss = "workload.data_loss";
inline constexpr std::string_view kReasonUnavailable = "workload.unavailable";
inline constexpr std::string_view kReasonInternal = "workload.internal";
inline constexpr std::string_view kReasonQuotaExceeded = "workload.quota_exceeded";

inline constexpr std::size_t kMaxLongTokens = 4096;
inline constexpr std::size_t kMaxLongTokensPerUser = 16;
inline constexpr std::chrono::seconds kLongTokenLifetime{600};
inline constexpr std::size_t kMaxCachedUsages = 65536;

// Per-user storage limits; 0 means no limit (both 0: no accounting at all).
struct UserQuota {
  std::uint64_t max_bytes = 256 * 1024 * 1024;  // sum of the user's value sizes
  std::uint64_t max_records = 100'000;           // number of the user's records
};

// "whoami", "put", "get", "delete", "list".
std::string_view OperationName(session::Operation op);

class WorkloadService {
 public:
  // `store` may be null (secrets not released yet): every store operation
  // then answers workload.unavailable; whoami still works. `metrics` may be
  // null. Both must outlive the service.
  WorkloadService(store::RecordStore* store, Metrics* metrics, UserQuota quota = {});
  WorkloadService(const WorkloadService&) = delete;
  WorkloadService& operator=(const WorkloadService&) = delete;

  // Executes `request` for `user_id` (REQUIRES: a valid user_id, as
  // keys::ValidateUserId) and returns the response to send: always one, with
  // the request's id and operation; never fails.
  session::Response Execute(std::string_view user_id, const session::Request& request);

  // Whether a store is configured (the server's readiness includes this).
  bool store_ready() const { return store_ != nullptr; }

  // The response for a failed store call (the mapping above).
  static session::Response ErrorResponse(const session::Request& request, const Status& status);

 private:
  session::Response Run(std::string_view user_id, const session::Request& request);
  session::Response List(std::string_view user_id, const session::Request& request,
                         const session::ListRequest& list);
  // Wire token for a store token (a handle when it is too long).
  Result<Bytes> WireToken(std::string_view user_id, std::string_view prefix, std::string store_token);
  // Store token for a wire token. Errors: kInvalidArgument "store.bad_page_token".
  Result<std::string> StoreToken(std::string_view user_id, std::string_view prefix, ByteView wire_token);
  // Drops one handle (REQUIRES: tokens_mu_ held) / makes room for one of `user_id`.
  void EraseLongToken(const Bytes& handle);
  void MakeRoomForLongToken(const std::string& user_id, std::chrono::steady_clock::time_point now);

  session::Response PutWithQuota(std::string_view user_id, const session::Request& request,
                                 const session::PutRequest& put);
  session::Response DeleteWithQuota(std::string_view user_id, const session::Request& request,
                                    const session::DeleteRequest& del);
  // The user's usage, from the cache or the store (REQUIRES: quota_mu_ held).
  Result<store::UserUsage*> CachedUsage(std::string_view user_id);

  struct LongToken {
    std::string user_id;
    std::string prefix;
    std::string store_token;
    std::chrono::steady_clock::time_point expires;
  };

  store::RecordStore* const store_;
  Metrics* const metrics_;
  const UserQuota quota_;
  std::mutex tokens_mu_;
  std::map<Bytes, LongToken> long_tokens_;                        // GUARDED_BY(tokens_mu_)
  std::map<std::string, std::deque<Bytes>, std::less<>> user_tokens_;  // GUARDED_BY(tokens_mu_): issue order
  std::mutex quota_mu_;  // serializes puts and deletes with their usage accounting
  std::map<std::string, store::UserUsage, std::less<>> usage_;  // GUARDED_BY(quota_mu_)
};

}  // namespace perimeter::server

#endif  // PERIMETER_SERVER_WORKLOAD_SERVICE_H_
