#include "perimeter/store/record_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <utility>

#include "perimeter/base/unique_fd.h"
#include "perimeter/crypto/aead.h"
#include "perimeter/crypto/random.h"
#include "perimeter/keys/identifiers.h"
#include "store/record_codec.h"
#include "store/schema.h"
#include "store/sqlite_ptr.h"

namespace perimeter::store {

using internal::BindBlob;
using internal::BindInt64;
using internal::BindText;
using internal::ColumnBlob;
using internal::ColumnInt64;
using internal::CorruptError;
using internal::Prepare;
using internal::ScopedReset;
using internal::SqliteDb;
using internal::SqliteError;
using internal::SqliteStmt;

namespace {

// Cached AEAD objects (one per user and generation) avoid an HKDF derivation
// and a cipher-context setup on every call; bounded (a few KiB each: two
// AES-GCM contexts), and dropped whenever the PodKeys change. When full, one
// entry is evicted per miss rather than the whole cache, so a server with
// more active users than entries does not re-derive every key at once.
constexpr std::size_t kMaxCachedKeys = 1024;

// The cache's key, ordered by generation then user_id. The comparator is
// transparent so that a lookup (AeadCacheRef) allocates nothing: the hot path
// of every Get and Put.
struct AeadCacheKey {
  keys::Generation generation;
  std::string user_id;
};
struct AeadCacheRef {
  keys::Generation generation;
  std::string_view user_id;
};
struct AeadCacheLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    if (a.generation != b.generation) return a.generation < b.generation;
    return std::string_view(a.user_id) < std::string_view(b.user_id);
  }
};

std::int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status ValidateKey(std::string_view key) {
  if (key.empty()) return InvalidArgumentError("store.bad_key", "store: empty record key");
  if (key.size() > kMaxKeySize) {
    return InvalidArgumentError("store.key_too_large", "store: record key longer than 1024 bytes");
  }
  return Status::Ok();
}

bool ValidGeneration(std::int64_t g) {
  return g >= 1 && g <= static_cast<std::int64_t>(std::numeric_limits<keys::Generation>::max());
}

constexpr std::string_view kListSql[4] = {
    // [exclusive lower bound][has upper bound]
    "SELECT record_key FROM records WHERE user_id = ?1 AND record_key >= ?2 "
    "ORDER BY record_key LIMIT ?3",
    "SELECT record_key FROM records WHERE user_id = ?1 AND record_key >= ?2 AND record_key < ?4 "
    "ORDER BY record_key LIMIT ?3",
    "SELECT record_key FROM records WHERE user_id = ?1 AND record_key > ?2 "
    "ORDER BY record_key LIMIT ?3",
    "SELECT record_key FROM records WHERE user_id = ?1 AND record_key > ?2 AND record_key < ?4 "
    "ORDER BY record_key LIMIT ?3",
};

std::uint32_t LoadBe32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// SQLite reads a truncated file as if the missing bytes were zero and only
// notices when a query reaches a damaged page. Catch truncation of a cleanly
// closed store up front: the header records the page size and (when its
// "version-valid-for" matches the change counter) the page count, so the
// file must be at least page_count * page_size bytes. Skipped while a
// non-empty WAL exists (its frames may hold pages the main file lacks yet).
// Header layout: https://www.sqlite.org/fileformat2.html#the_database_header
Status CheckNotTruncated(const std::string& path) {
  struct stat wal {};
  if (::stat((path + "-wal").c_str(), &wal) == 0 && wal.st_size > 0) return Status::Ok();
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    return UnavailableError("store.io", "store: cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return UnavailableError("store.io", "store: cannot stat " + path);
  if (st.st_size == 0) return Status::Ok();  // no schema: Migrate reports it
  std::uint8_t header[100];
  if (st.st_size < static_cast<off_t>(sizeof header) ||
      ::pread(fd.get(), header, sizeof header, 0) != static_cast<ssize_t>(sizeof header)) {
    return CorruptError("database file shorter than its header (truncated?)");
  }
  if (std::memcmp(header, "SQLite format 3", 16) != 0) {
    return CorruptError("not an SQLite database file");
  }
  std::uint32_t page_size = (std::uint32_t{header[16]} << 8) | header[17];
  if (page_size == 1) page_size = 65536;
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0) {
    return CorruptError("invalid page size in the database header");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size % page_size != 0) {
    return CorruptError("database file is not a whole number of pages (truncated?)");
  }
  const std::uint32_t pages = LoadBe32(header + 28);
  const bool pages_valid = pages != 0 && LoadBe32(header + 24) == LoadBe32(header + 92);
  if (pages_valid && size < std::uint64_t{pages} * page_size) {
    return CorruptError("database file is shorter than its page count (truncated?)");
  }
  return Status::Ok();
}

}  // namespace

struct RecordStore::Impl {
  keys::PodKeys* keys = nullptr;
  std::mutex mu;
  // Declared before the statements: destroyed after them.
  SqliteDb db;
  SqliteStmt put, get, del, count, begin, commit, rollback;
  SqliteStmt list[4];
  SqliteStmt min_generation, generation_used, rows_of_generation, reencrypt_update;
  SqliteStmt usage, value_size;

  std::map<AeadCacheKey, crypto::Aead, AeadCacheLess> aead_cache;
  std::uint64_t cache_epoch = 0;
  Bytes aad;  // scratch

  Status Exec(sqlite3_stmt* stmt, std::string_view what) {
    ScopedReset reset(stmt);
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, what);
    return Status::Ok();
  }

  // A write transaction, rolled back unless committed.
  class Txn {
   public:
    explicit Txn(Impl* impl) : impl_(impl) {}
    ~Txn() {
      if (open_) (void)impl_->Exec(impl_->rollback.get(), "rollback");
    }
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;
    Status Begin() {
      PERIMETER_RETURN_IF_ERROR(impl_->Exec(impl_->begin.get(), "begin"));
      open_ = true;
      return Status::Ok();
    }
    Status Commit() {
      PERIMETER_RETURN_IF_ERROR(impl_->Exec(impl_->commit.get(), "commit"));
      open_ = false;
      return Status::Ok();
    }

   private:
    Impl* impl_;
    bool open_ = false;
  };

  Result<crypto::Aead*> AeadFor(std::string_view user_id, keys::Generation g) {
    const std::uint64_t epoch = keys->epoch();
    if (epoch != cache_epoch) {
      aead_cache.clear();
      cache_epoch = epoch;
    }
    const AeadCacheRef ref{g, user_id};
    auto it = aead_cache.lower_bound(ref);
    if (it != aead_cache.end() && !AeadCacheLess()(ref, it->first)) return &it->second;
    auto key = keys->UserKey(user_id, g);
    if (!key.has_value()) {
      if (key.error().IsNotFound()) {
        return FailedPreconditionError(
            "store.key_unavailable",
            "store: record uses key generation " + std::to_string(g) + ", which is not loaded");
      }
      return key.error();
    }
    PERIMETER_ASSIGN_OR_RETURN(crypto::Aead aead, key->NewAead(crypto::AeadAlg::kAes256Gcm));
    if (aead_cache.size() >= kMaxCachedKeys) {
      // Evict the entry that follows the missing one: an arbitrary entry
      // (user ids are hashes), found without another search.
      if (it == aead_cache.end()) it = aead_cache.begin();
      it = aead_cache.erase(it);
    }
    auto pos = aead_cache.emplace_hint(it, AeadCacheKey{g, std::string(user_id)}, std::move(aead));
    return &pos->second;
  }

  // Seals `value` for (user_id, key) under generation `g`; fills nonce and
  // ciphertext.
  Status Seal(std::string_view user_id, std::string_view key, keys::Generation g, ByteView value,
              std::uint8_t (&nonce)[crypto::kAeadNonceSize], Bytes& ciphertext) {
    PERIMETER_ASSIGN_OR_RETURN(crypto::Aead * aead, AeadFor(user_id, g));
    PERIMETER_RETURN_IF_ERROR(crypto::RandomFill(MutableByteView(nonce)));
    internal::EncodeRecordAad(static_cast<std::uint32_t>(internal::kFormatVersion), user_id, key, g,
                              aad);
    ciphertext.resize(value.size() + crypto::kAeadTagSize);
    Status s = aead->Seal(ByteView(nonce), aad, value, ciphertext);
    if (!s.ok()) return InternalError("store.internal", "store: encryption failed");
    return Status::Ok();
  }

  // Checks and decrypts the current row of a statement whose columns
  // first..first+3 are format_version, key_generation, nonce, ciphertext.
  Result<Bytes> OpenRow(sqlite3_stmt* stmt, int first, std::string_view user_id,
                        std::string_view key, keys::Generation* generation_out) {
    PERIMETER_ASSIGN_OR_RETURN(std::int64_t version, ColumnInt64(stmt, first, "format_version"));
    PERIMETER_ASSIGN_OR_RETURN(std::int64_t gen, ColumnInt64(stmt, first + 1, "key_generation"));
    PERIMETER_ASSIGN_OR_RETURN(ByteView nonce, ColumnBlob(stmt, first + 2, "nonce"));
    PERIMETER_ASSIGN_OR_RETURN(ByteView ciphertext, ColumnBlob(stmt, first + 3, "ciphertext"));
    if (version != internal::kFormatVersion) {
      return CorruptError("unknown record format version " + std::to_string(version));
    }
    if (!ValidGeneration(gen)) return CorruptError("key generation out of range");
    if (nonce.size() != crypto::kAeadNonceSize) return CorruptError("nonce is not 12 bytes");
    if (ciphertext.size() < crypto::kAeadTagSize ||
        ciphertext.size() > kMaxValueSize + crypto::kAeadTagSize) {
      return CorruptError("ciphertext length out of range");
    }
    const auto g = static_cast<keys::Generation>(gen);
    PERIMETER_ASSIGN_OR_RETURN(crypto::Aead * aead, AeadFor(user_id, g));
    internal::EncodeRecordAad(static_cast<std::uint32_t>(version), user_id, key, g, aad);
    Bytes plaintext(ciphertext.size() - crypto::kAeadTagSize);
    Status s = aead->Open(nonce, aad, ciphertext, plaintext);
    if (!s.ok()) {
      if (s.IsUnauthenticated()) return CorruptError("record failed authentication");
      return InternalError("store.internal", "store: decryption failed");
    }
    if (generation_out != nullptr) *generation_out = g;
    return plaintext;
  }

  Status Configure(const StoreOptions& options) {
    sqlite3* h = db.get();
    int rc = sqlite3_extended_result_codes(h, 1);
    if (rc != SQLITE_OK) return SqliteError(h, rc, "configure");
    // Defensive mode: no writable_schema tricks or direct page writes over
    // this connection; schema text is not trusted to call functions.
    int ignored = 0;
    rc = sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, 1, &ignored);
    if (rc != SQLITE_OK) return SqliteError(h, rc, "configure defensive");
    rc = sqlite3_db_config(h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &ignored);
    if (rc != SQLITE_OK) return SqliteError(h, rc, "configure trusted_schema");
    rc = sqlite3_busy_timeout(h, options.busy_timeout_ms);
    if (rc != SQLITE_OK) return SqliteError(h, rc, "configure busy timeout");

    // journal_mode answers with the mode now in effect.
    PERIMETER_ASSIGN_OR_RETURN(SqliteStmt wal, Prepare(h, "PRAGMA journal_mode=WAL"));
    rc = sqlite3_step(wal.get());
    if (rc != SQLITE_ROW) return SqliteError(h, rc, "enable WAL");
    const unsigned char* mode = sqlite3_column_text(wal.get(), 0);
    if (mode == nullptr || std::strcmp(reinterpret_cast<const char*>(mode), "wal") != 0) {
      return UnavailableError("store.io", "store: the database refused WAL mode");
    }
    wal.reset();
    PERIMETER_RETURN_IF_ERROR(internal::ExecConstant(
        h, options.sync_mode == SyncMode::kFull ? "PRAGMA synchronous=FULL"
                                                : "PRAGMA synchronous=NORMAL"));
    return Status::Ok();
  }

  Status Migrate(bool created) {
    sqlite3* h = db.get();
    PERIMETER_ASSIGN_OR_RETURN(begin, Prepare(h, "BEGIN IMMEDIATE"));
    PERIMETER_ASSIGN_OR_RETURN(commit, Prepare(h, "COMMIT"));
    PERIMETER_ASSIGN_OR_RETURN(rollback, Prepare(h, "ROLLBACK"));
    Txn txn(this);
    PERIMETER_RETURN_IF_ERROR(txn.Begin());

    PERIMETER_ASSIGN_OR_RETURN(SqliteStmt app, Prepare(h, "PRAGMA application_id"));
    int rc = sqlite3_step(app.get());
    if (rc != SQLITE_ROW) return SqliteError(h, rc, "read application_id");
    const std::int64_t app_id = sqlite3_column_int64(app.get(), 0);
    app.reset();
    PERIMETER_ASSIGN_OR_RETURN(SqliteStmt tables, Prepare(h, "SELECT count(*) FROM sqlite_schema"));
    rc = sqlite3_step(tables.get());
    if (rc != SQLITE_ROW) return SqliteError(h, rc, "read schema");
    const std::int64_t objects = sqlite3_column_int64(tables.get(), 0);
    tables.reset();

    if (app_id == 0 && objects == 0) {
      if (!created) {
        // Fail closed: a store file that lost its schema (e.g. truncated to
        // zero bytes) must not silently become a new, empty store.
        return CorruptError("existing database file has no schema (truncated or not a store)");
      }
      PERIMETER_RETURN_IF_ERROR(internal::ExecConstant(
          h, "PRAGMA application_id=" + std::to_string(internal::kApplicationId)));
    } else if (app_id != internal::kApplicationId) {
      return FailedPreconditionError("store.not_a_store",
                                     "store: the file is not a Secure Perimeter record store");
    }
    PERIMETER_RETURN_IF_ERROR(internal::ExecConstant(h, internal::kCreateMigrationsTable));
    PERIMETER_ASSIGN_OR_RETURN(
        SqliteStmt max_version,
        Prepare(h, "SELECT coalesce(max(version), 0) FROM schema_migrations"));
    rc = sqlite3_step(max_version.get());
    if (rc != SQLITE_ROW) return SqliteError(h, rc, "read schema version");
    const std::int64_t have = sqlite3_column_int64(max_version.get(), 0);
    max_version.reset();
    const auto migrations = internal::Migrations();
    if (have > migrations.back().version) {
      return FailedPreconditionError("store.schema_too_new",
                                     "store: schema version " + std::to_string(have) +
                                         " is newer than this build supports");
    }
    PERIMETER_ASSIGN_OR_RETURN(
        SqliteStmt record,
        Prepare(h, "INSERT INTO schema_migrations(version, description, applied_at) "
                   "VALUES(?1, ?2, ?3)"));
    for (const internal::Migration& m : migrations) {
      if (m.version <= have) continue;
      PERIMETER_RETURN_IF_ERROR(internal::ExecConstant(h, m.sql));
      PERIMETER_RETURN_IF_ERROR(BindInt64(h, record.get(), 1, m.version));
      PERIMETER_RETURN_IF_ERROR(BindText(h, record.get(), 2, m.description));
      PERIMETER_RETURN_IF_ERROR(BindInt64(h, record.get(), 3, NowMillis()));
      PERIMETER_RETURN_IF_ERROR(Exec(record.get(), "record migration"));
    }
    return txn.Commit();
  }

  Status PrepareAll() {
    sqlite3* h = db.get();
    PERIMETER_ASSIGN_OR_RETURN(put, Prepare(h, internal::kPutSql));
    PERIMETER_ASSIGN_OR_RETURN(get, Prepare(h, internal::kGetSql));
    PERIMETER_ASSIGN_OR_RETURN(
        del, Prepare(h, "DELETE FROM records WHERE user_id = ?1 AND record_key = ?2"));
    PERIMETER_ASSIGN_OR_RETURN(count,
                               Prepare(h, "SELECT count(*) FROM records WHERE user_id = ?1"));
    for (int i = 0; i < 4; ++i) {
      PERIMETER_ASSIGN_OR_RETURN(list[i], Prepare(h, kListSql[i]));
    }
    // length() of a BLOB reads the row header only, not the value.
    PERIMETER_ASSIGN_OR_RETURN(
        usage, Prepare(h, "SELECT count(*), coalesce(sum(length(ciphertext)), 0) FROM records "
                          "WHERE user_id = ?1"));
    PERIMETER_ASSIGN_OR_RETURN(
        value_size, Prepare(h, "SELECT length(ciphertext) FROM records "
                               "WHERE user_id = ?1 AND record_key = ?2"));
    // Index-only probes: one per generation in use, O(log n) each.
    PERIMETER_ASSIGN_OR_RETURN(
        min_generation, Prepare(h, "SELECT min(key_generation) FROM records WHERE key_generation >= ?1"));
    PERIMETER_ASSIGN_OR_RETURN(
        generation_used,
        Prepare(h, "SELECT EXISTS(SELECT 1 FROM records WHERE key_generation = ?1)"));
    PERIMETER_ASSIGN_OR_RETURN(
        rows_of_generation,
        Prepare(h, "SELECT user_id, record_key FROM records WHERE key_generation = ?1 "
                   "ORDER BY user_id, record_key LIMIT ?2"));
    PERIMETER_ASSIGN_OR_RETURN(
        reencrypt_update,
        Prepare(h, "UPDATE records SET format_version = ?1, key_generation = ?2, nonce = ?3, "
                   "ciphertext = ?4, updated_at = ?5 WHERE user_id = ?6 AND record_key = ?7 "
                   "AND key_generation = ?8"));
    return Status::Ok();
  }

  Result<std::vector<keys::Generation>> GenerationsInUse() {
    std::vector<keys::Generation> out;
    std::int64_t next = std::numeric_limits<std::int64_t>::min();
    while (true) {
      sqlite3_stmt* s = min_generation.get();
      ScopedReset reset(s);
      PERIMETER_RETURN_IF_ERROR(BindInt64(db.get(), s, 1, next));
      const int rc = sqlite3_step(s);
      if (rc != SQLITE_ROW) return SqliteError(db.get(), rc, "list generations");
      if (sqlite3_column_type(s, 0) == SQLITE_NULL) break;
      PERIMETER_ASSIGN_OR_RETURN(std::int64_t g, ColumnInt64(s, 0, "key_generation"));
      if (!ValidGeneration(g)) return CorruptError("key generation out of range");
      out.push_back(static_cast<keys::Generation>(g));
      next = g + 1;
    }
    return out;
  }
};

RecordStore::RecordStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RecordStore::~RecordStore() = default;

Result<std::unique_ptr<RecordStore>> RecordStore::Open(const std::string& path,
                                                        keys::PodKeys* keys,
                                                        const StoreOptions& options) {
  if (keys == nullptr || path.empty() || options.busy_timeout_ms < 0) {
    return InvalidArgumentError("store.bad_argument", "store: Open needs a path and PodKeys");
  }
  // Create the file ourselves, owner-only; SQLite gives its -wal and -shm
  // files the same mode.
  bool created = false;
  {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.valid()) {
      created = true;
    } else if (errno != EEXIST) {
      return UnavailableError("store.io", "store: cannot create " + path + ": " +
                                              std::strerror(errno));
    }
  }
  if (!created) PERIMETER_RETURN_IF_ERROR(CheckNotTruncated(path));
  auto impl = std::make_unique<Impl>();
  impl->keys = keys;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
      nullptr);
  impl->db.reset(raw);
  if (rc != SQLITE_OK) return SqliteError(raw, rc, "open " + path);
  PERIMETER_RETURN_IF_ERROR(impl->Configure(options));
  PERIMETER_RETURN_IF_ERROR(impl->Migrate(created));
  PERIMETER_RETURN_IF_ERROR(impl->PrepareAll());
  return std::unique_ptr<RecordStore>(new RecordStore(std::move(impl)));
}

Status RecordStore::Put(std::string_view user_id, std::string_view key, ByteView value) {
  PERIMETER_RETURN_IF_ERROR(keys::ValidateUserId(user_id));
  PERIMETER_RETURN_IF_ERROR(ValidateKey(key));
  if (value.size() > kMaxValueSize) {
    return InvalidArgumentError("store.value_too_large", "store: value larger than 1 MiB");
  }
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  const keys::Generation g = m.keys->current_generation();
  std::uint8_t nonce[crypto::kAeadNonceSize];
  Bytes ciphertext;
  PERIMETER_RETURN_IF_ERROR(m.Seal(user_id, key, g, value, nonce, ciphertext));
  sqlite3* h = m.db.get();
  sqlite3_stmt* s = m.put.get();
  ScopedReset reset(s);
  PERIMETER_RETURN_IF_ERROR(BindText(h, s, 1, user_id));
  PERIMETER_RETURN_IF_ERROR(BindBlob(h, s, 2, AsBytes(key)));
  PERIMETER_RETURN_IF_ERROR(BindInt64(h, s, 3, internal::kFormatVersion));
  PERIMETER_RETURN_IF_ERROR(BindInt64(h, s, 4, g));
  PERIMETER_RETURN_IF_ERROR(BindBlob(h, s, 5, ByteView(nonce)));
  PERIMETER_RETURN_IF_ERROR(BindBlob(h, s, 6, ciphertext));
  PERIMETER_RETURN_IF_ERROR(BindInt64(h, s, 7, NowMillis()));
  const int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) return SqliteError(h, rc, "put");
  return Status::Ok();
}

Result<Bytes> RecordStore::Get(std::string_view user_id, std::string_view key) {
  PERIMETER_RETURN_IF_ERROR(keys::ValidateUserId(user_id));
  PERIMETER_RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  sqlite3* h = m.db.get();
  sqlite3_stmt* s = m.get.get();
  ScopedReset reset(s);
  PERIMETER_RETURN_IF_ERROR(BindText(h, s, 1, user_id));
  PERIMETER_RETURN_IF_ERROR(BindBlob(h, s, 2, AsBytes(key)));
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return NotFoundError("store.not_found", "store: no such record");
  if (rc != SQLITE_ROW) return SqliteError(h, rc, "get");
  return m.OpenRow(s, 0, user_id, key, nullptr);
}

Status RecordStore::Delete(std::string_view user_id, std::string_view key) {
  PERIMETER_RETURN_IF_ERROR(keys::ValidateUserId(user_id));
  PERIMETER_RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  sqlite3* h = m.db.get();
  sqlite3_stmt* s = m.del.get();
  ScopedReset reset(s);
  PERIMETER_RETURN_IF_ERROR(BindText(h, s, 1, user_id));
  PERIMETER_RETURN_IF_ERROR(BindBlob(h, s, 2, AsBytes(key)));
  const int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) return SqliteError(h, rc, "delete");
  if (sqlite3_changes64(h) == 0) return NotFoundError("store.not_found", "store: no such record");
  return Status::Ok();
}

Result<ListPage> RecordStore::List(std::string_view user_id, std::string_view prefix,
                                   std::string_view page_token, std::size_t limit) {
  PERIMETER_RETURN_IF_ERROR(keys::ValidateUserId(user_id));
  if (limit == 0 || limit > kMaxListLimit) {
    return InvalidArgumentError("store.bad_limit", "store: limit must be 1..1000");
  }
  if (prefix.size() > kMaxKeySize) {
    return InvalidArgumentError("store.bad_prefix", "store: prefix longer than 1024 bytes");
  }
  std::string after;
  const bool has_token = !page_token.empty();
  if (has_token) {
    PERIMETER_ASSIGN_OR_RETURN(after, internal::DecodePageToken(page_token));
    if (!after.starts_with(prefix)) {
      return InvalidArgumentError("store.bad_page_token",
                                  "store: page token does not belong to this prefix");
    }
  }
  const std::string upper = internal::PrefixUpperBound(prefix);
  const bool has_upper = !upper.empty();

  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  sqlite3* h = m.db.get();
  sqlite3_stmt* s = m.list[(has_token ? 2 : 0) + (has_upper ? 1 : 0)].get();
  ScopedReset reset(s);
  PERIMETER_RETURN_IF_ERROR(BindText(h, s, 1, user_id));
  PERIMETER_RETURN_IF_ERROR(BindBlob(h, s, 2, AsBytes(has_token ? std::string_view(after) : prefix)));
  PERIMETER_RETURN_IF_ERROR(BindInt64(h, s, 3, static_cast<std::int64_t>(limit) + 1));
  if (has_upper) PERIMETER_RETURN_IF_ERROR(BindBlob(h, s, 4, AsBytes(upper)));
  ListPage page;
  while (true) {
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return SqliteError(h, rc, "list");
    PERIMETER_ASSIGN_OR_RETURN(ByteView k, ColumnBlob(s, 0, "record_key"));
    if (page.keys.size() == limit) {
      page.next_page_token = internal::EncodePageToken(page.keys.back());
      break;
    }
    page.keys.emplace_back(reinterpret_cast<const char*>(k.data()), k.size());
  }
  return page;
}

Result<std::uint64_t> RecordStore::Count(std::string_view user_id) {
  PERIMETER_RETURN_IF_ERROR(keys::ValidateUserId(user_id));
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  sqlite3_stmt* s = m.count.get();
  ScopedReset reset(s);
  PERIMETER_RETURN_IF_ERROR(BindText(m.db.get(), s, 1, user_id));
  const int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) return SqliteError(m.db.get(), rc, "count");
  const std::int64_t n = sqlite3_column_int64(s, 0);
  if (n < 0) return CorruptError("negative count");
  return static_cast<std::uint64_t>(n);
}

Result<UserUsage> RecordStore::Usage(std::string_view user_id) {
  PERIMETER_RETURN_IF_ERROR(keys::ValidateUserId(user_id));
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  sqlite3_stmt* s = m.usage.get();
  ScopedReset reset(s);
  PERIMETER_RETURN_IF_ERROR(BindText(m.db.get(), s, 1, user_id));
  const int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) return SqliteError(m.db.get(), rc, "usage");
  const std::int64_t n = sqlite3_column_int64(s, 0);
  const std::int64_t bytes = sqlite3_column_int64(s, 1);
  // Every ciphertext is the value plus the tag (the table's CHECK).
  const std::int64_t tags = n * static_cast<std::int64_t>(crypto::kAeadTagSize);
  if (n < 0 || bytes < tags) return CorruptError("usage out of range");
  return UserUsage{static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(bytes - tags)};
}

Result<std::uint64_t> RecordStore::ValueSize(std::string_view user_id, std::string_view key) {
  PERIMETER_RETURN_IF_ERROR(keys::ValidateUserId(user_id));
  PERIMETER_RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  sqlite3_stmt* s = m.value_size.get();
  ScopedReset reset(s);
  PERIMETER_RETURN_IF_ERROR(BindText(m.db.get(), s, 1, user_id));
  PERIMETER_RETURN_IF_ERROR(BindBlob(m.db.get(), s, 2, AsBytes(key)));
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return NotFoundError("store.not_found", "store: no such record");
  if (rc != SQLITE_ROW) return SqliteError(m.db.get(), rc, "value size");
  const std::int64_t length = sqlite3_column_int64(s, 0);
  if (length < static_cast<std::int64_t>(crypto::kAeadTagSize)) {
    return CorruptError("ciphertext length out of range");
  }
  return static_cast<std::uint64_t>(length) - crypto::kAeadTagSize;
}

Result<std::vector<keys::Generation>> RecordStore::GenerationsInUse() {
  std::lock_guard lock(impl_->mu);
  return impl_->GenerationsInUse();
}

Result<std::size_t> RecordStore::ReencryptBatch(std::size_t limit) {
  if (limit == 0 || limit > kMaxReencryptBatch) {
    return InvalidArgumentError("store.bad_limit", "store: batch limit must be 1..10000");
  }
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  sqlite3* h = m.db.get();
  const keys::Generation current = m.keys->current_generation();
  Impl::Txn txn(&m);
  PERIMETER_RETURN_IF_ERROR(txn.Begin());
  PERIMETER_ASSIGN_OR_RETURN(std::vector<keys::Generation> in_use, m.GenerationsInUse());

  // Collect the primary keys first (small), then rewrite row by row: the
  // table is not modified while a statement is scanning it.
  std::vector<std::pair<std::string, std::string>> rows;
  for (keys::Generation g : in_use) {
    if (g == current || rows.size() >= limit) continue;
    sqlite3_stmt* s = m.rows_of_generation.get();
    ScopedReset reset(s);
    PERIMETER_RETURN_IF_ERROR(BindInt64(h, s, 1, g));
    PERIMETER_RETURN_IF_ERROR(BindInt64(h, s, 2, static_cast<std::int64_t>(limit - rows.size())));
    while (true) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(h, rc, "reencrypt scan");
      if (sqlite3_column_type(s, 0) != SQLITE_TEXT) return CorruptError("user_id is not text");
      const unsigned char* u = sqlite3_column_text(s, 0);
      const int un = sqlite3_column_bytes(s, 0);
      PERIMETER_ASSIGN_OR_RETURN(ByteView k, ColumnBlob(s, 1, "record_key"));
      if (u == nullptr || un < 0) return CorruptError("user_id unreadable");
      rows.emplace_back(std::string(reinterpret_cast<const char*>(u), static_cast<std::size_t>(un)),
                        std::string(reinterpret_cast<const char*>(k.data()), k.size()));
    }
  }

  std::size_t rewritten = 0;
  for (const auto& [user_id, key] : rows) {
    if (!keys::ValidateUserId(user_id).ok()) return CorruptError("malformed user_id in a row");
    Bytes plaintext;
    keys::Generation old_gen = 0;
    {
      sqlite3_stmt* s = m.get.get();
      ScopedReset reset(s);
      PERIMETER_RETURN_IF_ERROR(BindText(h, s, 1, user_id));
      PERIMETER_RETURN_IF_ERROR(BindBlob(h, s, 2, AsBytes(key)));
      const int rc = sqlite3_step(s);
      if (rc != SQLITE_ROW) return SqliteError(h, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc, "reencrypt read");
      auto opened = m.OpenRow(s, 0, user_id, key, &old_gen);
      if (!opened.has_value()) {
        Status e = opened.error();
        return Status(e.code(), e.reason(),
                      std::string(e.message()) + " (re-encryption stopped at a record of user " +
                          user_id + ", key of " + std::to_string(key.size()) + " bytes)");
      }
      plaintext = std::move(opened).value();
    }
    std::uint8_t nonce[crypto::kAeadNonceSize];
    Bytes ciphertext;
    PERIMETER_RETURN_IF_ERROR(m.Seal(user_id, key, current, plaintext, nonce, ciphertext));
    SecureWipe(plaintext.data(), plaintext.size());
    sqlite3_stmt* s = m.reencrypt_update.get();
    ScopedReset reset(s);
    PERIMETER_RETURN_IF_ERROR(BindInt64(h, s, 1, internal::kFormatVersion));
    PERIMETER_RETURN_IF_ERROR(BindInt64(h, s, 2, current));
    PERIMETER_RETURN_IF_ERROR(BindBlob(h, s, 3, ByteView(nonce)));
    PERIMETER_RETURN_IF_ERROR(BindBlob(h, s, 4, ciphertext));
    PERIMETER_RETURN_IF_ERROR(BindInt64(h, s, 5, NowMillis()));
    PERIMETER_RETURN_IF_ERROR(BindText(h, s, 6, user_id));
    PERIMETER_RETURN_IF_ERROR(BindBlob(h, s, 7, AsBytes(key)));
    PERIMETER_RETURN_IF_ERROR(BindInt64(h, s, 8, old_gen));
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return SqliteError(h, rc, "reencrypt write");
    if (sqlite3_changes64(h) != 1) {
      return InternalError("store.internal", "store: re-encrypted row vanished");
    }
    ++rewritten;
  }
  PERIMETER_RETURN_IF_ERROR(txn.Commit());
  return rewritten;
}

Status RecordStore::RetireGeneration(keys::Generation g) {
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  sqlite3* h = m.db.get();
  // The write lock keeps other connections from adding rows under g between
  // the check and the retirement.
  Impl::Txn txn(&m);
  PERIMETER_RETURN_IF_ERROR(txn.Begin());
  {
    sqlite3_stmt* s = m.generation_used.get();
    ScopedReset reset(s);
    PERIMETER_RETURN_IF_ERROR(BindInt64(h, s, 1, g));
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) return SqliteError(h, rc, "check generation");
    if (sqlite3_column_int64(s, 0) != 0) {
      return FailedPreconditionError(
          "store.generation_in_use",
          "store: generation " + std::to_string(g) + " still encrypts records; re-encrypt first");
    }
  }
  PERIMETER_RETURN_IF_ERROR(m.keys->Retire(g));
  return txn.Commit();
}

}  // namespace perimeter::store
