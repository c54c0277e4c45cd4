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
  const std::string bad[] = {
      "", "[]", "{\"version\":2,\"servers\":{}}", "{\"version\":1}", "{\"version\":1,\"servers\":{},\"x\":1}",
      "{\"version\":1,\"servers\":{\"a:1\":\"00\"}}", "{\"version\":1,\"servers\":{\"a:1\":1}}",
      "{\"version\":1,\"servers\":{\"a:1\":\"" + std::string(63, '0') + "g\"}}"};
  for (const std::string& text : bad) {
    Write(path, text);
    EXPECT_THAT(KnownServers::Open(path), StatusIs(StatusCode::kDataLoss, "client.known_servers_corrupt")) << text;
  }
  auto k = KnownServers::InMemory();
  EXPECT_THAT(k->Remember("a:1", Bytes(31, 0)), StatusIs(StatusCode::kInvalidArgument, "client.known_servers_bad_key"));
  EXPECT_THAT(k->Remember("a:1", Bytes(32, 0)), IsOk());
  EXPECT_TRUE(k->Find("a:1").has_value());
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
