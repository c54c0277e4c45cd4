#include "perimeter/keys/master_secret.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>

#include "perimeter/keys/derived_key.h"
#include "perimeter/keys/keyring.h"
#include "perimeter/keys/pod_keys.h"
#include "tests/testing/matchers.h"

namespace perimeter::keys {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

// Secret types must not be printable or comparable with ==: neither can be
// used by accident in a log line or a variable-time comparison.
template <typename T>
concept Streamable = requires(std::ostream& os, const T& t) { os << t; };
template <typename T>
concept EqualityComparable = requires(const T& a, const T& b) { a == b; };
static_assert(!Streamable<MasterSecret> && !EqualityComparable<MasterSecret>);
static_assert(!Streamable<DerivedKey> && !EqualityComparable<DerivedKey>);
static_assert(!Streamable<Keyring> && !EqualityComparable<Keyring>);
static_assert(!Streamable<PodKeys> && !EqualityComparable<PodKeys>);
static_assert(!Streamable<SecretBytes> && !EqualityComparable<SecretBytes>);

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "keys_test.XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    if (p != nullptr) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string WriteFile(const TempDir& dir, const std::string& name, const std::string& content,
                      mode_t mode) {
  std::string path = dir.File(name);
  {
    std::ofstream f(path, std::ios::binary);
    f << content;
  }
  EXPECT_EQ(::chmod(path.c_str(), mode), 0);
  return path;
}

const char kHex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

Bytes Counting() {
  Bytes b;
  for (int i = 0; i < 32; ++i) b.push_back(static_cast<std::uint8_t>(i));
  return b;
}

TEST(MasterSecret, FromBytesChecksSizeAndGeneration) {
  EXPECT_THAT(MasterSecret::FromBytes(1, Bytes(31, 0)),
              StatusIs(StatusCode::kInvalidArgument, "keys.bad_master_secret"));
  EXPECT_THAT(MasterSecret::FromBytes(0, Bytes(32, 0)),
              StatusIs(StatusCode::kInvalidArgument, "keys.bad_generation"));
  auto m = MasterSecret::FromBytes(7, Counting());
  ASSERT_THAT(m, IsOk());
  EXPECT_EQ(m->generation(), 7u);
  EXPECT_EQ(ToBytes(m->ExportRaw(InsecureRawKeyAccess())), Counting());
}

TEST(MasterSecret, GenerateGivesDistinctSecrets) {
  auto a = MasterSecret::Generate(1), b = MasterSecret::Generate(1);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_NE(ToBytes(a->ExportRaw(InsecureRawKeyAccess())),
            ToBytes(b->ExportRaw(InsecureRawKeyAccess())));
}

TEST(MasterSecret, LoadsRawAndHexFiles) {
  TempDir dir;
  const Bytes raw = Counting();
  const std::string forms[] = {std::string(raw.begin(), raw.end()), kHex,
                               std::string(kHex) + "\n", std::string(kHex) + "\r\n"};
  int i = 0;
  for (const std::string& content : forms) {
    auto path = WriteFile(dir, "m" + std::to_string(i++), content, 0600);
    auto m = MasterSecret::LoadFromFile(path, 3);
    ASSERT_THAT(m, IsOk()) << i;
    EXPECT_EQ(m->generation(), 3u);
    EXPECT_EQ(ToBytes(m->ExportRaw(InsecureRawKeyAccess())), raw) << i;
  }
  std::string upper = kHex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto m = MasterSecret::LoadFromFile(WriteFile(dir, "upper", upper, 0400), 1);
  ASSERT_THAT(m, IsOk());
  EXPECT_EQ(ToBytes(m->ExportRaw(InsecureRawKeyAccess())), raw);
}

TEST(MasterSecret, RejectsGroupOrWorldAccessibleFile) {
  TempDir dir;
  for (mode_t mode : {0640u, 0604u, 0660u, 0644u, 0666u, 0610u, 0601u, 0620u, 0602u}) {
    auto path = WriteFile(dir, "m", kHex, mode);
    EXPECT_THAT(MasterSecret::LoadFromFile(path, 1),
                StatusIs(StatusCode::kFailedPrecondition, "keys.insecure_file_mode"))
        << std::oct << mode;
  }
}

TEST(MasterSecret, RejectsMalformedFiles) {
  TempDir dir;
  const std::string bad[] = {
      "",
      std::string(31, 'x'),
      std::string(33, 'x'),
      std::string(kHex).substr(0, 62),
      std::string(kHex) + "\n\n",
      std::string(kHex) + " ",
      std::string(kHex).replace(5, 1, "g"),
      " " + std::string(kHex),
      std::string(kHex) + std::string(kHex),
      std::string(4096, 'a'),
  };
  int i = 0;
  for (const std::string& content : bad) {
    auto path = WriteFile(dir, "bad" + std::to_string(i++), content, 0600);
    EXPECT_THAT(MasterSecret::LoadFromFile(path, 1),
                StatusIs(StatusCode::kInvalidArgument, "keys.bad_master_secret_file"))
        << i;
  }
}

TEST(MasterSecret, RejectsMissingSymlinkDirectoryAndGenerationZero) {
  TempDir dir;
  EXPECT_THAT(MasterSecret::LoadFromFile(dir.File("absent"), 1),
              StatusIs(StatusCode::kNotFound, "keys.file_not_found"));
  auto target = WriteFile(dir, "target", kHex, 0600);
  ASSERT_EQ(::symlink(target.c_str(), dir.File("link").c_str()), 0);
  EXPECT_THAT(MasterSecret::LoadFromFile(dir.File("link"), 1),
              StatusIs(StatusCode::kFailedPrecondition, "keys.not_regular_file"));
  ASSERT_EQ(::mkdir(dir.File("d").c_str(), 0700), 0);
  EXPECT_THAT(MasterSecret::LoadFromFile(dir.File("d"), 1),
              StatusIs(StatusCode::kFailedPrecondition, "keys.not_regular_file"));
  EXPECT_THAT(MasterSecret::LoadFromFile(target, 0),
              StatusIs(StatusCode::kInvalidArgument, "keys.bad_generation"));
}

TEST(MasterSecret, ErrorMessagesNeverContainTheSecret) {
  TempDir dir;
  auto path = WriteFile(dir, "m", kHex, 0644);
  auto r = MasterSecret::LoadFromFile(path, 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().ToString().find("0001020304"), std::string::npos);
}

TEST(Keyring, AddCurrentRetire) {
  Keyring ring;
  EXPECT_TRUE(ring.empty());
  EXPECT_FALSE(ring.current().has_value());
  ASSERT_THAT(ring.Add(MasterSecret::Generate(1).value()), IsOk());
  EXPECT_EQ(ring.current(), 1u);
  EXPECT_THAT(ring.Add(MasterSecret::Generate(1).value()),
              StatusIs(StatusCode::kAlreadyExists, "keys.generation_exists"));
  ASSERT_THAT(ring.Add(MasterSecret::Generate(2).value()), IsOk());
  EXPECT_EQ(ring.current(), 1u);  // adding does not switch
  EXPECT_THAT(ring.SetCurrent(3), StatusIs(StatusCode::kNotFound, "keys.unknown_generation"));
  ASSERT_THAT(ring.SetCurrent(2), IsOk());
  EXPECT_THAT(ring.Retire(2), StatusIs(StatusCode::kFailedPrecondition, "keys.retire_current"));
  ASSERT_THAT(ring.Retire(1), IsOk());
  EXPECT_THAT(ring.Get(1), StatusIs(StatusCode::kNotFound, "keys.unknown_generation"));
  EXPECT_THAT(ring.Retire(1), StatusIs(StatusCode::kNotFound, "keys.unknown_generation"));
  EXPECT_EQ(ring.generations(), std::vector<Generation>{2});
}

}  // namespace
}  // namespace perimeter::keys
