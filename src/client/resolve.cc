// ResolveTcp(): see resolve.h. The helper thread and its caller share a
// Lookup through a shared_ptr; whichever of them finishes last frees it, so
// an abandoned thread never touches anything of the caller's.
#include "client/resolve.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace perimeter::client::internal {
namespace {

using tcp = boost::asio::ip::tcp;

std::atomic<std::size_t> g_abandoned{0};

struct Lookup {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;       // GUARDED_BY(mu)
  bool abandoned = false;  // GUARDED_BY(mu): the caller stopped waiting
  int rc = 0;              // getaddrinfo's result
  int error = 0;           // errno, for EAI_SYSTEM
  std::vector<tcp::endpoint> endpoints;
};

// The helper thread: everything it uses is its own or in `lookup`.
void RunLookup(std::shared_ptr<Lookup> lookup, std::string host, std::string service, GetAddrInfoFn fn) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  int rc = fn(host.c_str(), service.c_str(), &hints, &list);
  const int error = errno;
  std::vector<tcp::endpoint> endpoints;
  try {
    for (const addrinfo* a = list; rc == 0 && a != nullptr; a = a->ai_next) {
      if (a->ai_addr == nullptr || (a->ai_family != AF_INET && a->ai_family != AF_INET6)) continue;
      tcp::endpoint e;
      if (a->ai_addrlen > e.capacity()) continue;
      std::memcpy(e.data(), a->ai_addr, a->ai_addrlen);
      e.resize(a->ai_addrlen);
      endpoints.push_back(e);
    }
  } catch (const std::exception&) {
    rc = EAI_MEMORY;
    endpoints.clear();
  }
  if (list != nullptr) ::freeaddrinfo(list);
  std::lock_guard<std::mutex> lock(lookup->mu);
  lookup->done = true;
  lookup->rc = rc;
  lookup->error = error;
  lookup->endpoints = std::move(endpoints);
  if (lookup->abandoned) g_abandoned.fetch_sub(1);
  lookup->cv.notify_all();
}

}  // namespace

std::size_t AbandonedResolutions() { return g_abandoned.load(); }

Result<std::vector<tcp::endpoint>> ResolveTcp(const std::string& host, std::uint16_t port, Deadline deadline,
                                              GetAddrInfoFn getaddrinfo_fn) {
  // A numeric address needs no resolver at all.
  boost::system::error_code ec;
  const boost::asio::ip::address address = boost::asio::ip::make_address(host, ec);
  if (!ec) return std::vector<tcp::endpoint>{tcp::endpoint(address, port)};

  if (g_abandoned.load() >= kMaxAbandonedResolutions) {
    return UnavailableError(kConnectFailed, "client: cannot resolve " + host + ": " +
                                                std::to_string(kMaxAbandonedResolutions) +
                                                " earlier lookups are still stalled (the resolver is not answering)");
  }
  auto lookup = std::make_shared<Lookup>();
  try {
    std::thread(RunLookup, lookup, host, std::to_string(port), getaddrinfo_fn).detach();
  } catch (const std::system_error& e) {
    return UnavailableError(kConnectFailed, "client: cannot resolve " + host + ": no thread (" + e.what() + ")");
  }
  std::unique_lock<std::mutex> lock(lookup->mu);
  if (!lookup->cv.wait_until(lock, deadline, [&] { return lookup->done; })) {
    // Do not wait for getaddrinfo: the thread drops its result when it ends.
    lookup->abandoned = true;
    g_abandoned.fetch_add(1);
    return UnavailableError(kConnectionTimeout, "client: resolving " + host + " timed out");
  }
  if (lookup->rc != 0) {
    const std::string why = lookup->rc == EAI_SYSTEM ? std::strerror(lookup->error) : ::gai_strerror(lookup->rc);
    return UnavailableError(kConnectFailed, "client: cannot resolve " + host + ": " + why);
  }
  if (lookup->endpoints.empty()) {
    return UnavailableError(kConnectFailed, "client: cannot resolve " + host + ": no address");
  }
  return std::move(lookup->endpoints);
}

}  // namespace perimeter::client::internal
