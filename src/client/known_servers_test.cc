#include "perimeter/client/known_servers.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "client/testing/test_server.h"
#include "perimeter/client/identity.h"
#include "tests/testing/matchers.h"

namespace perimeter::client {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;
using testing::TempDir;

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

TEST(KnownServersTest, RemembersAcrossOpensWithMode0600) {
  TempDir dir;
  const std::string path = dir.File("known.json");
  {
    auto k = KnownServers::Open(path);
    ASSERT_THAT(k, IsOk());
    EXPECT_FALSE((*k)->Find("127.0.0.1:1").has_value());
    EXPECT_THAT((*k)->Remember("127.0.0.1:1", Bytes(32, 7)), IsOk());
    EXPECT_THAT((*k)->Remember("ws://127.0.0.1:2/v1/noise", Bytes(32, 8)), IsOk());
    EXPECT_THAT((*k)->Remember("127.0.0.1:1", Bytes(32, 9)), IsOk());  // replaced
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto k = KnownServers::Open(path);
  ASSERT_THAT(k, IsOk());
  EXPECT_EQ((*k)->Find("127.0.0.1:1"), Bytes(32, 9));
  EXPECT_EQ((*k)->Find("ws://127.0.0.1:2/v1/noise"), Bytes(32, 8));
  EXPECT_THAT((*k)->Forget("127.0.0.1:1"), IsOk());
  EXPECT_FALSE(KnownServers::Open(path).value()->Find("127.0.0.1:1").has_value());
  // No temporary files are left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 1);
}

TEST(KnownServersTest, UpdatesFromAnotherHandleAreKept) {
  TempDir dir;
  const std::string path = dir.File("known.json");
  auto a = KnownServers::Open(path).value();
  auto b = KnownServers::Open(path).value();
  ASSERT_THAT(a->Remember("a:1", Bytes(32, 1)), IsOk());
  ASSERT_THAT(b->Remember("b:1", Bytes(32, 2)), IsOk());  // re-reads first
  auto c = KnownServers::Open(path).value();
  EXPECT_TRUE(c->Find("a:1").has_value());
  EXPECT_TRUE(c->Find("b:1").has_value());
}

TEST(KnownServersTest, DamagedFilesAreRefused) {
  TempDir dir;
  const std::string path = dir.File("known.json");
  const std::string k64(64, '0');
  const std::string t64(64, '1');
  const std::string bad[] = {
      "", "[]", "{\"version\":3,\"servers\":{}}", "{\"version\":2}", "{\"version\":2,\"servers\":{},\"x\":1}",
      "{\"version\":2,\"servers\":[]}", "{\"version\":2,\"servers\":{\"a:1\":\"" + k64 + "\"}}",
      "{\"version\":2,\"servers\":{\"a:1\":[]}}", "{\"version\":2,\"servers\":{\"a:1\":[1]}}",
      "{\"version\":2,\"servers\":{\"a:1\":[{\"key\":\"00\"}]}}",
      "{\"version\":2,\"servers\":{\"a:1\":[{\"key\":1}]}}",
      "{\"version\":2,\"servers\":{\"a:1\":[{\"key\":\"" + std::string(63, '0') + "g\"}]}}",
      "{\"version\":2,\"servers\":{\"a:1\":[{\"trust\":\"" + t64 + "\"}]}}",
      "{\"version\":2,\"servers\":{\"a:1\":[{\"key\":\"" + k64 + "\",\"trust\":\"00\"}]}}",
      "{\"version\":2,\"servers\":{\"a:1\":[{\"key\":\"" + k64 + "\",\"x\":1}]}}",
      // Two entries with one binding.
      "{\"version\":2,\"servers\":{\"a:1\":[{\"key\":\"" + k64 + "\"},{\"key\":\"" + k64 + "\"}]}}",
      "{\"version\":2,\"servers\":{\"a:1\":[{\"trust\":\"" + t64 + "\",\"key\":\"" + k64 + "\"},{\"trust\":\"" + t64 +
          "\",\"key\":\"" + k64 + "\"}]}}",
      // Endpoints that are not printable ASCII (valid JSON, even valid UTF-8).
      "{\"version\":2,\"servers\":{\"\":[{\"key\":\"" + k64 + "\"}]}}",
      "{\"version\":2,\"servers\":{\"a b:1\":[{\"key\":\"" + k64 + "\"}]}}",
      "{\"version\":2,\"servers\":{\"\\u00e9:1\":[{\"key\":\"" + k64 + "\"}]}}",
      "{\"version\":2,\"servers\":{\"a\\u0000:1\":[{\"key\":\"" + k64 + "\"}]}}",
  };
  for (const std::string& text : bad) {
    Write(path, text);
    EXPECT_THAT(KnownServers::Open(path), StatusIs(StatusCode::kDataLoss, "client.known_servers_corrupt")) << text;
  }
  auto k = KnownServers::InMemory();
  EXPECT_THAT(k->Remember("a:1", Bytes(31, 0)), StatusIs(StatusCode::kInvalidArgument, "client.known_servers_bad_key"));
  EXPECT_THAT(k->Remember("a:1", Bytes(31, 0), Bytes(32, 0)),
              StatusIs(StatusCode::kInvalidArgument, "client.known_servers_bad_key"));
  EXPECT_THAT(k->Remember("a:1", Bytes(32, 0)), IsOk());
  EXPECT_TRUE(k->Find("a:1").has_value());
}

// Version 1 keyed by endpoint only: those keys are bound to no trust
// configuration, so they are not used, and the next update rewrites the file.
TEST(KnownServersTest, VersionOneEntriesAreNotUsed) {
  TempDir dir;
  const std::string path = dir.File("known.json");
  Write(path, "{\"version\":1,\"servers\":{\"a:1\":\"" + std::string(64, '7') + "\"}}");
  auto k = KnownServers::Open(path);
  ASSERT_THAT(k, IsOk());
  EXPECT_FALSE((*k)->Find("a:1").has_value());
  EXPECT_FALSE((*k)->Find("a:1", Bytes(32, 1)).has_value());
  ASSERT_THAT((*k)->Remember("b:1", Bytes(32, 1), Bytes(32, 2)), IsOk());
  auto again = KnownServers::Open(path);
  ASSERT_THAT(again, IsOk());
  EXPECT_FALSE((*again)->Find("a:1").has_value());
  EXPECT_EQ((*again)->Find("b:1", Bytes(32, 1)), Bytes(32, 2));
}

// Finding: a key cached under one trust configuration was offered (IK, with
// the client's static key) under another.
TEST(KnownServersTest, EntriesAreBoundToTheTrustFingerprint) {
  TempDir dir;
  const std::string path = dir.File("known.json");
  const Bytes lenient(32, 0xa1), strict(32, 0xb2);
  {
    auto k = KnownServers::Open(path).value();
    ASSERT_THAT(k->Remember("s:1", lenient, Bytes(32, 1)), IsOk());
    EXPECT_EQ(k->Find("s:1", lenient), Bytes(32, 1));
    EXPECT_FALSE(k->Find("s:1", strict).has_value());
    EXPECT_FALSE(k->Find("s:1", Bytes(31, 0xa1)).has_value());
    // Both bindings live side by side; the newest is listed first.
    ASSERT_THAT(k->Remember("s:1", strict, Bytes(32, 2)), IsOk());
    EXPECT_EQ(k->Find("s:1", lenient), Bytes(32, 1));
    EXPECT_EQ(k->Find("s:1", strict), Bytes(32, 2));
    EXPECT_EQ(k->Find("s:1"), Bytes(32, 2));
  }
  auto k = KnownServers::Open(path).value();  // and survive a reload
  EXPECT_EQ(k->Find("s:1", lenient), Bytes(32, 1));
  EXPECT_EQ(k->Find("s:1", strict), Bytes(32, 2));
  ASSERT_THAT(k->Remember("s:1", lenient, Bytes(32, 3)), IsOk());  // replaced
  EXPECT_EQ(k->Find("s:1", lenient), Bytes(32, 3));
  EXPECT_EQ(k->Find("s:1", strict), Bytes(32, 2));

  // An unbound key (the caller vouches for it) serves every configuration
  // without a key of its own, until a bound one proves it stale.
  ASSERT_THAT(k->Remember("u:1", Bytes(32, 4)), IsOk());
  EXPECT_EQ(k->Find("u:1", lenient), Bytes(32, 4));
  ASSERT_THAT(k->Remember("u:1", strict, Bytes(32, 4)), IsOk());  // agrees: kept
  EXPECT_EQ(k->Find("u:1", lenient), Bytes(32, 4));
  ASSERT_THAT(k->Remember("u:1", strict, Bytes(32, 5)), IsOk());  // disagrees: dropped
  EXPECT_FALSE(k->Find("u:1", lenient).has_value());
  EXPECT_EQ(k->Find("u:1", strict), Bytes(32, 5));

  // At most 8 bindings per endpoint: the oldest goes.
  for (std::uint8_t i = 0; i < 9; ++i) ASSERT_THAT(k->Remember("m:1", Bytes(32, i), Bytes(32, i)), IsOk());
  EXPECT_FALSE(KnownServers::Open(path).value()->Find("m:1", Bytes(32, 0)).has_value());
  for (std::uint8_t i = 1; i < 9; ++i) EXPECT_EQ(KnownServers::Open(path).value()->Find("m:1", Bytes(32, i)), Bytes(32, i));

  ASSERT_THAT(k->Forget("s:1"), IsOk());
  EXPECT_FALSE(KnownServers::Open(path).value()->Find("s:1", strict).has_value());
  EXPECT_FALSE(KnownServers::Open(path).value()->Find("s:1").has_value());
}

// Finding: nlohmann's dump() threw type_error 316 for an endpoint that was
// not UTF-8 (ConnectOver accepts any cache key). Cache keys are now checked.
TEST(KnownServersTest, EndpointsMustBePrintableAscii) {
  TempDir dir;
  const std::string path = dir.File("known.json");
  auto k = KnownServers::Open(path).value();
  const std::string bad[] = {std::string("\xff\xfe:1"),
                             std::string("\xc3\x28:1"),
                             std::string("caf\xc3\xa9:1"),  // valid UTF-8, still not ASCII
                             std::string("a\0b:1", 5),
                             "a b:1",
                             "a\n:1",
                             "",
                             std::string(kMaxKnownServerEndpointLength + 1, 'a')};
  for (const std::string& e : bad) {
    EXPECT_FALSE(IsValidKnownServerEndpoint(e));
    EXPECT_THAT(k->Remember(e, Bytes(32, 1), Bytes(32, 2)),
                StatusIs(StatusCode::kInvalidArgument, "client.known_servers_bad_endpoint"));
    EXPECT_THAT(k->Remember(e, Bytes(32, 2)),
                StatusIs(StatusCode::kInvalidArgument, "client.known_servers_bad_endpoint"));
    EXPECT_THAT(k->Forget(e), StatusIs(StatusCode::kInvalidArgument, "client.known_servers_bad_endpoint"));
    EXPECT_FALSE(k->Find(e, Bytes(32, 1)).has_value());
    EXPECT_FALSE(k->Find(e).has_value());
  }
  const std::string longest(kMaxKnownServerEndpointLength, 'a');
  EXPECT_TRUE(IsValidKnownServerEndpoint(longest));
  EXPECT_THAT(k->Remember(longest, Bytes(32, 1), Bytes(32, 2)), IsOk());
  EXPECT_THAT(k->Remember("ws://[::1]:7000/v1/noise~!", Bytes(32, 1), Bytes(32, 2)), IsOk());
  auto again = KnownServers::Open(path);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ((*again)->Find(longest, Bytes(32, 1)), Bytes(32, 2));
}

TEST(IdentityTest, CreatedOnceThenLoadedAndModeChecked) {
  TempDir dir;
  const std::string path = dir.File("me.key");
  EXPECT_THAT(LoadIdentity(path), StatusIs(StatusCode::kNotFound, "client.identity_missing"));
  bool created = false;
  auto a = LoadOrCreateIdentity(path, &created);
  ASSERT_THAT(a, IsOk());
  EXPECT_TRUE(created);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto b = LoadOrCreateIdentity(path, &created);
  ASSERT_THAT(b, IsOk());
  EXPECT_FALSE(created);
  EXPECT_TRUE(std::equal((*a)->public_key().begin(), (*a)->public_key().end(), (*b)->public_key().begin()));

  // The `perimeter noise keygen` format: hex and a newline.
  const std::string keygen = dir.File("keygen.key");
  Write(keygen, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a\n");
  ::chmod(keygen.c_str(), 0600);
  auto alice = LoadIdentity(keygen);
  ASSERT_THAT(alice, IsOk());
  EXPECT_EQ(HexEncode((*alice)->public_key()), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");

  ::chmod(keygen.c_str(), 0644);
  EXPECT_THAT(LoadIdentity(keygen), StatusIs(StatusCode::kPermissionDenied, "client.identity_insecure_mode"));
  for (const std::string& text : {std::string("abcd\n"), std::string(64, 'g') + "\n", std::string(64, 'a') + "x",
                                   std::string(128, 'a')}) {
    Write(keygen, text);
    ::chmod(keygen.c_str(), 0600);
    EXPECT_THAT(LoadIdentity(keygen), StatusIs(StatusCode::kInvalidArgument, "client.identity_bad_file")) << text;
  }
}

}  // namespace
}  // namespace perimeter::client
