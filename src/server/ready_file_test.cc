#include "perimeter/server/ready_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "src/server/server_test_util.h"

namespace perimeter::server {
namespace {

using testing::IsOk;
using testing::StatusIs;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(WriteFileAtomically, WritesTheTextWithMode0644AndLeavesNothingElse) {
  testing::TempDir dir;
  const std::string path = dir.File("ready.json");
  const mode_t old = ::umask(077);
  const Status s = WriteFileAtomically(path, "{\"pid\":1}\n");
  ::umask(old);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(Slurp(path), "{\"pid\":1}\n");
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  // Replaced atomically on the next write.
  ASSERT_THAT(WriteFileAtomically(path, "second"), IsOk());
  EXPECT_EQ(Slurp(path), "second");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);  // no temporary file left behind
}

// Finding: the temporary name was path.tmp.<pid>, opened with
// O_CREAT|O_TRUNC and following symlinks, so whoever could write to the
// directory could plant a symlink there and have the server truncate and
// overwrite the file it points to.
TEST(WriteFileAtomically, NeverFollowsOrTruncatesPlantedFiles) {
  testing::TempDir dir;
  const std::string path = dir.File("ready.json");
  const std::string victim = dir.File("victim");
  std::ofstream(victim) << "precious";
  // Symlinks at the old predictable name and at a few guesses.
  const std::string planted = path + ".tmp." + std::to_string(::getpid());
  ASSERT_EQ(::symlink(victim.c_str(), planted.c_str()), 0);
  ASSERT_THAT(WriteFileAtomically(path, "ready"), IsOk());
  EXPECT_EQ(Slurp(victim), "precious");
  EXPECT_EQ(Slurp(path), "ready");
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  // A symlink at the destination itself is replaced, not followed.
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_EQ(::symlink(victim.c_str(), path.c_str()), 0);
  ASSERT_THAT(WriteFileAtomically(path, "again"), IsOk());
  EXPECT_EQ(Slurp(victim), "precious");
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(Slurp(path), "again");
}

TEST(WriteFileAtomically, ReportsFailure) {
  testing::TempDir dir;
  EXPECT_THAT(WriteFileAtomically(dir.File("missing/ready.json"), "x"),
              StatusIs(StatusCode::kUnavailable, "server.write_failed"));
}

}  // namespace
}  // namespace perimeter::server
