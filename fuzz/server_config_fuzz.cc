// Fuzzes server::ApplyServerConfigYaml (the `perimeter serve` configuration
// file, YAML) on arbitrary text, then ValidateServerConfig on the result.
//
// Invariants (abort() on violation):
//   * no crash, and no exception escapes (yaml-cpp throws: the parser must
//     turn every exception into a server.config_* error);
//   * every error has a "server.config_" reason, and a failed apply leaves
//     the input config valid to use (it may be partly updated, as
//     documented: keys are applied in order);
//   * an accepted document yields values in the documented ranges
//     (durations 0..365 days, counts within their bounds);
//   * ValidateServerConfig never crashes and fails only with a server.*
//     reason.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz_check.h"
#include "perimeter/server/config.h"

namespace {

#define CHECK(cond) PERIMETER_FUZZ_CHECK(cond)

bool InRange(std::chrono::milliseconds d) {
  return d.count() >= 0 && d <= std::chrono::hours(24 * 365);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  perimeter::server::ServerConfig config;
  perimeter::Status s = [&] {
    try {
      return perimeter::server::ApplyServerConfigYaml(text, config);
    } catch (...) {
      std::abort();  // an exception escaped the parser
    }
  }();
  if (!s.ok()) {
    CHECK(s.reason().substr(0, 14) == "server.config_");
  } else {
    const perimeter::server::ServerOptions& o = config.server;
    CHECK(InRange(o.session.handshake_timeout) && InRange(o.session.idle_timeout) &&
          InRange(o.session.chunk_timeout) && InRange(o.write_timeout) && InRange(o.drain_timeout) &&
          InRange(o.evidence_refresh));
    CHECK(o.max_connections >= 1 && o.max_connections <= 1'000'000);
    CHECK(o.io_threads >= 1 && o.io_threads <= 256 && o.worker_threads >= 1 && o.worker_threads <= 256);
    CHECK(o.max_http_header_bytes >= 512 && o.max_http_header_bytes <= (1u << 20));
    CHECK(o.max_write_queue_bytes >= 65536 && o.max_write_queue_bytes <= (std::uint64_t{1} << 32));
  }
  perimeter::Status v = perimeter::server::ValidateServerConfig(config);
  if (!v.ok()) CHECK(v.reason().substr(0, 7) == "server.");
  return 0;
}
