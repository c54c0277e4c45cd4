// Internal to the client library (not installed): name resolution that
// honours a deadline. getaddrinfo cannot be interrupted, and Asio's resolver
// runs it on a thread that its io_context joins, so a stalled DNS server
// used to hold Dial() far past its deadline. Here:
//   * a numeric host (IPv4, IPv6) never reaches the resolver;
//   * a name is resolved by getaddrinfo on a detached helper thread; the
//     caller waits until the deadline and then returns kUnavailable
//     "client.timeout" without waiting for it. The abandoned thread finishes
//     on its own (when getaddrinfo returns) and drops its result.
//   * At most kMaxAbandonedResolutions abandoned lookups may be running at
//     once; beyond that a name fails at once with kUnavailable
//     "client.connect_failed" (a resolver that never answers must not pile
//     up threads).
//
// Thread-safe.
#ifndef PERIMETER_CLIENT_RESOLVE_H_
#define PERIMETER_CLIENT_RESOLVE_H_

#include <netdb.h>

#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "perimeter/base/result.h"
#include "perimeter/client/frame_connection.h"

namespace perimeter::client::internal {

inline constexpr std::size_t kMaxAbandonedResolutions = 8;

// getaddrinfo's signature; tests pass a slow one. Whatever it returns on
// success is released with ::freeaddrinfo.
using GetAddrInfoFn = int (*)(const char* node, const char* service, const addrinfo* hints, addrinfo** res);

// The TCP endpoints of `host` (a name or a numeric address, without
// brackets) at `port`, in getaddrinfo's order.
// Errors: kUnavailable "client.timeout" (the deadline passed),
// "client.connect_failed" (no such name, no address, too many abandoned
// lookups, no thread).
Result<std::vector<boost::asio::ip::tcp::endpoint>> ResolveTcp(const std::string& host, std::uint16_t port,
                                                                 Deadline deadline,
                                                                 GetAddrInfoFn getaddrinfo_fn = &::getaddrinfo);

// Abandoned lookups still running (for tests).
std::size_t AbandonedResolutions();

}  // namespace perimeter::client::internal

#endif  // PERIMETER_CLIENT_RESOLVE_H_
