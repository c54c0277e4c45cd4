// RecordStore: the encrypted per-user record store on SQLite (DESIGN.md
// sections 2 and 5; the on-disk format is docs/storage-format.md).
//
// Each record is a value of up to 1 MiB under (user_id, record key). Values
// are sealed with AES-256-GCM under user_key_g of the current key generation
// (keys::PodKeys), with a fresh random 96-bit nonce per write and an AAD that
// binds the format version, user_id, record key and key generation: a row
// moved to another user or key, or relabelled with another generation, fails
// to decrypt (kDataLoss "store.corrupt").
//
// What it does NOT protect (see docs/storage-format.md): user_ids, record
// keys, value sizes and timestamps are stored in the clear (the pod's LUKS
// volume covers them at rest), and rolling a row back to an older valid
// version of the same (user, key, generation) is not detected.
//
// Durability: WAL journal with synchronous=FULL by default: once Put or
// Delete returns OK the change survives a process crash (kill -9) and, to the
// extent the OS and disk honour fsync, a power loss.
//
// Thread-safe: all methods serialize on an internal mutex (one SQLite
// connection). Several processes may open one file; SQLite's locking and the
// busy timeout arbitrate. Not copyable or movable.
#ifndef PERIMETER_STORE_RECORD_STORE_H_
#define PERIMETER_STORE_RECORD_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/status.h"
#include "perimeter/keys/master_secret.h"
#include "perimeter/keys/pod_keys.h"

namespace perimeter::store {

inline constexpr std::size_t kMaxValueSize = 1 << 20;  // 1 MiB
inline constexpr std::size_t kMaxKeySize = 1024;       // bytes
inline constexpr std::size_t kMaxListLimit = 1000;
inline constexpr std::size_t kMaxReencryptBatch = 10000;

enum class SyncMode {
  // synchronous=FULL: every commit is fsynced before it is acknowledged.
  kFull,
  // synchronous=NORMAL: acknowledged writes survive a process crash but the
  // last ones may be lost on power loss. For benchmarks and scratch data.
  kNormalNotPowerSafe,
};

struct StoreOptions {
  SyncMode sync_mode = SyncMode::kFull;
  // How long a call waits for another connection's lock before failing with
  // kUnavailable "store.io".
  int busy_timeout_ms = 5000;
};

// One page of List(): keys in ascending byte order, and the token for the
// next page (empty when this is the last page).
struct ListPage {
  std::vector<std::string> keys;
  std::string next_page_token;
};

// A user's share of the store: the number of records and the sum of their
// value sizes (plaintext bytes).
struct UserUsage {
  std::uint64_t records = 0;
  std::uint64_t value_bytes = 0;
};

// Stable error reasons used below (StatusCode in brackets):
//   store.not_found [kNotFound]            no such record
//   store.corrupt [kDataLoss]              a row fails authentication or is
//                                          malformed, or the file is damaged
//   store.key_unavailable [kFailedPrecondition]  the row's key generation is
//                                          not loaded in PodKeys
//   store.io [kUnavailable]                SQLite I/O, disk full, busy/locked
//   store.internal [kInternal]             unexpected SQLite or crypto failure
//   store.value_too_large, store.bad_key, store.key_too_large,
//   store.bad_prefix, store.bad_limit, store.bad_page_token,
//   keys.bad_user_id [kInvalidArgument]
//   store.generation_in_use [kFailedPrecondition]
//   store.not_a_store, store.schema_too_new [kFailedPrecondition]
//
// user_id: as keys::ValidateUserId (64 lowercase hex digits). Record keys
// and prefixes are arbitrary bytes (binary-safe, compared bytewise);
// keys are 1..1024 bytes, prefixes 0..1024 bytes.
class RecordStore {
 public:
  // Opens the store at `path`, creating it (mode 0600) if it does not exist,
  // and applies pending schema migrations. An existing file that is not a
  // record store fails with "store.not_a_store"; an existing file with no
  // schema at all (e.g. truncated to zero bytes) with "store.corrupt".
  // `keys` must be non-null and outlive the store.
  // Errors: as listed above; kInvalidArgument "store.bad_argument".
  static Result<std::unique_ptr<RecordStore>> Open(const std::string& path, keys::PodKeys* keys,
                                                   const StoreOptions& options = {});
  ~RecordStore();
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  // Creates or replaces the record, encrypted under the current generation.
  // Errors: kInvalidArgument (ids, key, "store.value_too_large" above
  // kMaxValueSize); store.io; store.internal.
  Status Put(std::string_view user_id, std::string_view key, ByteView value);

  // Errors: store.not_found; store.corrupt; store.key_unavailable; store.io.
  Result<Bytes> Get(std::string_view user_id, std::string_view key);

  // Errors: store.not_found if there was no such record; store.io.
  Status Delete(std::string_view user_id, std::string_view key);

  // Up to `limit` (1..kMaxListLimit) keys of `user_id` that start with
  // `prefix`, in ascending byte order, after the position `page_token`
  // designates ("" = from the start). Tokens are opaque; a token is only
  // valid with the prefix it was issued for. Pagination is keyset-based:
  // records added or removed between pages never make a page skip or repeat
  // a key that existed throughout.
  // Errors: store.bad_limit, store.bad_prefix, store.bad_page_token; store.io;
  // store.corrupt (a row whose key is not a blob).
  Result<ListPage> List(std::string_view user_id, std::string_view prefix,
                        std::string_view page_token, std::size_t limit);

  // Number of records of `user_id`.
  Result<std::uint64_t> Count(std::string_view user_id);

  // Read-only accounting for quotas, from the stored ciphertext lengths
  // (nothing is decrypted):
  // the records of `user_id` and the sum of their value sizes, in one
  // aggregate query. Errors: keys.bad_user_id; store.io; store.corrupt.
  Result<UserUsage> Usage(std::string_view user_id);
  // The value size of one record. Errors: keys.bad_user_id, store.bad_key,
  // store.key_too_large; store.not_found; store.io; store.corrupt.
  Result<std::uint64_t> ValueSize(std::string_view user_id, std::string_view key);

  // Rotation: re-encrypts up to `limit` (1..kMaxReencryptBatch) records that
  // are not under the current generation, under the current one, in one
  // transaction, and returns how many it rewrote (0 = none left). Reads and
  // writes keep working between batches: every row names its generation.
  // Errors: store.bad_limit; store.corrupt (a row fails authentication: the
  // batch is rolled back; Delete or restore that record to continue);
  // store.key_unavailable; store.io.
  Result<std::size_t> ReencryptBatch(std::size_t limit);

  // The key generations that at least one record uses, ascending.
  // Errors: store.corrupt (a generation outside 1..2^32-1); store.io.
  Result<std::vector<keys::Generation>> GenerationsInUse();

  // Retires generation `g` from the PodKeys, only if no record uses it.
  // Errors: kFailedPrecondition "store.generation_in_use";
  // keys.unknown_generation; keys.retire_current; store.io.
  Status RetireGeneration(keys::Generation g);

 private:
  struct Impl;
  explicit RecordStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace perimeter::store

#endif  // PERIMETER_STORE_RECORD_STORE_H_
