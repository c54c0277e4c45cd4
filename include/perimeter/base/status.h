// Status: the outcome of an operation that returns no value.
//
// Every module boundary in Secure Perimeter reports failure as a value, never
// as an exception. A Status carries three things:
//   * a coarse StatusCode from a small fixed set (in the style of absl/Tink),
//     for callers that branch on the kind of failure;
//   * a stable reason: a short dotted identifier such as "noise.decrypt_failed"
//     that never changes once released, for tests, metrics and clients that
//     must tell one failure from another;
//   * a human-readable message, which owns its storage and may change freely.
//
// A Status never contains secret material: callers must not put key bytes or
// plaintext into the message.
//
// Intentionally copyable. Thread-compatible (const methods may be called
// concurrently).
#ifndef PERIMETER_BASE_STATUS_H_
#define PERIMETER_BASE_STATUS_H_

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace perimeter {

// The fixed set of coarse error codes. Values are stable and may be exported
// (e.g. over the C API); never renumber.
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,     // malformed input, wrong length, bad parameter
  kNotFound = 2,            // a named thing does not exist
  kAlreadyExists = 3,       // a thing to create exists already
  kPermissionDenied = 4,    // authenticated but not allowed
  kUnauthenticated = 5,     // a signature, MAC, tag or binding did not verify
  kFailedPrecondition = 6,  // the call is not valid in the current state
  kResourceExhausted = 7,   // a limit was reached (nonce space, size, quota)
  kDataLoss = 8,            // stored data is corrupt or truncated
  kUnavailable = 9,         // a peer or resource cannot be reached now
  kInternal = 10,           // a bug or an unexpected library failure
  kUnimplemented = 11,      // the operation or parameter is not supported
};

// Returns the canonical name of `code`, e.g. "INVALID_ARGUMENT".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // The OK status. Cheap: holds no allocation.
  Status() noexcept = default;

  // REQUIRES: code != kOk. `reason` is a stable dotted identifier
  // ("module.what"); `message` is free text for humans.
  Status(StatusCode code, std::string_view reason, std::string_view message);

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // "ok" for the OK status.
  std::string_view reason() const;
  std::string_view message() const;

  bool IsInvalidArgument() const { return code() == StatusCode::kInvalidArgument; }
  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsUnauthenticated() const { return code() == StatusCode::kUnauthenticated; }
  bool IsFailedPrecondition() const { return code() == StatusCode::kFailedPrecondition; }
  bool IsResourceExhausted() const { return code() == StatusCode::kResourceExhausted; }

  // "OK" or "INVALID_ARGUMENT [noise.bad_length]: message".
  std::string ToString() const;

  // Equality compares code and reason, not the message.
  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.reason() == b.reason();
  }

 private:
  struct Rep {
    StatusCode code;
    std::string reason;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;
};

std::ostream& operator<<(std::ostream& os, const Status& status);

// Factories, one per code. Each takes a stable reason and a message.
Status InvalidArgumentError(std::string_view reason, std::string_view message);
Status NotFoundError(std::string_view reason, std::string_view message);
Status AlreadyExistsError(std::string_view reason, std::string_view message);
Status PermissionDeniedError(std::string_view reason, std::string_view message);
Status UnauthenticatedError(std::string_view reason, std::string_view message);
Status FailedPreconditionError(std::string_view reason, std::string_view message);
Status ResourceExhaustedError(std::string_view reason, std::string_view message);
Status DataLossError(std::string_view reason, std::string_view message);
Status UnavailableError(std::string_view reason, std::string_view message);
Status InternalError(std::string_view reason, std::string_view message);
Status UnimplementedError(std::string_view reason, std::string_view message);

}  // namespace perimeter

// Evaluates `expr` (a Status or Result<T>); returns its error from the
// enclosing function if it is not OK.
#define PERIMETER_RETURN_IF_ERROR(expr)                                  \
  do {                                                                  \
    if (auto perimeter_status_ = ::perimeter::internal::ToStatus(expr); \
        !perimeter_status_.ok()) {                                      \
      return perimeter_status_;                                         \
    }                                                                   \
  } while (false)

namespace perimeter::internal {
inline const Status& ToStatus(const Status& s) { return s; }
}  // namespace perimeter::internal

#endif  // PERIMETER_BASE_STATUS_H_
