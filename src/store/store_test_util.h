// Shared fixtures for the store tests: a temporary directory, a PodKeys with
// chosen generations, user ids, and raw SQLite access to a store file.
#ifndef PERIMETER_STORE_STORE_TEST_UTIL_H_
#define PERIMETER_STORE_STORE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "perimeter/keys/identifiers.h"
#include "perimeter/keys/keyring.h"
#include "perimeter/keys/pod_keys.h"
#include "perimeter/store/record_store.h"
#include "tests/testing/matchers.h"
#include "tests/testing/temp_dir.h"

namespace perimeter::store::testing {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

using ::perimeter::testing::TempDir;

// PodKeys for "pod-test" with generations 1..n (random secrets), current 1.
inline std::unique_ptr<keys::PodKeys> MakeKeys(keys::Generation n = 1) {
  keys::Keyring ring;
  for (keys::Generation g = 1; g <= n; ++g) {
    EXPECT_THAT(ring.Add(keys::MasterSecret::Generate(g).value()), IsOk());
  }
  return keys::PodKeys::New("pod-test", ring).value();
}

// A valid user_id derived from a small integer.
inline std::string User(int i) {
  Bytes key(32, 0);
  key[0] = static_cast<std::uint8_t>(i);
  key[1] = static_cast<std::uint8_t>(i >> 8);
  return keys::UserIdFromStaticKey(key).value();
}

// A raw connection to a store file, for tampering.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // Runs constant SQL; fails the test on error.
  void Exec(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  // Returns column 0 of the first row as a blob (or text bytes).
  Bytes QueryBlob(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    Bytes out;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
    if (sqlite3_step(s) == SQLITE_ROW) {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 0));
      const int n = sqlite3_column_bytes(s, 0);
      if (p != nullptr) out.assign(p, p + n);
    }
    sqlite3_finalize(s);
    return out;
  }
  sqlite3* get() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// SQL literal for a record key / user id (test inputs are plain ASCII).
inline std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}
inline std::string KeyLiteral(const std::string& key) {
  return "x'" + HexEncode(AsBytes(key)) + "'";
}

}  // namespace perimeter::store::testing

#endif  // PERIMETER_STORE_STORE_TEST_UTIL_H_
