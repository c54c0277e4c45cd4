#include "perimeter/server/ready_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "perimeter/base/bytes.h"
#include "perimeter/base/unique_fd.h"
#include "perimeter/crypto/random.h"

namespace perimeter::server {
namespace {

Status WriteFailed(const std::string& what) {
  return UnavailableError("server.write_failed", "server: cannot write " + what + ": " + std::strerror(errno));
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view text) {
  std::string tmp;
  UniqueFd fd;
  for (int attempt = 0; attempt < 8 && !fd.valid(); ++attempt) {
    Bytes suffix(8);
    PERIMETER_RETURN_IF_ERROR(crypto::RandomFill(MutableByteView(suffix)));
    tmp = path + ".tmp." + HexEncode(suffix);
    fd = UniqueFd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd.valid() && errno != EEXIST) return WriteFailed(tmp);
  }
  if (!fd.valid()) return WriteFailed(tmp);
  const auto fail = [&tmp](const std::string& what) {
    const Status s = WriteFailed(what);
    ::unlink(tmp.c_str());
    return s;
  };
  // The mode passed to open() is reduced by the umask; readiness probes and
  // tests in other accounts read this file.
  if (::fchmod(fd.get(), 0644) != 0) return fail(tmp);
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(tmp);
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || fd.Close() != 0) return fail(tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(path);
  return Status::Ok();
}

}  // namespace perimeter::server
