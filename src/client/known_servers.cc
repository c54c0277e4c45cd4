#include "perimeter/client/known_servers.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "perimeter/base/unique_fd.h"
#include "perimeter/crypto/random.h"

namespace perimeter::client {
namespace {

constexpr std::size_t kMaxFileSize = 4 << 20;
constexpr int kVersion = 2;
// Version 1 keyed by endpoint only; its entries are bound to no trust
// configuration and are not used (known_servers.h).
constexpr int kUnboundVersion = 1;

Status Io(const std::string& what, const std::string& path, int err) {
  return UnavailableError("client.known_servers_io",
                          "client: cannot " + what + " " + path + ": " + std::strerror(err));
}

Status BadEndpoint() {
  return InvalidArgumentError("client.known_servers_bad_endpoint",
                              "client: a known-servers endpoint is 1.." + std::to_string(kMaxKnownServerEndpointLength) +
                                  " printable ASCII characters");
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

// Quotes a name from the file for an error message (it may be anything).
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return "'" + out + (s.size() > 64 ? "...'" : "'");
}

}  // namespace

bool IsValidKnownServerEndpoint(std::string_view endpoint) {
  if (endpoint.empty() || endpoint.size() > kMaxKnownServerEndpointLength) return false;
  for (char c : endpoint) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

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
  std::map<std::string, std::vector<Entry>> servers;
  if (text.has_value()) {
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return Corrupt(path_, "not a JSON object");
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() != "version" && it.key() != "servers") return Corrupt(path_, "unknown member " + Printable(it.key()));
    }
    auto version = j.find("version");
    if (version == j.end() || !version->is_number_integer() ||
        (version->get<std::int64_t>() != kVersion && version->get<std::int64_t>() != kUnboundVersion)) {
      return Corrupt(path_, "version must be 2");
    }
    if (version->get<std::int64_t>() == kUnboundVersion) {
      // Keys bound to no trust configuration: never used (read as empty).
      servers_.clear();
      return Status::Ok();
    }
    auto list = j.find("servers");
    if (list == j.end() || !list->is_object()) return Corrupt(path_, "servers must be an object");
    for (auto it = list->begin(); it != list->end(); ++it) {
      const std::string name = Printable(it.key());
      if (!IsValidKnownServerEndpoint(it.key())) return Corrupt(path_, "the endpoint " + name + " is not valid");
      const nlohmann::json& entries = it.value();
      if (!entries.is_array() || entries.empty() || entries.size() > kMaxKnownServerEntriesPerEndpoint) {
        return Corrupt(path_, "the entries of " + name + " must be a list of 1.." +
                                  std::to_string(kMaxKnownServerEntriesPerEndpoint));
      }
      std::vector<Entry> parsed;
      for (const nlohmann::json& e : entries) {
        if (!e.is_object()) return Corrupt(path_, "an entry of " + name + " is not an object");
        for (auto m = e.begin(); m != e.end(); ++m) {
          if (m.key() != "trust" && m.key() != "key") {
            return Corrupt(path_, "an entry of " + name + " has an unknown member " + Printable(m.key()));
          }
        }
        auto hex32 = [&](const char* member) -> std::optional<Bytes> {
          auto v = e.find(member);
          if (v == e.end() || !v->is_string()) return std::nullopt;
          Result<Bytes> b = HexDecode(v->get<std::string>());
          if (!b.has_value() || b->size() != 32) return std::nullopt;
          return std::move(b).value();
        };
        Entry entry;
        std::optional<Bytes> key = hex32("key");
        if (!key.has_value()) return Corrupt(path_, "a key of " + name + " is not 32 bytes of hex");
        entry.key = std::move(*key);
        if (e.contains("trust")) {
          entry.trust = hex32("trust");
          if (!entry.trust.has_value()) {
            return Corrupt(path_, "a trust fingerprint of " + name + " is not 32 bytes of hex");
          }
        }
        for (const Entry& other : parsed) {
          if (other.trust == entry.trust) return Corrupt(path_, name + " has two entries with one binding");
        }
        parsed.push_back(std::move(entry));
      }
      servers[it.key()] = std::move(parsed);
    }
  }
  servers_ = std::move(servers);
  return Status::Ok();
}

Status KnownServers::WriteLocked() const {
  if (path_.empty()) return Status::Ok();
  std::string text;
  try {
    nlohmann::json j;
    j["version"] = kVersion;
    nlohmann::json list = nlohmann::json::object();
    for (const auto& [endpoint, entries] : servers_) {
      nlohmann::json array = nlohmann::json::array();
      for (const Entry& e : entries) {
        nlohmann::json item = nlohmann::json::object();
        if (e.trust.has_value()) item["trust"] = HexEncode(*e.trust);
        item["key"] = HexEncode(e.key);
        array.push_back(std::move(item));
      }
      list[endpoint] = std::move(array);
    }
    j["servers"] = std::move(list);
    // Endpoints are checked to be ASCII, so dump() cannot meet invalid UTF-8;
    // should it throw anyway, the cache reports an error instead.
    text = j.dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {
    return InternalError("client.internal", std::string("client: cannot encode the known-servers file: ") + e.what());
  }

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

std::optional<Bytes> KnownServers::Find(const std::string& endpoint, ByteView trust) const {
  if (trust.size() != 32) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = servers_.find(endpoint);
  if (it == servers_.end()) return std::nullopt;
  const Entry* unbound = nullptr;
  for (const Entry& e : it->second) {
    if (!e.trust.has_value()) {
      unbound = &e;
    } else if (std::equal(e.trust->begin(), e.trust->end(), trust.begin(), trust.end())) {
      return e.key;
    }
  }
  if (unbound != nullptr) return unbound->key;
  return std::nullopt;
}

std::optional<Bytes> KnownServers::Find(const std::string& endpoint) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = servers_.find(endpoint);
  if (it == servers_.end() || it->second.empty()) return std::nullopt;
  return it->second.front().key;
}

Status KnownServers::Remember(const std::string& endpoint, ByteView trust, ByteView server_static) {
  if (trust.size() != 32) {
    return InvalidArgumentError("client.known_servers_bad_key", "client: a trust fingerprint is 32 bytes");
  }
  return Store(endpoint, ToBytes(trust), server_static);
}

Status KnownServers::Remember(const std::string& endpoint, ByteView server_static) {
  return Store(endpoint, std::nullopt, server_static);
}

Status KnownServers::Store(const std::string& endpoint, std::optional<Bytes> trust, ByteView server_static) {
  if (!IsValidKnownServerEndpoint(endpoint)) return BadEndpoint();
  if (server_static.size() != 32) {
    return InvalidArgumentError("client.known_servers_bad_key", "client: a server static key is 32 bytes");
  }
  const Bytes key = ToBytes(server_static);
  std::lock_guard<std::mutex> lock(mu_);
  PERIMETER_RETURN_IF_ERROR(ReloadLocked());
  std::vector<Entry>& entries = servers_[endpoint];
  // Replace the entry of this binding; a bound key also retires an unbound
  // one that disagrees with it (that key was just found stale).
  std::erase_if(entries, [&](const Entry& e) {
    return e.trust == trust || (trust.has_value() && !e.trust.has_value() && e.key != key);
  });
  entries.insert(entries.begin(), Entry{std::move(trust), key});
  if (entries.size() > kMaxKnownServerEntriesPerEndpoint) entries.resize(kMaxKnownServerEntriesPerEndpoint);
  return WriteLocked();
}

Status KnownServers::Forget(const std::string& endpoint) {
  if (!IsValidKnownServerEndpoint(endpoint)) return BadEndpoint();
  std::lock_guard<std::mutex> lock(mu_);
  PERIMETER_RETURN_IF_ERROR(ReloadLocked());
  if (servers_.erase(endpoint) == 0) return Status::Ok();
  return WriteLocked();
}

}  // namespace perimeter::client
