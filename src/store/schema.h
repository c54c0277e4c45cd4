// The record store's SQL: schema migrations and the statements the store
// runs, in one place (docs/storage-format.md describes them). Private to the
// store module; benchmarks/store_bench.cc uses the same text for its
// plaintext baseline so that both sides run identical SQL.
#ifndef PERIMETER_STORE_SCHEMA_H_
#define PERIMETER_STORE_SCHEMA_H_

#include <cstdint>
#include <span>
#include <string_view>

namespace perimeter::store::internal {

// PRAGMA application_id of a record store: "SPRS".
inline constexpr std::int32_t kApplicationId = 0x53505253;

// The record format written today (bound into the AAD).
inline constexpr std::int64_t kFormatVersion = 1;

struct Migration {
  std::int64_t version;
  std::string_view description;
  std::string_view sql;  // one statement
};

// Ordered by version; each runs once, inside the opening transaction.
std::span<const Migration> Migrations();
inline constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations("
    "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT";

// ?1 user_id, ?2 record_key, ?3 format_version, ?4 key_generation, ?5 nonce,
// ?6 ciphertext, ?7 updated_at.
inline constexpr std::string_view kPutSql =
    "INSERT INTO records(user_id, record_key, format_version, key_generation, nonce, ciphertext, "
    "updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT(user_id, record_key) DO UPDATE SET format_version = excluded.format_version, "
    "key_generation = excluded.key_generation, nonce = excluded.nonce, "
    "ciphertext = excluded.ciphertext, updated_at = excluded.updated_at";
// ?1 user_id, ?2 record_key -> format_version, key_generation, nonce, ciphertext.
inline constexpr std::string_view kGetSql =
    "SELECT format_version, key_generation, nonce, ciphertext FROM records "
    "WHERE user_id = ?1 AND record_key = ?2";

}  // namespace perimeter::store::internal

#endif  // PERIMETER_STORE_SCHEMA_H_
