// TempDir: a fresh directory under the system's temporary directory
// ($TMPDIR or /tmp), removed with everything in it when the object goes
// away. For tests only. Not copyable; thread-compatible.
#ifndef PERIMETER_TESTS_TESTING_TEMP_DIR_H_
#define PERIMETER_TESTS_TESTING_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace perimeter::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "perimeter-test.XXXXXX").string();
    if (char* p = ::mkdtemp(tmpl.data()); p != nullptr) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Empty if the directory could not be created.
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace perimeter::testing

#endif  // PERIMETER_TESTS_TESTING_TEMP_DIR_H_
