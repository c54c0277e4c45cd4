// Turning OpenSSL failures into Status values. Private to the crypto module.
//
// Every OpenSSL call whose return value is not exactly its success value is
// an error (no "rc != 1 && queue non-empty" logic: a failure with an empty
// error queue still fails). The thread's error queue is always drained, so a
// stale entry never leaks into a later, unrelated call.
#ifndef PERIMETER_CRYPTO_OPENSSL_OSSL_ERROR_H_
#define PERIMETER_CRYPTO_OPENSSL_OSSL_ERROR_H_

#include <string>
#include <string_view>

#include "perimeter/base/status.h"

namespace perimeter::crypto::internal {

// Drains the thread's OpenSSL error queue and returns its entries joined by
// "; " (empty if there were none).
std::string DrainOpenSslErrors();

// Drains the error queue and returns an error with `code`, `reason`, and a
// message "crypto: <what>" followed by the OpenSSL error text, if any.
Status OpenSslError(StatusCode code, std::string_view reason, std::string_view what);

// Shorthand for kInternal failures of the library itself.
inline Status OpenSslInternal(std::string_view reason, std::string_view what) {
  return OpenSslError(StatusCode::kInternal, reason, what);
}

// Clears any stale entries; call before an operation whose failure is
// expected on bad input (e.g. a verification) to keep the queue clean.
void ClearOpenSslErrors();

}  // namespace perimeter::crypto::internal

#endif  // PERIMETER_CRYPTO_OPENSSL_OSSL_ERROR_H_
