#include "perimeter/server/workload_service.h"

#include <string>
#include <utility>
#include <variant>

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

WorkloadService::WorkloadService(store::RecordStore* store, Metrics* metrics)
    : store_(store), metrics_(metrics) {}

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
          Status s = store_->Put(user_id, body.key, body.value);
          if (!s.ok()) return ErrorResponse(request, s);
          return session::Response::Ok(request.id, session::PutResult{});
        } else if constexpr (std::is_same_v<T, session::GetRequest>) {
          if (store_ == nullptr) return unavailable();
          Result<Bytes> v = store_->Get(user_id, body.key);
          if (!v.has_value()) return ErrorResponse(request, v.error());
          return session::Response::Ok(request.id, session::GetResult{std::move(v).value()});
        } else if constexpr (std::is_same_v<T, session::DeleteRequest>) {
          if (store_ == nullptr) return unavailable();
          Status s = store_->Delete(user_id, body.key);
          if (!s.ok()) return ErrorResponse(request, s);
          return session::Response::Ok(request.id, session::DeleteResult{});
        } else {
          static_assert(std::is_same_v<T, session::ListRequest>);
          if (store_ == nullptr) return unavailable();
          return List(user_id, request, body);
        }
      },
      request.body);
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
  std::lock_guard<std::mutex> lock(tokens_mu_);
  while (long_tokens_.size() >= kMaxLongTokens && !long_token_order_.empty()) {
    long_tokens_.erase(long_token_order_.front());
    long_token_order_.pop_front();
  }
  long_tokens_[handle] = LongToken{std::string(user_id), std::string(prefix), std::move(store_token),
                                   now + kLongTokenLifetime};
  long_token_order_.push_back(handle);
  return handle;
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
