#include "store/sqlite_ptr.h"

#include <string>

namespace perimeter::store::internal {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string message = "store: " + std::string(what) + ": " + sqlite3_errstr(rc);
  if (db != nullptr && sqlite3_extended_errcode(db) == rc) {
    message += " (";
    message += sqlite3_errmsg(db);
    message += ")";
  }
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError("store.corrupt", message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
      return UnavailableError("store.io", message);
    default:
      return InternalError("store.internal", message);
  }
}

Status CorruptError(std::string_view message) {
  return DataLossError("store.corrupt", "store: " + std::string(message));
}

Result<SqliteStmt> Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  SqliteStmt stmt(raw);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "prepare");
  if (!stmt) return InternalError("store.internal", "store: empty statement");
  return stmt;
}

Status ExecConstant(sqlite3* db, std::string_view sql) {
  PERIMETER_ASSIGN_OR_RETURN(SqliteStmt stmt, Prepare(db, sql));
  while (true) {
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) return Status::Ok();
    if (rc != SQLITE_ROW) return SqliteError(db, rc, "execute");
  }
}

Status BindBlob(sqlite3* db, sqlite3_stmt* stmt, int index, ByteView bytes) {
  const int rc = bytes.empty()
                     ? sqlite3_bind_zeroblob(stmt, index, 0)
                     : sqlite3_bind_blob64(stmt, index, bytes.data(), bytes.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "bind");
  return Status::Ok();
}

Status BindText(sqlite3* db, sqlite3_stmt* stmt, int index, std::string_view text) {
  const int rc =
      sqlite3_bind_text64(stmt, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "bind");
  return Status::Ok();
}

Status BindInt64(sqlite3* db, sqlite3_stmt* stmt, int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt, index, value);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "bind");
  return Status::Ok();
}

Result<ByteView> ColumnBlob(sqlite3_stmt* stmt, int col, std::string_view what) {
  if (sqlite3_column_type(stmt, col) != SQLITE_BLOB) {
    return CorruptError(std::string(what) + " is not a blob");
  }
  // Per the SQLite docs: fetch the pointer first, then the size.
  const void* p = sqlite3_column_blob(stmt, col);
  const int n = sqlite3_column_bytes(stmt, col);
  if (n < 0 || (n > 0 && p == nullptr)) return CorruptError(std::string(what) + " unreadable");
  if (n == 0) return ByteView();
  return ByteView(static_cast<const std::uint8_t*>(p), static_cast<std::size_t>(n));
}

Result<std::int64_t> ColumnInt64(sqlite3_stmt* stmt, int col, std::string_view what) {
  if (sqlite3_column_type(stmt, col) != SQLITE_INTEGER) {
    return CorruptError(std::string(what) + " is not an integer");
  }
  return static_cast<std::int64_t>(sqlite3_column_int64(stmt, col));
}

}  // namespace perimeter::store::internal
