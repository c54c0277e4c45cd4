#include "crypto/openssl/ossl_error.h"

#include <openssl/err.h>

namespace perimeter::crypto::internal {

std::string DrainOpenSslErrors() {
  std::string out;
  unsigned long err = 0;  // NOLINT(runtime/int): OpenSSL's type
  while ((err = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

Status OpenSslError(StatusCode code, std::string_view reason, std::string_view what) {
  std::string message = "crypto: ";
  message += what;
  std::string detail = DrainOpenSslErrors();
  if (!detail.empty()) {
    message += " (";
    message += detail;
    message += ")";
  }
  return Status(code, reason, message);
}

void ClearOpenSslErrors() { ERR_clear_error(); }

}  // namespace perimeter::crypto::internal
