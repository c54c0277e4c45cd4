// Key rotation (DESIGN.md section 5): records written under g1, g2 added and
// made current, re-encryption in batches while every record stays readable,
// and g1 retired only once no record uses it.
#include <map>
#include <string>

#include "perimeter/store/record_store.h"
#include "store/store_test_util.h"

namespace perimeter::store {
namespace {

using namespace ::perimeter::store::testing;  // NOLINT

TEST(Rotation, ReencryptInBatchesWhileReading) {
  TempDir dir;
  auto keys = MakeKeys(1);
  const std::string path = dir.File("records.db");
  auto store = RecordStore::Open(path, keys.get()).value();

  std::map<std::pair<std::string, std::string>, Bytes> expected;
  for (int u = 0; u < 5; ++u) {
    for (int i = 0; i < 50; ++i) {
      const std::string key = "item/" + std::to_string(i);
      Bytes value = ToBytes("user " + std::to_string(u) + " item " + std::to_string(i));
      ASSERT_THAT(store->Put(User(u), key, value), IsOk());
      expected[{User(u), key}] = value;
    }
  }
  auto check_all = [&] {
    for (const auto& [id, value] : expected) {
      auto got = store->Get(id.first, id.second);
      ASSERT_THAT(got, IsOk()) << id.second;
      EXPECT_EQ(*got, value);
    }
  };
  EXPECT_EQ(store->GenerationsInUse().value(), std::vector<keys::Generation>{1});
  EXPECT_EQ(store->ReencryptBatch(10).value(), 0u);  // nothing older than current

  // The KBS issues generation 2.
  ASSERT_THAT(keys->AddGeneration(keys::MasterSecret::Generate(2).value()), IsOk());
  ASSERT_THAT(keys->SetCurrent(2), IsOk());
  EXPECT_THAT(store->RetireGeneration(1),
              StatusIs(StatusCode::kFailedPrecondition, "store.generation_in_use"));
  EXPECT_THAT(store->RetireGeneration(2),
              StatusIs(StatusCode::kFailedPrecondition, "keys.retire_current"));

  // New writes go to g2 at once; one overwrite of a g1 record too.
  ASSERT_THAT(store->Put(User(0), "item/0", AsBytes("rewritten")), IsOk());
  expected[{User(0), "item/0"}] = ToBytes("rewritten");
  EXPECT_EQ(store->GenerationsInUse().value(), (std::vector<keys::Generation>{1, 2}));

  std::size_t total = 0;
  int batches = 0;
  while (true) {
    auto n = store->ReencryptBatch(37);
    ASSERT_THAT(n, IsOk());
    if (*n == 0) break;
    EXPECT_LE(*n, 37u);
    total += *n;
    ++batches;
    check_all();  // reads work between batches
    // Writes between batches too.
    ASSERT_THAT(store->Put(User(9), "during/" + std::to_string(batches), AsBytes("x")), IsOk());
    expected[{User(9), "during/" + std::to_string(batches)}] = ToBytes("x");
    ASSERT_LT(batches, 100);
  }
  EXPECT_EQ(total, 249u);  // 250 records minus the one overwritten under g2
  EXPECT_EQ(batches, 7);   // ceil(249 / 37)
  EXPECT_EQ(store->GenerationsInUse().value(), std::vector<keys::Generation>{2});
  check_all();

  ASSERT_THAT(store->RetireGeneration(1), IsOk());
  EXPECT_FALSE(keys->HasGeneration(1));
  EXPECT_THAT(store->RetireGeneration(1), StatusIs(StatusCode::kNotFound, "keys.unknown_generation"));
  check_all();  // nothing needed g1

  // And it all survives a reopen with only g2 loaded.
  store.reset();
  store = RecordStore::Open(path, keys.get()).value();
  check_all();
}

TEST(Rotation, GenerationsInUseTracksEveryGeneration) {
  TempDir dir;
  auto keys = MakeKeys(3);
  auto store = RecordStore::Open(dir.File("r.db"), keys.get()).value();
  EXPECT_TRUE(store->GenerationsInUse().value().empty());
  ASSERT_THAT(store->Put(User(1), "a", AsBytes("1")), IsOk());
  ASSERT_THAT(keys->SetCurrent(3), IsOk());
  ASSERT_THAT(store->Put(User(1), "b", AsBytes("3")), IsOk());
  EXPECT_EQ(store->GenerationsInUse().value(), (std::vector<keys::Generation>{1, 3}));
  // Generation 2 is unused: retiring it is allowed.
  ASSERT_THAT(store->RetireGeneration(2), IsOk());
  // Rotating "backwards" (current = 1) re-encrypts the g3 record to g1.
  ASSERT_THAT(keys->SetCurrent(1), IsOk());
  EXPECT_EQ(store->ReencryptBatch(100).value(), 1u);
  EXPECT_EQ(store->GenerationsInUse().value(), std::vector<keys::Generation>{1});
  EXPECT_EQ(store->Get(User(1), "b").value(), ToBytes("3"));
  EXPECT_THAT(store->ReencryptBatch(0), StatusIs(StatusCode::kInvalidArgument, "store.bad_limit"));
}

TEST(Rotation, CorruptRowStopsTheBatchAndKeepsEverythingElse) {
  TempDir dir;
  auto keys = MakeKeys(2);
  const std::string path = dir.File("r.db");
  auto store = RecordStore::Open(path, keys.get()).value();
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(store->Put(User(1), "k" + std::to_string(i), AsBytes("v")), IsOk());
  }
  RawDb raw(path);
  raw.Exec("UPDATE records SET ciphertext = zeroblob(17) WHERE record_key = x'6b32'");  // "k2"
  ASSERT_THAT(keys->SetCurrent(2), IsOk());
  EXPECT_THAT(store->ReencryptBatch(100), StatusIs(StatusCode::kDataLoss, "store.corrupt"));
  // Rolled back: all rows still under g1, and the healthy ones readable.
  EXPECT_EQ(store->GenerationsInUse().value(), std::vector<keys::Generation>{1});
  EXPECT_EQ(store->Get(User(1), "k0").value(), ToBytes("v"));
  // The operator removes the damaged record; rotation then completes.
  ASSERT_THAT(store->Delete(User(1), "k2"), IsOk());
  EXPECT_EQ(store->ReencryptBatch(100).value(), 4u);
  ASSERT_THAT(store->RetireGeneration(1), IsOk());
}

}  // namespace
}  // namespace perimeter::store
