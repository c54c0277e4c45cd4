#include "perimeter/keys/master_secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "perimeter/base/unique_fd.h"
#include "perimeter/crypto/random.h"

namespace perimeter::keys {
namespace {

// Largest file we accept: 64 hex digits + "\r\n".
constexpr std::size_t kMaxFileSize = 66;

Status CheckGeneration(Generation g) {
  if (g == 0) return InvalidArgumentError("keys.bad_generation", "keys: generation 0 is not valid");
  return Status::Ok();
}

int HexValue(std::uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes 64 hex digits into `out` (32 bytes) without leaving copies in
// non-zeroizing buffers. False on a non-hex character.
bool DecodeHexSecret(ByteView hex, SecretBytes& out) {
  out = SecretBytes(kMasterSecretSize);
  for (std::size_t i = 0; i < kMasterSecretSize; ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      out.clear();
      return false;
    }
    out.data()[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return true;
}

}  // namespace

Result<MasterSecret> MasterSecret::FromBytes(Generation generation, ByteView secret) {
  PERIMETER_RETURN_IF_ERROR(CheckGeneration(generation));
  if (secret.size() != kMasterSecretSize) {
    return InvalidArgumentError("keys.bad_master_secret", "keys: a master secret is 32 bytes");
  }
  return MasterSecret(generation, SecretBytes(secret));
}

Result<MasterSecret> MasterSecret::Generate(Generation generation) {
  PERIMETER_RETURN_IF_ERROR(CheckGeneration(generation));
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes secret, crypto::RandomSecret(kMasterSecretSize));
  return MasterSecret(generation, std::move(secret));
}

Result<MasterSecret> MasterSecret::LoadFromFile(const std::string& path, Generation generation) {
  PERIMETER_RETURN_IF_ERROR(CheckGeneration(generation));
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
  if (!fd.valid()) {
    const int err = errno;
    if (err == ENOENT) {
      return NotFoundError("keys.file_not_found", "keys: master secret file not found: " + path);
    }
    if (err == ELOOP) {
      return FailedPreconditionError("keys.not_regular_file",
                                     "keys: master secret file is a symlink: " + path);
    }
    return UnavailableError("keys.io", "keys: cannot open master secret file " + path + ": " +
                                           std::strerror(err));
  }
  // Checks are on the opened descriptor, so the file cannot be swapped
  // between the check and the read.
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return UnavailableError("keys.io", "keys: cannot stat master secret file " + path);
  }
  if (!S_ISREG(st.st_mode)) {
    return FailedPreconditionError("keys.not_regular_file",
                                   "keys: master secret path is not a regular file: " + path);
  }
  if ((st.st_mode & 077) != 0) {
    return FailedPreconditionError(
        "keys.insecure_file_mode",
        "keys: master secret file must not be accessible by group or others (chmod 600): " + path);
  }
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    return FailedPreconditionError("keys.insecure_file_owner",
                                   "keys: master secret file is owned by another user: " + path);
  }
  // Read one byte more than the largest valid file to detect oversize files.
  SecretBytes buf(kMaxFileSize + 1);
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::read(fd.get(), buf.data() + got, buf.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return UnavailableError("keys.io", "keys: cannot read master secret file " + path);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  auto bad = [&path] {
    return InvalidArgumentError("keys.bad_master_secret_file",
                                "keys: master secret file must hold 32 raw bytes or 64 hex "
                                "digits: " + path);
  };
  if (got == kMasterSecretSize) {
    return MasterSecret(generation, SecretBytes(ByteView(buf.data(), got)));
  }
  std::size_t hex_len = got;
  if (hex_len == 65 && buf.data()[64] == '\n') {
    hex_len = 64;
  } else if (hex_len == 66 && buf.data()[64] == '\r' && buf.data()[65] == '\n') {
    hex_len = 64;
  }
  if (hex_len != 2 * kMasterSecretSize) return bad();
  SecretBytes secret;
  if (!DecodeHexSecret(ByteView(buf.data(), hex_len), secret)) return bad();
  return MasterSecret(generation, std::move(secret));
}

}  // namespace perimeter::keys
