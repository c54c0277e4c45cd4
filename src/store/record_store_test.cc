#include "perimeter/store/record_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "store/store_test_util.h"

namespace perimeter::store {
namespace {

using namespace ::perimeter::store::testing;  // NOLINT

class RecordStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = MakeKeys(1);
    path_ = dir_.File("records.db");
    auto s = RecordStore::Open(path_, keys_.get());
    ASSERT_THAT(s, IsOk());
    store_ = std::move(s).value();
  }

  // All keys of `user` under `prefix`, fetched `limit` at a time.
  std::vector<std::string> ListAll(const std::string& user, std::string_view prefix,
                                   std::size_t limit, int* pages = nullptr) {
    std::vector<std::string> all;
    std::string token;
    int n = 0;
    do {
      auto page = store_->List(user, prefix, token, limit);
      EXPECT_THAT(page, IsOk());
      if (!page.has_value()) break;
      EXPECT_LE(page->keys.size(), limit);
      all.insert(all.end(), page->keys.begin(), page->keys.end());
      token = page->next_page_token;
      ++n;
    } while (!token.empty() && n < 100000);
    if (pages != nullptr) *pages = n;
    return all;
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<keys::PodKeys> keys_;
  std::unique_ptr<RecordStore> store_;
};

TEST_F(RecordStoreTest, PutGetOverwriteDelete) {
  const std::string u = User(1);
  EXPECT_THAT(store_->Get(u, "k"), StatusIs(StatusCode::kNotFound, "store.not_found"));
  ASSERT_THAT(store_->Put(u, "k", AsBytes("v1")), IsOk());
  EXPECT_EQ(store_->Get(u, "k").value(), ToBytes("v1"));
  ASSERT_THAT(store_->Put(u, "k", AsBytes("second value")), IsOk());
  EXPECT_EQ(store_->Get(u, "k").value(), ToBytes("second value"));
  EXPECT_EQ(store_->Count(u).value(), 1u);
  ASSERT_THAT(store_->Delete(u, "k"), IsOk());
  EXPECT_THAT(store_->Get(u, "k"), StatusIs(StatusCode::kNotFound, "store.not_found"));
  EXPECT_THAT(store_->Delete(u, "k"), StatusIs(StatusCode::kNotFound, "store.not_found"));
  EXPECT_EQ(store_->Count(u).value(), 0u);
}

TEST_F(RecordStoreTest, EmptyValueAndBinaryKeys) {
  const std::string u = User(1);
  const std::string binary_key("\0\x01\xff%_'\"", 7);
  ASSERT_THAT(store_->Put(u, binary_key, {}), IsOk());
  auto v = store_->Get(u, binary_key);
  ASSERT_THAT(v, IsOk());
  EXPECT_TRUE(v->empty());
  EXPECT_THAT(store_->Get(u, std::string("\0\x01", 2)), StatusIs(StatusCode::kNotFound));
}

TEST_F(RecordStoreTest, ValueSizeLimit) {
  const std::string u = User(1);
  Bytes max(kMaxValueSize);
  for (std::size_t i = 0; i < max.size(); ++i) max[i] = static_cast<std::uint8_t>(i * 7);
  ASSERT_THAT(store_->Put(u, "big", max), IsOk());
  EXPECT_EQ(store_->Get(u, "big").value(), max);
  Bytes over(kMaxValueSize + 1, 1);
  EXPECT_THAT(store_->Put(u, "big", over),
              StatusIs(StatusCode::kInvalidArgument, "store.value_too_large"));
  EXPECT_EQ(store_->Get(u, "big").value(), max);  // unchanged
}

TEST_F(RecordStoreTest, KeyAndIdValidation) {
  const std::string u = User(1);
  EXPECT_THAT(store_->Put(u, "", AsBytes("v")), StatusIs(StatusCode::kInvalidArgument, "store.bad_key"));
  EXPECT_THAT(store_->Put(u, std::string(kMaxKeySize + 1, 'k'), AsBytes("v")),
              StatusIs(StatusCode::kInvalidArgument, "store.key_too_large"));
  ASSERT_THAT(store_->Put(u, std::string(kMaxKeySize, 'k'), AsBytes("v")), IsOk());
  EXPECT_THAT(store_->Put("not-a-user", "k", AsBytes("v")),
              StatusIs(StatusCode::kInvalidArgument, "keys.bad_user_id"));
  std::string upper = u;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) { return static_cast<char>(std::toupper(c)); });
  EXPECT_THAT(store_->Get(upper, "k"), StatusIs(StatusCode::kInvalidArgument, "keys.bad_user_id"));
  EXPECT_THAT(store_->List(u, "", "", 0), StatusIs(StatusCode::kInvalidArgument, "store.bad_limit"));
  EXPECT_THAT(store_->List(u, "", "", kMaxListLimit + 1),
              StatusIs(StatusCode::kInvalidArgument, "store.bad_limit"));
  EXPECT_THAT(store_->List(u, std::string(kMaxKeySize + 1, 'k'), "", 10),
              StatusIs(StatusCode::kInvalidArgument, "store.bad_prefix"));
  EXPECT_THAT(store_->List(u, "", "garbage!", 10),
              StatusIs(StatusCode::kInvalidArgument, "store.bad_page_token"));
  EXPECT_THAT(RecordStore::Open(dir_.File("x.db"), nullptr),
              StatusIs(StatusCode::kInvalidArgument, "store.bad_argument"));
}

TEST_F(RecordStoreTest, ListPagesAcrossManyRecordsAndPrefixes) {
  const std::string u = User(1), other = User(2);
  std::set<std::string> expected_all;
  std::vector<std::string> a_keys, ab_keys;
  // 600 keys over several prefixes, inserted in a scrambled order.
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "a/%04d", i);
    keys.push_back(buf);
    std::snprintf(buf, sizeof buf, "ab/%04d", i);
    keys.push_back(buf);
    std::snprintf(buf, sizeof buf, "b/%04d", i);
    keys.push_back(buf);
  }
  std::sort(keys.begin(), keys.end(), [](const std::string& x, const std::string& y) {
    return std::hash<std::string>()(x) < std::hash<std::string>()(y);
  });
  for (const std::string& k : keys) {
    ASSERT_THAT(store_->Put(u, k, AsBytes("v:" + k)), IsOk());
    ASSERT_THAT(store_->Put(other, "a/other-" + k, AsBytes("x")), IsOk());
    expected_all.insert(k);
  }
  const std::vector<std::string> sorted(expected_all.begin(), expected_all.end());
  for (std::size_t limit : {1u, 7u, 100u, 600u, 1000u}) {
    int pages = 0;
    EXPECT_EQ(ListAll(u, "", limit, &pages), sorted) << limit;
    EXPECT_EQ(pages, static_cast<int>((sorted.size() + limit - 1) / limit)) << limit;
  }
  std::vector<std::string> want;
  std::copy_if(sorted.begin(), sorted.end(), std::back_inserter(want),
               [](const std::string& k) { return k.starts_with("a"); });
  EXPECT_EQ(want.size(), 400u);
  EXPECT_EQ(ListAll(u, "a", 33), want);
  want.clear();
  std::copy_if(sorted.begin(), sorted.end(), std::back_inserter(want),
               [](const std::string& k) { return k.starts_with("a/"); });
  EXPECT_EQ(ListAll(u, "a/", 33), want);
  EXPECT_EQ(ListAll(u, "a/01", 3).size(), 100u);
  EXPECT_EQ(ListAll(u, "a/0199", 3), std::vector<std::string>{"a/0199"});
  EXPECT_TRUE(ListAll(u, "c", 10).empty());
  EXPECT_EQ(store_->Count(u).value(), 600u);

  // A token only fits its prefix.
  auto page = store_->List(u, "b/", "", 5).value();
  EXPECT_THAT(store_->List(u, "a/", page.next_page_token, 5),
              StatusIs(StatusCode::kInvalidArgument, "store.bad_page_token"));
}

TEST_F(RecordStoreTest, ListPrefixWithLikeMetacharacters) {
  const std::string u = User(3);
  const std::vector<std::string> keys = {"100%",  "100%/x", "1000",   "100_",   "100_a",
                                         "100a",  "100\\",  "100\\%", "%",      "_",
                                         "%%",    "a%b",    "axb",    "a_b",    "azb"};
  for (const auto& k : keys) ASSERT_THAT(store_->Put(u, k, AsBytes(k)), IsOk());
  EXPECT_EQ(ListAll(u, "100%", 2), (std::vector<std::string>{"100%", "100%/x"}));
  EXPECT_EQ(ListAll(u, "100_", 2), (std::vector<std::string>{"100_", "100_a"}));
  EXPECT_EQ(ListAll(u, "%", 2), (std::vector<std::string>{"%", "%%"}));
  EXPECT_EQ(ListAll(u, "_", 2), std::vector<std::string>{"_"});
  EXPECT_EQ(ListAll(u, "a%", 2), std::vector<std::string>{"a%b"});
  EXPECT_EQ(ListAll(u, "a_", 2), std::vector<std::string>{"a_b"});
  EXPECT_EQ(ListAll(u, "100\\", 2), (std::vector<std::string>{"100\\", "100\\%"}));
  // Prefixes ending in 0xff bytes.
  const std::string ff("\xff\xff", 2);
  ASSERT_THAT(store_->Put(u, ff, AsBytes("1")), IsOk());
  ASSERT_THAT(store_->Put(u, ff + "z", AsBytes("2")), IsOk());
  EXPECT_EQ(ListAll(u, ff, 1), (std::vector<std::string>{ff, ff + "z"}));
  EXPECT_EQ(ListAll(u, std::string("\xff", 1), 1), (std::vector<std::string>{ff, ff + "z"}));
}

TEST_F(RecordStoreTest, ListIsStableUnderConcurrentInserts) {
  const std::string u = User(4);
  for (int i = 0; i < 20; i += 2) {
    ASSERT_THAT(store_->Put(u, "k" + std::to_string(10 + i), AsBytes("v")), IsOk());
  }
  auto p1 = store_->List(u, "k", "", 4).value();
  EXPECT_EQ(p1.keys, (std::vector<std::string>{"k10", "k12", "k14", "k16"}));
  ASSERT_THAT(store_->Put(u, "k11", AsBytes("v")), IsOk());  // before the cursor
  ASSERT_THAT(store_->Put(u, "k17", AsBytes("v")), IsOk());  // after it
  ASSERT_THAT(store_->Delete(u, "k18"), IsOk());
  auto p2 = store_->List(u, "k", p1.next_page_token, 4).value();
  EXPECT_EQ(p2.keys, (std::vector<std::string>{"k17", "k20", "k22", "k24"}));
}

TEST_F(RecordStoreTest, UsersAreIsolatedThroughTheApi) {
  const std::string a = User(10), b = User(11);
  ASSERT_THAT(store_->Put(a, "secret", AsBytes("alice")), IsOk());
  EXPECT_THAT(store_->Get(b, "secret"), StatusIs(StatusCode::kNotFound, "store.not_found"));
  EXPECT_THAT(store_->Delete(b, "secret"), StatusIs(StatusCode::kNotFound, "store.not_found"));
  EXPECT_TRUE(store_->List(b, "", "", 10).value().keys.empty());
  EXPECT_EQ(store_->Count(b).value(), 0u);
  // B writing the same key creates B's own record; A's is untouched.
  ASSERT_THAT(store_->Put(b, "secret", AsBytes("bob")), IsOk());
  EXPECT_EQ(store_->Get(a, "secret").value(), ToBytes("alice"));
  EXPECT_EQ(store_->Get(b, "secret").value(), ToBytes("bob"));
  // A token from A's listing gives B only B's keys.
  ASSERT_THAT(store_->Put(a, "secret2", AsBytes("alice2")), IsOk());
  auto page = store_->List(a, "", "", 1).value();
  ASSERT_FALSE(page.next_page_token.empty());
  EXPECT_TRUE(store_->List(b, "", page.next_page_token, 10).value().keys.empty());
}

// More users than the store keeps AEAD contexts for (1024): entries are
// evicted and re-derived as users come back, and every read still gets its
// own user's value (never a context of another user).
TEST_F(RecordStoreTest, MoreUsersThanTheKeyCache) {
  StoreOptions options;
  options.sync_mode = SyncMode::kNormalNotPowerSafe;
  auto opened = RecordStore::Open(dir_.File("many.db"), keys_.get(), options);
  ASSERT_THAT(opened, IsOk());
  RecordStore& store = **opened;
  constexpr int kUsers = 1500;
  for (int i = 0; i < kUsers; ++i) {
    ASSERT_THAT(store.Put(User(i), "k", AsBytes("value-" + std::to_string(i))), IsOk());
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (int j = 0; j < kUsers; ++j) {
      const int i = pass == 0 ? j : (j * 7919) % kUsers;  // then a scattered order
      auto v = store.Get(User(i), "k");
      ASSERT_THAT(v, IsOk());
      EXPECT_EQ(*v, ToBytes("value-" + std::to_string(i)));
    }
  }
}

TEST_F(RecordStoreTest, FreshNonceAndCiphertextPerWrite) {
  const std::string u = User(1);
  RawDb raw(path_);
  std::set<Bytes> nonces, cts;
  for (int i = 0; i < 20; ++i) {
    ASSERT_THAT(store_->Put(u, "same", AsBytes("same value")), IsOk());
    nonces.insert(raw.QueryBlob("SELECT nonce FROM records"));
    cts.insert(raw.QueryBlob("SELECT ciphertext FROM records"));
  }
  EXPECT_EQ(nonces.size(), 20u);
  EXPECT_EQ(cts.size(), 20u);
  const Bytes ct = raw.QueryBlob("SELECT ciphertext FROM records");
  EXPECT_EQ(ct.size(), std::string("same value").size() + 16);
  EXPECT_EQ(std::search(ct.begin(), ct.end(), std::string("same").begin(), std::string("same").end()),
            ct.end());
}

TEST_F(RecordStoreTest, PersistsAcrossReopenWithOwnerOnlyFile) {
  const std::string u = User(1);
  ASSERT_THAT(store_->Put(u, "k", AsBytes("persisted")), IsOk());
  store_.reset();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto reopened = RecordStore::Open(path_, keys_.get());
  ASSERT_THAT(reopened, IsOk());
  EXPECT_EQ((*reopened)->Get(u, "k").value(), ToBytes("persisted"));
  // Another pod's keys cannot read it.
  auto other = MakeKeys(1);
  auto foreign = RecordStore::Open(path_, other.get());
  ASSERT_THAT(foreign, IsOk());
  EXPECT_THAT((*foreign)->Get(u, "k"), StatusIs(StatusCode::kDataLoss, "store.corrupt"));
}

TEST_F(RecordStoreTest, SchemaIsVersionedAndUsesWal) {
  RawDb raw(path_);
  EXPECT_EQ(raw.QueryBlob("SELECT group_concat(version) FROM schema_migrations"), ToBytes("1,2"));
  EXPECT_EQ(raw.QueryBlob("PRAGMA journal_mode"), ToBytes("wal"));
  raw.Exec("INSERT INTO schema_migrations VALUES(99, 'from the future', 0)");
  store_.reset();
  EXPECT_THAT(RecordStore::Open(path_, keys_.get()),
              StatusIs(StatusCode::kFailedPrecondition, "store.schema_too_new"));
}

TEST_F(RecordStoreTest, RefusesForeignDatabases) {
  const std::string foreign = dir_.File("foreign.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(foreign.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THAT(RecordStore::Open(foreign, keys_.get()),
              StatusIs(StatusCode::kFailedPrecondition, "store.not_a_store"));
  const std::string text = dir_.File("text.db");
  std::ofstream(text) << "this is not a database at all, just some text to fill a page......";
  EXPECT_THAT(RecordStore::Open(text, keys_.get()), StatusIs(StatusCode::kDataLoss, "store.corrupt"));
}

// The read-only accounting the server's quotas use.
TEST_F(RecordStoreTest, UsageAndValueSize) {
  const std::string u = User(1);
  EXPECT_EQ(store_->Usage(u).value().records, 0u);
  EXPECT_EQ(store_->Usage(u).value().value_bytes, 0u);
  ASSERT_THAT(store_->Put(u, "a", Bytes(100, 1)), IsOk());
  ASSERT_THAT(store_->Put(u, "b", Bytes{}), IsOk());
  ASSERT_THAT(store_->Put(User(2), "a", Bytes(7, 1)), IsOk());
  EXPECT_EQ(store_->Usage(u).value().records, 2u);
  EXPECT_EQ(store_->Usage(u).value().value_bytes, 100u);
  EXPECT_EQ(store_->ValueSize(u, "a").value(), 100u);
  EXPECT_EQ(store_->ValueSize(u, "b").value(), 0u);
  EXPECT_THAT(store_->ValueSize(u, "c"), StatusIs(StatusCode::kNotFound, "store.not_found"));
  ASSERT_THAT(store_->Put(u, "a", Bytes(30, 1)), IsOk());  // overwrite
  EXPECT_EQ(store_->Usage(u).value().value_bytes, 30u);
  ASSERT_THAT(store_->Delete(u, "a"), IsOk());
  EXPECT_EQ(store_->Usage(u).value().records, 1u);
  EXPECT_EQ(store_->Usage(u).value().value_bytes, 0u);
  EXPECT_EQ(store_->Usage(User(2)).value().value_bytes, 7u);
  EXPECT_THAT(store_->Usage("not-a-user"), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace perimeter::store
