#include "perimeter/client/identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "perimeter/base/secret_bytes.h"
#include "perimeter/base/unique_fd.h"

namespace perimeter::client {
namespace {

constexpr std::size_t kHexSize = 64;

Status Io(const std::string& what, const std::string& path, int err) {
  return UnavailableError("client.identity_io", "client: cannot " + what + " " + path + ": " + std::strerror(err));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::shared_ptr<const crypto::XdhPrivateKey>> ReadFrom(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Io("stat", path, errno);
  if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
    return PermissionDeniedError("client.identity_insecure_mode",
                                 "client: " + path + " must be a regular file only its owner can read (mode 0600)");
  }
  // 64 hex digits, optionally followed by whitespace; read a little more to
  // see what follows.
  SecretArray<kHexSize + 8> text;
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Io("read", path, errno);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  auto bad = [&]() {
    return InvalidArgumentError("client.identity_bad_file",
                                "client: " + path + " does not hold a 32-byte hex key (perimeter noise keygen)");
  };
  if (got < kHexSize) return bad();
  for (std::size_t i = kHexSize; i < got; ++i) {
    const char c = static_cast<char>(text.data()[i]);
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') return bad();
  }
  if (got == text.size()) return bad();  // more than a key and a little whitespace
  SecretArray<32> raw;
  for (std::size_t i = 0; i < 32; ++i) {
    const int hi = HexValue(static_cast<char>(text.data()[2 * i]));
    const int lo = HexValue(static_cast<char>(text.data()[2 * i + 1]));
    if (hi < 0 || lo < 0) return bad();
    raw.data()[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  PERIMETER_ASSIGN_OR_RETURN(crypto::XdhPrivateKey key,
                             crypto::XdhPrivateKey::FromBytes(crypto::XdhAlg::kX25519, raw.view()));
  return std::make_shared<const crypto::XdhPrivateKey>(std::move(key));
}

}  // namespace

Result<std::shared_ptr<const crypto::XdhPrivateKey>> LoadIdentity(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
  if (!fd.valid()) {
    if (errno == ENOENT) return NotFoundError("client.identity_missing", "client: no identity key file " + path);
    return Io("open", path, errno);
  }
  return ReadFrom(fd.get(), path);
}

Result<std::shared_ptr<const crypto::XdhPrivateKey>> LoadOrCreateIdentity(const std::string& path, bool* created) {
  if (created != nullptr) *created = false;
  Result<std::shared_ptr<const crypto::XdhPrivateKey>> existing = LoadIdentity(path);
  if (existing.has_value() || existing.error().code() != StatusCode::kNotFound) return existing;

  PERIMETER_ASSIGN_OR_RETURN(crypto::XdhPrivateKey key, crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519));
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes raw, key.ExportPrivate());
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) {
    // Another process created it first: use theirs.
    if (errno == EEXIST) return LoadIdentity(path);
    return Io("create", path, errno);
  }
  SecretBytes text(kHexSize + 1);
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < 32; ++i) {
    text.data()[2 * i] = static_cast<std::uint8_t>(kDigits[raw.data()[i] >> 4]);
    text.data()[2 * i + 1] = static_cast<std::uint8_t>(kDigits[raw.data()[i] & 0xf]);
  }
  text.data()[kHexSize] = '\n';
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::unlink(path.c_str());
      return Io("write", path, err);
    }
    done += static_cast<std::size_t>(n);
  }
  int err = ::fsync(fd.get()) == 0 ? 0 : errno;
  if (const int close_err = fd.Close(); err == 0) err = close_err;
  if (err != 0) {
    ::unlink(path.c_str());
    return Io("sync", path, err);
  }
  if (created != nullptr) *created = true;
  return std::make_shared<const crypto::XdhPrivateKey>(std::move(key));
}

}  // namespace perimeter::client
