// Result<T>: either a value of type T or a non-OK Status.
//
// Shaped like C++23 std::expected<T, Status> (has_value(), value(), error(),
// operator*, operator->) so that a later move to std::expected is a rename.
// Accessing value() of an error Result, or error() of a value Result, aborts
// the process: it is a programming error, not an input error.
//
// Intentionally copyable when T is. Thread-compatible.
#ifndef PERIMETER_BASE_RESULT_H_
#define PERIMETER_BASE_RESULT_H_

#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "perimeter/base/status.h"

namespace perimeter {

namespace internal {
[[noreturn]] void ResultAccessDie(const char* what, const Status* status);
}  // namespace internal

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cvref_t<T>, Status>,
                "Result<Status> is not allowed");

 public:
  using value_type = T;

  // Implicit from a value or from an error, so `return value;` and
  // `return InvalidArgumentError(...);` both work.
  Result(const T& value) : v_(std::in_place_index<0>, value) {}  // NOLINT
  Result(T&& value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    if (std::get<1>(v_).ok()) {
      internal::ResultAccessDie("Result constructed from an OK Status", nullptr);
    }
  }
  template <typename U,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, T> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, Status> &&
                                        !std::is_same_v<std::remove_cvref_t<U>, Result>>>
  Result(U&& value) : v_(std::in_place_index<0>, T(std::forward<U>(value))) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  bool ok() const { return has_value(); }
  explicit operator bool() const { return has_value(); }

  T& value() & { Check(); return std::get<0>(v_); }
  const T& value() const& { Check(); return std::get<0>(v_); }
  T&& value() && { Check(); return std::get<0>(std::move(v_)); }

  // Marks a place that should propagate the error but does not yet; greppable.
  T value_or_die_todo() && { return std::move(*this).value(); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !has_value().
  const Status& error() const {
    if (has_value()) internal::ResultAccessDie("error() on a value Result", nullptr);
    return std::get<1>(v_);
  }
  // OK when a value is held, else the error.
  Status status() const { return has_value() ? Status::Ok() : std::get<1>(v_); }

 private:
  void Check() const {
    if (!has_value()) internal::ResultAccessDie("value() on an error Result", &std::get<1>(v_));
  }
  std::variant<T, Status> v_;
};

namespace internal {
template <typename T>
Status ToStatus(const Result<T>& r) { return r.status(); }
}  // namespace internal

}  // namespace perimeter

#define PERIMETER_CONCAT_INNER_(a, b) a##b
#define PERIMETER_CONCAT_(a, b) PERIMETER_CONCAT_INNER_(a, b)

// PERIMETER_ASSIGN_OR_RETURN(auto x, Foo());  or  (existing_var, Foo());
// Evaluates the Result expression; on error returns the error from the
// enclosing function, else moves the value into `lhs`. Expands to several
// statements: do not use as the body of an unbraced if/else.
#define PERIMETER_ASSIGN_OR_RETURN(lhs, expr) \
  PERIMETER_ASSIGN_OR_RETURN_IMPL_(PERIMETER_CONCAT_(perimeter_result_, __LINE__), lhs, expr)
#define PERIMETER_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                      \
  if (!tmp.has_value()) return tmp.error();               \
  lhs = std::move(tmp).value()

#endif  // PERIMETER_BASE_RESULT_H_
