#include "perimeter/server/workload_service.h"

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "perimeter/base/bytes.h"
#include "perimeter/crypto/random.h"
#include "perimeter/session/limits.h"

namespace perimeter::server {
namespace {

constexpr std::uint8_t kLongTokenMarker = 0xff;
constexpr std::size_t kLongTokenHandleSize = 17;

std::string_view ResponseReason(const Status& s) {
  const std::string_view r = s.reason();
  if (r == "store.not_found") return kReasonNotFound;
  if (r == "store.bad_page_token") return kReasonBadPageToken;
  if (r == "store.corrupt") return kReasonDataLoss;
  if (r == "store.io" || r == "store.key_unavailable" || r == kReasonUnavailable) return kReasonUnavailable;
  return kReasonInternal;
}

StatusCode ResponseCode(std::string_view reason) {
  if (reason == kReasonNotFound) return StatusCode::kNotFound;
  if (reason == kReasonBadPageToken) return StatusCode::kInvalidArgument;
  if (reason == kReasonDataLoss) return StatusCode::kDataLoss;
  if (reason == kReasonUnavailable) return StatusCode::kUnavailable;
  return StatusCode::kInternal;
}

}  // namespace

std::string_view OperationName(session::Operation op) {
  switch (op) {
    case session::Operation::kWhoami:
      return "whoami";
    case session::Operation::kPut:
      return "put";
    case session::Operation::kGet:
      return "get";
    case session::Operation::kDelete:
      return "delete";
    case session::Operation::kList:
      return "list";
  }
  return "unknown";
}

WorkloadService::WorkloadService(store::RecordStore* store, Metrics* metrics, UserQuota quota)
    : store_(store), metrics_(metrics), quota_(quota) {}

session::Response WorkloadService::ErrorResponse(const session::Request& request, const Status& status) {
  const std::string_view reason = ResponseReason(status);
  return session::Response::Error(request.id, request.operation(), ResponseCode(reason), std::string(reason));
}

session::Response WorkloadService::Execute(std::string_view user_id, const session::Request& request) {
  session::Response response = Run(user_id, request);
  if (metrics_ != nullptr) {
    metrics_->Operation(OperationName(request.operation()), StatusCodeName(response.code));
  }
  return response;
}

session::Response WorkloadService::Run(std::string_view user_id, const session::Request& request) {
  const auto unavailable = [&] {
    return ErrorResponse(request, UnavailableError(kReasonUnavailable, "server: no record store"));
  };
  return std::visit(
      [&](const auto& body) -> session::Response {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, session::WhoamiRequest>) {
          return session::Response::Ok(request.id, session::WhoamiResult{std::string(user_id)});
        } else if constexpr (std::is_same_v<T, session::PutRequest>) {
          if (store_ == nullptr) return unavailable();
          return PutWithQuota(user_id, request, body);
        } else if constexpr (std::is_same_v<T, session::GetRequest>) {
          if (store_ == nullptr) return unavailable();
          Result<Bytes> v = store_->Get(user_id, body.key);
          if (!v.has_value()) return ErrorResponse(request, v.error());
          return session::Response::Ok(request.id, session::GetResult{std::move(v).value()});
        } else if constexpr (std::is_same_v<T, session::DeleteRequest>) {
          if (store_ == nullptr) return unavailable();
          return DeleteWithQuota(user_id, request, body);
        } else {
          static_assert(std::is_same_v<T, session::ListRequest>);
          if (store_ == nullptr) return unavailable();
          return List(user_id, request, body);
        }
      },
      request.body);
}

Result<store::UserUsage*> WorkloadService::CachedUsage(std::string_view user_id) {
  auto it = usage_.find(user_id);
  if (it != usage_.end()) return &it->second;
  PERIMETER_ASSIGN_OR_RETURN(store::UserUsage usage, store_->Usage(user_id));
  // The store is the truth: dropping any entry is safe (it is read again).
  if (usage_.size() >= kMaxCachedUsages) usage_.erase(usage_.begin());
  return &usage_.emplace(std::string(user_id), usage).first->second;
}

session::Response WorkloadService::PutWithQuota(std::string_view user_id, const session::Request& request,
                                                const session::PutRequest& put) {
  if (quota_.max_bytes == 0 && quota_.max_records == 0) {  // no quota: no accounting
    Status s = store_->Put(user_id, put.key, put.value);
    if (!s.ok()) return ErrorResponse(request, s);
    return session::Response::Ok(request.id, session::PutResult{});
  }
  std::lock_guard<std::mutex> lock(quota_mu_);
  Result<store::UserUsage*> usage = CachedUsage(user_id);
  if (!usage.has_value()) return ErrorResponse(request, usage.error());
  std::optional<std::uint64_t> old_size;
  if (Result<std::uint64_t> size = store_->ValueSize(user_id, put.key); size.has_value()) {
    old_size = *size;
  } else if (size.error().code() != StatusCode::kNotFound) {
    return ErrorResponse(request, size.error());
  }
  store::UserUsage after = **usage;
  if (!old_size) ++after.records;
  const std::uint64_t old_bytes = old_size.value_or(0);
  after.value_bytes = (after.value_bytes >= old_bytes ? after.value_bytes - old_bytes : 0) + put.value.size();
  const bool more_records = !old_size.has_value();
  const bool more_bytes = put.value.size() > old_bytes;
  if ((more_records && quota_.max_records != 0 && after.records > quota_.max_records) ||
      (more_bytes && quota_.max_bytes != 0 && after.value_bytes > quota_.max_bytes)) {
    return session::Response::Error(request.id, request.operation(), StatusCode::kResourceExhausted,
                                    std::string(kReasonQuotaExceeded));
  }
  Status s = store_->Put(user_id, put.key, put.value);
  if (!s.ok()) {
    usage_.erase(usage_.find(user_id));  // the outcome may be unknown: read it again next time
    return ErrorResponse(request, s);
  }
  **usage = after;
  return session::Response::Ok(request.id, session::PutResult{});
}

session::Response WorkloadService::DeleteWithQuota(std::string_view user_id, const session::Request& request,
                                                   const session::DeleteRequest& del) {
  if (quota_.max_bytes == 0 && quota_.max_records == 0) {
    Status s = store_->Delete(user_id, del.key);
    if (!s.ok()) return ErrorResponse(request, s);
    return session::Response::Ok(request.id, session::DeleteResult{});
  }
  std::lock_guard<std::mutex> lock(quota_mu_);
  auto it = usage_.find(user_id);
  std::optional<std::uint64_t> old_size;
  if (it != usage_.end()) {
    // Only a cached usage needs the size; an uncached one is read afresh when needed.
    Result<std::uint64_t> size = store_->ValueSize(user_id, del.key);
    if (!size.has_value()) return ErrorResponse(request, size.error());  // store.not_found included
    old_size = *size;
  }
  Status s = store_->Delete(user_id, del.key);
  if (!s.ok()) {
    if (it != usage_.end()) usage_.erase(it);
    return ErrorResponse(request, s);
  }
  if (it != usage_.end()) {
    store::UserUsage& u = it->second;
    if (u.records == 0 || u.value_bytes < *old_size) {
      usage_.erase(it);  // out of step with the store (another writer?): read it again
    } else {
      --u.records;
      u.value_bytes -= *old_size;
    }
  }
  return session::Response::Ok(request.id, session::DeleteResult{});
}

session::Response WorkloadService::List(std::string_view user_id, const session::Request& request,
                                        const session::ListRequest& list) {
  Result<std::string> token = StoreToken(user_id, list.prefix, list.page_token);
  if (!token.has_value()) return ErrorResponse(request, token.error());
  Result<store::ListPage> page = store_->List(user_id, list.prefix, *token, list.limit);
  if (!page.has_value()) return ErrorResponse(request, page.error());
  session::ListResult result;
  result.keys = std::move(page->keys);
  if (!page->next_page_token.empty()) {
    Result<Bytes> wire = WireToken(user_id, list.prefix, std::move(page->next_page_token));
    if (!wire.has_value()) return ErrorResponse(request, wire.error());
    result.next_page_token = std::move(wire).value();
  }
  return session::Response::Ok(request.id, std::move(result));
}

Result<Bytes> WorkloadService::WireToken(std::string_view user_id, std::string_view prefix,
                                         std::string store_token) {
  if (store_token.size() <= session::kMaxPageTokenSize) return ToBytes(store_token);
  Bytes handle(kLongTokenHandleSize);
  handle[0] = kLongTokenMarker;
  PERIMETER_RETURN_IF_ERROR(crypto::RandomFill(MutableByteView(handle).subspan(1)));
  const auto now = std::chrono::steady_clock::now();
  const std::string user(user_id);
  std::lock_guard<std::mutex> lock(tokens_mu_);
  MakeRoomForLongToken(user, now);
  long_tokens_[handle] = LongToken{user, std::string(prefix), std::move(store_token), now + kLongTokenLifetime};
  user_tokens_[user].push_back(handle);
  return handle;
}

void WorkloadService::EraseLongToken(const Bytes& handle) {
  auto it = long_tokens_.find(handle);
  if (it == long_tokens_.end()) return;
  auto user = user_tokens_.find(it->second.user_id);
  if (user != user_tokens_.end()) {
    std::deque<Bytes>& handles = user->second;
    for (auto h = handles.begin(); h != handles.end(); ++h) {
      if (*h == handle) {
        handles.erase(h);
        break;
      }
    }
    if (handles.empty()) user_tokens_.erase(user);
  }
  long_tokens_.erase(it);
}

void WorkloadService::MakeRoomForLongToken(const std::string& user_id, std::chrono::steady_clock::time_point now) {
  // Within the user's own share first.
  auto own = user_tokens_.find(user_id);
  if (own != user_tokens_.end() && own->second.size() >= kMaxLongTokensPerUser) {
    EraseLongToken(Bytes(own->second.front()));
    return;
  }
  if (long_tokens_.size() < kMaxLongTokens) return;
  // Full: drop what has expired (each user's handles are in issue order, so
  // only the fronts need looking at), else the oldest handle of the user that
  // holds the most.
  std::vector<Bytes> expired;
  for (const auto& [user, handles] : user_tokens_) {
    for (const Bytes& h : handles) {
      auto it = long_tokens_.find(h);
      if (it == long_tokens_.end() || it->second.expires >= now) break;
      expired.push_back(h);
    }
  }
  for (const Bytes& h : expired) EraseLongToken(h);
  if (long_tokens_.size() < kMaxLongTokens) return;
  const auto oldest = [this](const std::deque<Bytes>& handles) {
    auto it = long_tokens_.find(handles.front());
    return it == long_tokens_.end() ? std::chrono::steady_clock::time_point::min() : it->second.expires;
  };
  auto largest = user_tokens_.end();
  for (auto it = user_tokens_.begin(); it != user_tokens_.end(); ++it) {
    if (largest == user_tokens_.end() || it->second.size() > largest->second.size() ||
        (it->second.size() == largest->second.size() && oldest(it->second) < oldest(largest->second))) {
      largest = it;
    }
  }
  if (largest != user_tokens_.end()) EraseLongToken(Bytes(largest->second.front()));
}

Result<std::string> WorkloadService::StoreToken(std::string_view user_id, std::string_view prefix,
                                                ByteView wire_token) {
  if (wire_token.empty() || wire_token[0] != kLongTokenMarker) {
    return std::string(wire_token.begin(), wire_token.end());
  }
  const Status bad = InvalidArgumentError("store.bad_page_token", "server: unknown or expired page token");
  if (wire_token.size() != kLongTokenHandleSize) return bad;
  std::lock_guard<std::mutex> lock(tokens_mu_);
  auto it = long_tokens_.find(ToBytes(wire_token));
  if (it == long_tokens_.end()) return bad;
  if (it->second.expires < std::chrono::steady_clock::now() || it->second.user_id != user_id ||
      it->second.prefix != prefix) {
    return bad;
  }
  return it->second.store_token;
}

}  // namespace perimeter::server
