#include "store/schema.h"

namespace perimeter::store::internal {

namespace {
// Version 1: the records table (STRICT: SQLite enforces the column types)
// and an index for rotation (GenerationsInUse, ReencryptBatch).
constexpr Migration kMigrations[] = {
    {1, "records table",
     "CREATE TABLE records("
     "user_id TEXT NOT NULL, "
     "record_key BLOB NOT NULL, "
     "format_version INTEGER NOT NULL, "
     "key_generation INTEGER NOT NULL CHECK (key_generation BETWEEN 1 AND 4294967295), "
     "nonce BLOB NOT NULL CHECK (length(nonce) = 12), "
     "ciphertext BLOB NOT NULL CHECK (length(ciphertext) >= 16), "
     "updated_at INTEGER NOT NULL, "
     "PRIMARY KEY (user_id, record_key)) STRICT, WITHOUT ROWID"},
    {2, "records by key generation",
     "CREATE INDEX records_by_generation ON records(key_generation)"},
};
}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

}  // namespace perimeter::store::internal
