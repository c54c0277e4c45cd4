#include "perimeter/client/known_servers.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "perimeter/base/unique_fd.h"
#include "perimeter/crypto/random.h"

namespace perimeter::client {
namespace {

constexpr std::size_t kMaxFileSize = 4 << 20;
constexpr int kVersion = 1;

Status Io(const std::string& what, const std::string& path, int err) {
  return UnavailableError("client.known_servers_io",
                          "client: cannot " + what + " " + path + ": " + std::strerror(err));
}

Status Corrupt(const std::string& path, const std::string& why) {
  return DataLossError("client.known_servers_corrupt",
                       "client: known-servers file " + path + " is damaged (" + why + "); fix or delete it");
}

// Reads the whole file; nullopt if it does not exist.
Result<std::optional<std::string>> ReadAll(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Io("open", path, errno);
  }
  std::string data;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Io("read", path, errno);
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > kMaxFileSize) return Corrupt(path, "over 4 MiB");
  }
  return std::optional<std::string>(std::move(data));
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Io("write", path, errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<KnownServers>> KnownServers::Open(const std::string& path) {
  if (path.empty()) return InvalidArgumentError("client.known_servers_io", "client: empty known-servers path");
  std::unique_ptr<KnownServers> k(new KnownServers(path));
  {
    std::lock_guard<std::mutex> lock(k->mu_);
    PERIMETER_RETURN_IF_ERROR(k->ReloadLocked());
  }
  return k;
}

std::unique_ptr<KnownServers> KnownServers::InMemory() { return std::unique_ptr<KnownServers>(new KnownServers("")); }

Status KnownServers::ReloadLocked() {
  if (path_.empty()) return Status::Ok();
  PERIMETER_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadAll(path_));
  std::map<std::string, Bytes> servers;
  if (text.has_value()) {
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return Corrupt(path_, "not a JSON object");
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() != "version" && it.key() != "servers") return Corrupt(path_, "unknown member " + it.key());
    }
    auto version = j.find("version");
    if (version == j.end() || !version->is_number_integer() || version->get<std::int64_t>() != kVersion) {
      return Corrupt(path_, "version must be 1");
    }
    auto list = j.find("servers");
    if (list == j.end() || !list->is_object()) return Corrupt(path_, "servers must be an object");
    for (auto it = list->begin(); it != list->end(); ++it) {
      if (!it.value().is_string()) return Corrupt(path_, "the key of " + it.key() + " is not a string");
      Result<Bytes> key = HexDecode(it.value().get<std::string>());
      if (!key.has_value() || key->size() != 32 || it.key().empty()) {
        return Corrupt(path_, "the key of " + it.key() + " is not 32 bytes of hex");
      }
      servers[it.key()] = std::move(key).value();
    }
  }
  servers_ = std::move(servers);
  return Status::Ok();
}

Status KnownServers::WriteLocked() const {
  if (path_.empty()) return Status::Ok();
  nlohmann::json j;
  j["version"] = kVersion;
  nlohmann::json list = nlohmann::json::object();
  for (const auto& [endpoint, key] : servers_) list[endpoint] = HexEncode(key);
  j["servers"] = std::move(list);
  const std::string text = j.dump(2) + "\n";

  // A fresh temporary name next to the file, so the rename is atomic.
  Bytes nonce(8);
  PERIMETER_RETURN_IF_ERROR(crypto::RandomFill(nonce));
  const std::string tmp = path_ + ".tmp-" + HexEncode(nonce);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return Io("create", tmp, errno);
  Status s = WriteAll(fd.get(), text, tmp);
  if (s.ok() && ::fsync(fd.get()) != 0) s = Io("sync", tmp, errno);
  if (const int err = fd.Close(); s.ok() && err != 0) s = Io("close", tmp, err);
  if (s.ok() && ::rename(tmp.c_str(), path_.c_str()) != 0) s = Io("rename to", path_, errno);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  // Make the rename durable: sync the directory.
  std::string dir = std::filesystem::path(path_).parent_path().string();
  if (dir.empty()) dir = ".";
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.valid()) (void)::fsync(dfd.get());
  return Status::Ok();
}

std::optional<Bytes> KnownServers::Find(const std::string& endpoint) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = servers_.find(endpoint);
  if (it == servers_.end()) return std::nullopt;
  return it->second;
}

Status KnownServers::Remember(const std::string& endpoint, ByteView server_static) {
  if (server_static.size() != 32 || endpoint.empty()) {
    return InvalidArgumentError("client.known_servers_bad_key", "client: a server static key is 32 bytes");
  }
  std::lock_guard<std::mutex> lock(mu_);
  PERIMETER_RETURN_IF_ERROR(ReloadLocked());
  servers_[endpoint] = ToBytes(server_static);
  return WriteLocked();
}

Status KnownServers::Forget(const std::string& endpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  PERIMETER_RETURN_IF_ERROR(ReloadLocked());
  if (servers_.erase(endpoint) == 0) return Status::Ok();
  return WriteLocked();
}

}  // namespace perimeter::client
