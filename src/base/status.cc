#include "perimeter/base/status.h"

#include <cstdio>
#include <cstdlib>

#include "perimeter/base/result.h"

namespace perimeter {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kUnauthenticated: return "UNAUTHENTICATED";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kDataLoss: return "DATA_LOSS";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kInternal: return "INTERNAL";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
  }
  return "UNKNOWN";
}

Status::Status(StatusCode code, std::string_view reason, std::string_view message) {
  if (code == StatusCode::kOk) {
    // An error factory called with kOk is a bug; fail closed by turning it
    // into an internal error rather than silently reporting success.
    rep_ = std::make_shared<const Rep>(
        Rep{StatusCode::kInternal, "base.ok_as_error", std::string(message)});
    return;
  }
  rep_ = std::make_shared<const Rep>(Rep{code, std::string(reason), std::string(message)});
}

std::string_view Status::reason() const { return rep_ ? std::string_view(rep_->reason) : "ok"; }
std::string_view Status::message() const { return rep_ ? std::string_view(rep_->message) : ""; }

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code()));
  out += " [";
  out += reason();
  out += "]";
  if (!rep_->message.empty()) {
    out += ": ";
    out += rep_->message;
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const Status& status) {
  return os << status.ToString();
}

#define PERIMETER_DEFINE_FACTORY_(Name, Code)                               \
  Status Name(std::string_view reason, std::string_view message) {          \
    return Status(StatusCode::Code, reason, message);                       \
  }
PERIMETER_DEFINE_FACTORY_(InvalidArgumentError, kInvalidArgument)
PERIMETER_DEFINE_FACTORY_(NotFoundError, kNotFound)
PERIMETER_DEFINE_FACTORY_(AlreadyExistsError, kAlreadyExists)
PERIMETER_DEFINE_FACTORY_(PermissionDeniedError, kPermissionDenied)
PERIMETER_DEFINE_FACTORY_(UnauthenticatedError, kUnauthenticated)
PERIMETER_DEFINE_FACTORY_(FailedPreconditionError, kFailedPrecondition)
PERIMETER_DEFINE_FACTORY_(ResourceExhaustedError, kResourceExhausted)
PERIMETER_DEFINE_FACTORY_(DataLossError, kDataLoss)
PERIMETER_DEFINE_FACTORY_(UnavailableError, kUnavailable)
PERIMETER_DEFINE_FACTORY_(InternalError, kInternal)
PERIMETER_DEFINE_FACTORY_(UnimplementedError, kUnimplemented)
#undef PERIMETER_DEFINE_FACTORY_

namespace internal {
void ResultAccessDie(const char* what, const Status* status) {
  std::fprintf(stderr, "perimeter: fatal: %s%s%s\n", what, status ? ": " : "",
               status ? status->ToString().c_str() : "");
  std::abort();
}
}  // namespace internal

}  // namespace perimeter
