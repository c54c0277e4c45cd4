// Durability: a child process writes records and reports each acknowledged
// Put over a pipe; the parent kills it with SIGKILL mid-stream, reopens the
// store and checks that every acknowledged record is present and correct.
//
// This exercises process crashes (the OS keeps the page cache). Power loss
// additionally relies on synchronous=FULL fsyncing each commit, which a test
// cannot observe without a fault-injecting file system.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>

#include "perimeter/store/record_store.h"
#include "store/store_test_util.h"

namespace perimeter::store {
namespace {

using namespace ::perimeter::store::testing;  // NOLINT

constexpr std::uint32_t kMaxWrites = 2000;

std::string KeyOf(std::uint32_t i) { return "rec/" + std::to_string(i); }
Bytes ValueOf(std::uint32_t i) {
  Bytes v(256 + i % 512);
  for (std::size_t j = 0; j < v.size(); ++j) v[j] = static_cast<std::uint8_t>(i * 31 + j);
  return v;
}

// Runs in the forked child: only async-signal-safe-enough work, no gtest.
[[noreturn]] void ChildWriter(const std::string& path, keys::PodKeys* keys, int fd) {
  auto store = RecordStore::Open(path, keys);
  if (!store.has_value()) ::_exit(2);
  for (std::uint32_t i = 0; i < kMaxWrites; ++i) {
    if (!(*store)->Put(User(1), KeyOf(i), ValueOf(i)).ok()) ::_exit(3);
    // Acknowledge only after Put returned OK.
    if (::write(fd, &i, sizeof i) != static_cast<ssize_t>(sizeof i)) ::_exit(4);
  }
  ::_exit(0);
}

TEST(Durability, AcknowledgedPutsSurviveKill9) {
  TempDir dir;
  auto keys = MakeKeys(1);
  const std::string path = dir.File("records.db");
  // Create the store (schema) first, so the child only writes records.
  ASSERT_THAT(RecordStore::Open(path, keys.get()), IsOk());

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    ChildWriter(path, keys.get(), fds[1]);
  }
  ::close(fds[1]);

  // Read acknowledgements; kill after a random-ish number of them or 5 s.
  std::set<std::uint32_t> acked;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  const std::uint32_t kill_after = 150 + static_cast<std::uint32_t>(::getpid() % 200);
  bool killed = false;
  while (std::chrono::steady_clock::now() < deadline) {
    std::uint32_t i = 0;
    const ssize_t n = ::read(fds[0], &i, sizeof i);
    if (n != static_cast<ssize_t>(sizeof i)) break;  // child finished or died
    acked.insert(i);
    if (acked.size() >= kill_after) {
      ASSERT_EQ(::kill(pid, SIGKILL), 0);
      killed = true;
      break;
    }
  }
  if (!killed) ::kill(pid, SIGKILL);  // bounded either way
  // Acks already in the pipe were acknowledged before the kill: count them.
  std::uint32_t i = 0;
  while (::read(fds[0], &i, sizeof i) == static_cast<ssize_t>(sizeof i)) acked.insert(i);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
      << "child failed with status " << status;
  ASSERT_GT(acked.size(), 0u);

  auto store = RecordStore::Open(path, keys.get());
  ASSERT_THAT(store, IsOk());
  for (std::uint32_t k : acked) {
    auto v = (*store)->Get(User(1), KeyOf(k));
    ASSERT_THAT(v, IsOk()) << "acknowledged record " << k << " lost";
    EXPECT_EQ(*v, ValueOf(k)) << k;
  }
  // Writes are sequential: everything acknowledged is a prefix, and at most
  // one unacknowledged write (in flight at the kill) may also be present.
  const auto count = (*store)->Count(User(1)).value();
  EXPECT_GE(count, acked.size());
  EXPECT_LE(count, acked.size() + 1);
  EXPECT_EQ(*acked.rbegin() + 1, acked.size());
  std::printf("durability: %zu acknowledged writes before SIGKILL, %llu records after reopen\n",
              acked.size(), static_cast<unsigned long long>(count));
}

}  // namespace
}  // namespace perimeter::store
