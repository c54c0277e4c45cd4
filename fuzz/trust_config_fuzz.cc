// Fuzzes client::ParseTrustConfig (the client's trust file, YAML) on
// arbitrary text. Relative paths resolve against an empty temporary
// directory (created once per process), so `roots.arks` / `crls` entries
// fail with trust.file_missing unless they name an absolute path; the
// parser's structure checks (keys, types, hex, lengths, policy) are what is
// exercised.
//
// Invariants (abort() on violation):
//   * no crash, and no exception escapes (yaml-cpp throws: the parser must
//     turn every exception into a trust.* error);
//   * every error has a "trust." reason;
//   * an accepted configuration trusts at least one root and, unless
//     allow_any_measurement, lists at least one 48-byte measurement; every
//     host_data value is 32 bytes; max_vmpl <= 3.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include <stdlib.h>

#include "fuzz_check.h"
#include "perimeter/client/trust_config.h"

namespace {

#define CHECK(cond) PERIMETER_FUZZ_CHECK(cond)

std::string* g_dir = nullptr;

void RemoveDir() {
  std::error_code ec;
  if (g_dir != nullptr) std::filesystem::remove_all(*g_dir, ec);
}

const std::string& BaseDir() {
  if (g_dir == nullptr) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "perimeter-fuzz-trust.XXXXXX").string();
    CHECK(::mkdtemp(tmpl.data()) != nullptr);
    g_dir = new std::string(tmpl);
    std::atexit(RemoveDir);
  }
  return *g_dir;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  BaseDir();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  perimeter::Result<perimeter::client::TrustConfig> config = [&] {
    try {
      return perimeter::client::ParseTrustConfig(text, BaseDir());
    } catch (...) {
      std::abort();  // an exception escaped the parser
    }
  }();
  if (!config.has_value()) {
    CHECK(config.error().reason().substr(0, 6) == "trust.");
    return 0;
  }
  CHECK(!config->roots.arks.empty());
  CHECK(!config->roots_summary.empty());
  for (const perimeter::Bytes& m : config->policy.measurements) CHECK(m.size() == 48);
  for (const perimeter::Bytes& h : config->policy.host_data) CHECK(h.size() == 32);
  CHECK(config->policy.max_vmpl <= 3);
  return 0;
}
