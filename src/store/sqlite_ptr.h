// RAII for SQLite handles (STYLE.md section 4): stateless deleters and
// std::unique_ptr aliases, plus helpers that turn every SQLite return code
// into a Status. Private to the store module.
#ifndef PERIMETER_STORE_SQLITE_PTR_H_
#define PERIMETER_STORE_SQLITE_PTR_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/status.h"

namespace perimeter::store::internal {

struct SqliteDeleter {
  // close_v2 defers the close until every statement is finalized, so member
  // destruction order can never leak the connection.
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteDeleter>;
using SqliteStmt = std::unique_ptr<sqlite3_stmt, SqliteDeleter>;

// Maps a SQLite result code to a Status:
//   SQLITE_CORRUPT, SQLITE_NOTADB -> kDataLoss "store.corrupt"
//   SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN,
//   SQLITE_READONLY, SQLITE_PERM, SQLITE_PROTOCOL, SQLITE_NOLFS
//                                 -> kUnavailable "store.io"
//   anything else                 -> kInternal "store.internal"
// `what` names the operation; the message never contains bound values.
Status SqliteError(sqlite3* db, int rc, std::string_view what);

// Resets a statement and clears its bindings when the scope ends, so a
// cached statement never keeps a read transaction open or points at freed
// buffers.
class ScopedReset {
 public:
  explicit ScopedReset(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~ScopedReset() {
    sqlite3_reset(stmt_);  // returns the last step's error, already handled
    sqlite3_clear_bindings(stmt_);
  }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

Result<SqliteStmt> Prepare(sqlite3* db, std::string_view sql);
// Runs a constant statement (no parameters) to completion, discarding rows.
// Only for SQL text fixed at compile time.
Status ExecConstant(sqlite3* db, std::string_view sql);

// Bind helpers; `index` is 1-based. Blobs are bound SQLITE_STATIC: the
// bytes must stay alive until the statement is reset. An empty view binds a
// zero-length BLOB (never NULL).
Status BindBlob(sqlite3* db, sqlite3_stmt* stmt, int index, ByteView bytes);
Status BindText(sqlite3* db, sqlite3_stmt* stmt, int index, std::string_view text);
Status BindInt64(sqlite3* db, sqlite3_stmt* stmt, int index, std::int64_t value);

// The blob in column `col` of the current row, or nullopt-like failure
// (kDataLoss "store.corrupt") unless the column holds a BLOB. The view is
// valid until the next step/reset.
Result<ByteView> ColumnBlob(sqlite3_stmt* stmt, int col, std::string_view what);
Result<std::int64_t> ColumnInt64(sqlite3_stmt* stmt, int col, std::string_view what);

Status CorruptError(std::string_view message);

}  // namespace perimeter::store::internal

#endif  // PERIMETER_STORE_SQLITE_PTR_H_
