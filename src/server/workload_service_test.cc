#include "perimeter/server/workload_service.h"

#include <gtest/gtest.h>

#include <set>

#include "perimeter/keys/identifiers.h"
#include "src/server/server_test_util.h"

namespace perimeter::server {
namespace {

using testing::IsOk;

std::string User(int i) {
  Bytes key(32, static_cast<std::uint8_t>(i));
  return keys::UserIdFromStaticKey(key).value();
}

class WorkloadServiceTest : public ::testing::Test {
 protected:
  session::Response Run(const std::string& user, const session::Request& r) { return service_.Execute(user, r); }

  testing::TestStore store_;
  Metrics metrics_;
  WorkloadService service_{store_.store.get(), &metrics_};
};

TEST_F(WorkloadServiceTest, WhoamiAnswersTheSessionUser) {
  session::Response r = Run(User(1), testing::Whoami(4));
  ASSERT_EQ(r.code, StatusCode::kOk);
  EXPECT_EQ(r.id, 4u);
  EXPECT_EQ(r.operation, session::Operation::kWhoami);
  EXPECT_EQ(std::get<session::WhoamiResult>(*r.result).user_id, User(1));
}

TEST_F(WorkloadServiceTest, PutGetDeleteRoundTrip) {
  const Bytes value{0, 1, 2, 0xff};
  EXPECT_EQ(Run(User(1), testing::Put(1, "k", value)).code, StatusCode::kOk);
  session::Response get = Run(User(1), testing::Get(2, "k"));
  ASSERT_EQ(get.code, StatusCode::kOk);
  EXPECT_EQ(std::get<session::GetResult>(*get.result).value, value);
  EXPECT_EQ(Run(User(1), testing::Put(3, "k", Bytes{})).code, StatusCode::kOk);  // empty value, overwrite
  EXPECT_TRUE(std::get<session::GetResult>(*Run(User(1), testing::Get(4, "k")).result).value.empty());
  EXPECT_EQ(Run(User(1), testing::Delete(5, "k")).code, StatusCode::kOk);
  session::Response missing = Run(User(1), testing::Get(6, "k"));
  EXPECT_EQ(missing.code, StatusCode::kNotFound);
  EXPECT_EQ(missing.reason, kReasonNotFound);
  EXPECT_FALSE(missing.result.has_value());
  session::Response del = Run(User(1), testing::Delete(7, "k"));
  EXPECT_EQ(del.code, StatusCode::kNotFound);
  EXPECT_EQ(del.reason, kReasonNotFound);
  EXPECT_EQ(metrics_.Value("perimeter_operations_total", "operation=\"get\",code=\"NOT_FOUND\""), 1);
  EXPECT_EQ(metrics_.Value("perimeter_operations_total", "operation=\"put\",code=\"OK\""), 2);
}

TEST_F(WorkloadServiceTest, UsersCannotReachEachOthersRecords) {
  ASSERT_EQ(Run(User(1), testing::Put(1, "shared/name", ToBytes("one"))).code, StatusCode::kOk);
  // get, delete and list by another user see nothing.
  EXPECT_EQ(Run(User(2), testing::Get(1, "shared/name")).code, StatusCode::kNotFound);
  EXPECT_EQ(Run(User(2), testing::Delete(2, "shared/name")).code, StatusCode::kNotFound);
  session::Response list = Run(User(2), testing::List(3, ""));
  ASSERT_EQ(list.code, StatusCode::kOk);
  EXPECT_TRUE(std::get<session::ListResult>(*list.result).keys.empty());
  // A put under the same key by another user does not overwrite.
  ASSERT_EQ(Run(User(2), testing::Put(4, "shared/name", ToBytes("two"))).code, StatusCode::kOk);
  EXPECT_EQ(std::get<session::GetResult>(*Run(User(1), testing::Get(5, "shared/name")).result).value,
            ToBytes("one"));
  EXPECT_EQ(std::get<session::GetResult>(*Run(User(2), testing::Get(6, "shared/name")).result).value,
            ToBytes("two"));
  // Deleting one user's record leaves the other's.
  ASSERT_EQ(Run(User(2), testing::Delete(7, "shared/name")).code, StatusCode::kOk);
  EXPECT_EQ(Run(User(1), testing::Get(8, "shared/name")).code, StatusCode::kOk);
  // A page token of one user cannot list another user's keys.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Run(User(1), testing::Put(10, "p/" + std::to_string(i), Bytes{1})).code, StatusCode::kOk);
  }
  session::Response page = Run(User(1), testing::List(11, "p/", {}, 1));
  ASSERT_EQ(page.code, StatusCode::kOk);
  const Bytes token = std::get<session::ListResult>(*page.result).next_page_token;
  ASSERT_FALSE(token.empty());
  session::Response other = Run(User(2), testing::List(12, "p/", token, 10));
  ASSERT_EQ(other.code, StatusCode::kOk);
  EXPECT_TRUE(std::get<session::ListResult>(*other.result).keys.empty());
}

TEST_F(WorkloadServiceTest, ListPagesThroughEveryKeyOnce) {
  std::set<std::string> want;
  for (int i = 0; i < 25; ++i) {
    const std::string key = "notes/" + std::to_string(100 + i);
    want.insert(key);
    ASSERT_EQ(Run(User(1), testing::Put(1, key, Bytes{1})).code, StatusCode::kOk);
  }
  ASSERT_EQ(Run(User(1), testing::Put(1, "other", Bytes{1})).code, StatusCode::kOk);
  std::set<std::string> got;
  Bytes token;
  int pages = 0;
  do {
    session::Response r = Run(User(1), testing::List(2, "notes/", token, 7));
    ASSERT_EQ(r.code, StatusCode::kOk);
    const auto& page = std::get<session::ListResult>(*r.result);
    for (const std::string& k : page.keys) EXPECT_TRUE(got.insert(k).second) << k;
    token = page.next_page_token;
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_EQ(got, want);
}

TEST_F(WorkloadServiceTest, LongKeysGetHandleTokensBoundToUserAndPrefix) {
  const std::string a = "long/" + std::string(900, 'a');
  const std::string b = "long/" + std::string(900, 'b');
  ASSERT_EQ(Run(User(1), testing::Put(1, a, Bytes{1})).code, StatusCode::kOk);
  ASSERT_EQ(Run(User(1), testing::Put(2, b, Bytes{2})).code, StatusCode::kOk);
  session::Response first = Run(User(1), testing::List(3, "long/", {}, 1));
  ASSERT_EQ(first.code, StatusCode::kOk);
  const auto& page = std::get<session::ListResult>(*first.result);
  ASSERT_EQ(page.keys, std::vector<std::string>{a});
  ASSERT_FALSE(page.next_page_token.empty());
  EXPECT_LE(page.next_page_token.size(), session::kMaxPageTokenSize);
  session::Response second = Run(User(1), testing::List(4, "long/", page.next_page_token, 1));
  ASSERT_EQ(second.code, StatusCode::kOk);
  EXPECT_EQ(std::get<session::ListResult>(*second.result).keys, std::vector<std::string>{b});
  // The handle is refused for another user or another prefix.
  session::Response other_user = Run(User(2), testing::List(5, "long/", page.next_page_token, 1));
  EXPECT_EQ(other_user.code, StatusCode::kInvalidArgument);
  EXPECT_EQ(other_user.reason, kReasonBadPageToken);
  session::Response other_prefix = Run(User(1), testing::List(6, "lon", page.next_page_token, 1));
  EXPECT_EQ(other_prefix.reason, kReasonBadPageToken);
  Bytes forged = page.next_page_token;
  forged.back() ^= 1;
  EXPECT_EQ(Run(User(1), testing::List(7, "long/", forged, 1)).reason, kReasonBadPageToken);
}

// Finding: the handle table was shared by all users and evicted oldest
// first, so one user's lists evicted everybody else's page tokens.
TEST_F(WorkloadServiceTest, OneUsersListsDoNotEvictAnothersLongTokens) {
  const std::string alice = User(1), mallory = User(2);
  const std::string long_key = "long/" + std::string(400, 'k');
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Run(alice, testing::Put(1, long_key + std::to_string(i), Bytes{1})).code, StatusCode::kOk);
    ASSERT_EQ(Run(mallory, testing::Put(1, long_key + std::to_string(i), Bytes{1})).code, StatusCode::kOk);
  }
  session::Response first = Run(alice, testing::List(2, "", {}, 1));
  ASSERT_EQ(first.code, StatusCode::kOk);
  const Bytes token = std::get<session::ListResult>(*first.result).next_page_token;
  ASSERT_EQ(token.size(), 17u);  // a handle
  session::Response mallorys_first = Run(mallory, testing::List(3, "", {}, 1));
  const Bytes mallory_token = std::get<session::ListResult>(*mallorys_first.result).next_page_token;
  ASSERT_EQ(mallory_token.size(), 17u);
  for (std::size_t i = 0; i < kMaxLongTokens + 100; ++i) {
    ASSERT_EQ(Run(mallory, testing::List(4, "", {}, 1)).code, StatusCode::kOk);
  }
  session::Response again = Run(alice, testing::List(5, "", token, 1));
  ASSERT_EQ(again.code, StatusCode::kOk) << again.reason;
  EXPECT_EQ(std::get<session::ListResult>(*again.result).keys, std::vector<std::string>{long_key + "1"});
  // Mallory's own oldest handles went instead (kMaxLongTokensPerUser each).
  EXPECT_EQ(Run(mallory, testing::List(6, "", mallory_token, 1)).reason, kReasonBadPageToken);
}

TEST_F(WorkloadServiceTest, AFullHandleTableEvictsFromTheUsersHoldingTheMost) {
  const std::string long_key = "long/" + std::string(400, 'k');
  const std::string alice = User(0);
  ASSERT_EQ(Run(alice, testing::Put(1, long_key + "0", Bytes{1})).code, StatusCode::kOk);
  ASSERT_EQ(Run(alice, testing::Put(1, long_key + "1", Bytes{1})).code, StatusCode::kOk);
  const Bytes token = std::get<session::ListResult>(*Run(alice, testing::List(2, "", {}, 1)).result).next_page_token;
  ASSERT_EQ(token.size(), 17u);
  // More users than the table has room for at kMaxLongTokensPerUser each.
  const std::size_t users = kMaxLongTokens / kMaxLongTokensPerUser + 10;
  for (std::size_t u = 1; u <= users; ++u) {
    Bytes raw(32, 0);
    raw[0] = static_cast<std::uint8_t>(u);
    raw[1] = static_cast<std::uint8_t>(u >> 8);
    raw[2] = 0x5a;
    const std::string user = keys::UserIdFromStaticKey(raw).value();
    ASSERT_EQ(Run(user, testing::Put(1, long_key + "0", Bytes{1})).code, StatusCode::kOk);
    ASSERT_EQ(Run(user, testing::Put(1, long_key + "1", Bytes{1})).code, StatusCode::kOk);
    for (std::size_t i = 0; i < kMaxLongTokensPerUser; ++i) {
      ASSERT_EQ(Run(user, testing::List(3, "", {}, 1)).code, StatusCode::kOk);
    }
  }
  EXPECT_EQ(Run(alice, testing::List(4, "", token, 1)).code, StatusCode::kOk);
}

TEST(WorkloadServiceQuota, RecordAndByteQuotasAnswerQuotaExceeded) {
  testing::TestStore store;
  Metrics metrics;
  WorkloadService service(store.store.get(), &metrics, UserQuota{/*max_bytes=*/1000, /*max_records=*/3});
  const std::string u = User(1);
  const auto put = [&](const std::string& key, std::size_t size) {
    return service.Execute(u, testing::Put(1, key, Bytes(size, 1)));
  };
  ASSERT_EQ(put("a", 400).code, StatusCode::kOk);
  ASSERT_EQ(put("b", 400).code, StatusCode::kOk);
  // Bytes: 800 + 201 > 1000.
  session::Response over = put("c", 201);
  EXPECT_EQ(over.code, StatusCode::kResourceExhausted);
  EXPECT_EQ(over.reason, kReasonQuotaExceeded);
  EXPECT_EQ(over.operation, session::Operation::kPut);
  EXPECT_EQ(service.Execute(u, testing::Get(2, "c")).code, StatusCode::kNotFound);  // nothing stored
  ASSERT_EQ(put("c", 200).code, StatusCode::kOk);  // exactly 1000
  // Records: a fourth is refused, even an empty one.
  EXPECT_EQ(put("d", 0).reason, kReasonQuotaExceeded);
  // An overwrite counts the difference: growing "a" by 1 is over, shrinking is fine.
  EXPECT_EQ(put("a", 401).reason, kReasonQuotaExceeded);
  ASSERT_EQ(put("a", 100).code, StatusCode::kOk);  // 700
  ASSERT_EQ(put("a", 400).code, StatusCode::kOk);  // 1000 again
  // Deleting frees both.
  ASSERT_EQ(service.Execute(u, testing::Delete(3, "b")).code, StatusCode::kOk);
  ASSERT_EQ(put("d", 400).code, StatusCode::kOk);
  EXPECT_EQ(put("e", 0).reason, kReasonQuotaExceeded);
  // Another user has a quota of their own.
  EXPECT_EQ(service.Execute(User(2), testing::Put(4, "a", Bytes(1000, 1))).code, StatusCode::kOk);
  EXPECT_EQ(metrics.Value("perimeter_operations_total", "operation=\"put\",code=\"RESOURCE_EXHAUSTED\""), 4);
  // The accounting matches the store.
  const store::UserUsage usage = store.store->Usage(u).value();
  EXPECT_EQ(usage.records, 3u);
  EXPECT_EQ(usage.value_bytes, 1000u);
}

TEST(WorkloadServiceQuota, UsageIsReadFromTheStoreAndAShrinkingPutIsAlwaysAllowed) {
  testing::TestStore store;
  const std::string u = User(1);
  {
    WorkloadService unlimited(store.store.get(), nullptr, UserQuota{0, 0});  // 0 = no limit
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(unlimited.Execute(u, testing::Put(1, "k" + std::to_string(i), Bytes(300, 1))).code,
                StatusCode::kOk);
    }
  }
  // A new process with a lower quota: the user is over it (5 records, 1500 bytes).
  WorkloadService service(store.store.get(), nullptr, UserQuota{1000, 4});
  EXPECT_EQ(service.Execute(u, testing::Put(2, "new", Bytes{})).reason, kReasonQuotaExceeded);
  EXPECT_EQ(service.Execute(u, testing::Put(3, "k0", Bytes(301, 1))).reason, kReasonQuotaExceeded);
  EXPECT_EQ(service.Execute(u, testing::Put(4, "k0", Bytes(300, 2))).code, StatusCode::kOk);  // same size
  EXPECT_EQ(service.Execute(u, testing::Put(5, "k0", Bytes(10, 2))).code, StatusCode::kOk);   // shrinks
  EXPECT_EQ(service.Execute(u, testing::Delete(6, "k1")).code, StatusCode::kOk);
  EXPECT_EQ(service.Execute(u, testing::Delete(7, "k1")).code, StatusCode::kNotFound);
  // 4 records, 910 bytes: one more record is over, growing by 90 is not.
  EXPECT_EQ(service.Execute(u, testing::Put(8, "new", Bytes{})).reason, kReasonQuotaExceeded);
  EXPECT_EQ(service.Execute(u, testing::Put(9, "k0", Bytes(100, 2))).code, StatusCode::kOk);
  EXPECT_EQ(service.Execute(u, testing::Put(10, "k0", Bytes(101, 2))).reason, kReasonQuotaExceeded);
}

TEST_F(WorkloadServiceTest, BadPageTokenIsARequestError) {
  session::Response r = Run(User(1), testing::List(1, "x/", ToBytes("not a token"), 10));
  EXPECT_EQ(r.code, StatusCode::kInvalidArgument);
  EXPECT_EQ(r.reason, kReasonBadPageToken);
}

TEST(WorkloadServiceErrors, StoreErrorsMapToWireReasons) {
  const session::Request req = testing::Get(9, "k");
  struct Case {
    Status in;
    StatusCode code;
    std::string_view reason;
  };
  const Case cases[] = {
      {NotFoundError("store.not_found", ""), StatusCode::kNotFound, kReasonNotFound},
      {InvalidArgumentError("store.bad_page_token", ""), StatusCode::kInvalidArgument, kReasonBadPageToken},
      {DataLossError("store.corrupt", ""), StatusCode::kDataLoss, kReasonDataLoss},
      {UnavailableError("store.io", ""), StatusCode::kUnavailable, kReasonUnavailable},
      {FailedPreconditionError("store.key_unavailable", ""), StatusCode::kUnavailable, kReasonUnavailable},
      {InternalError("store.internal", ""), StatusCode::kInternal, kReasonInternal},
      {InvalidArgumentError("store.bad_key", ""), StatusCode::kInternal, kReasonInternal},
  };
  for (const Case& c : cases) {
    session::Response r = WorkloadService::ErrorResponse(req, c.in);
    EXPECT_EQ(r.id, 9u);
    EXPECT_EQ(r.operation, session::Operation::kGet);
    EXPECT_EQ(r.code, c.code) << c.in;
    EXPECT_EQ(r.reason, c.reason) << c.in;
  }
}

TEST(WorkloadServiceErrors, NoStoreMeansUnavailableButWhoamiWorks) {
  WorkloadService service(nullptr, nullptr);
  EXPECT_FALSE(service.store_ready());
  EXPECT_EQ(service.Execute(User(1), testing::Whoami(1)).code, StatusCode::kOk);
  for (const session::Request& r : {testing::Put(2, "k", Bytes{}), testing::Get(3, "k"), testing::Delete(4, "k"),
                                    testing::List(5, "")}) {
    session::Response resp = service.Execute(User(1), r);
    EXPECT_EQ(resp.code, StatusCode::kUnavailable);
    EXPECT_EQ(resp.reason, kReasonUnavailable);
  }
}

}  // namespace
}  // namespace perimeter::server
