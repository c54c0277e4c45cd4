// The libcurl KdsFetcher. Only this file includes <curl/curl.h>.
#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "perimeter/attest/snp/kds.h"

namespace perimeter::attest::snp {
namespace {

constexpr std::size_t kMaxBody = std::size_t{1} << 20;

struct CurlDeleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};

struct Body {
  Bytes data;
  bool too_large = false;
};

extern "C" std::size_t WriteBody(char* ptr, std::size_t size, std::size_t nmemb, void* user) {
  auto* body = static_cast<Body*>(user);
  const std::size_t n = size * nmemb;
  if (body->data.size() + n > kMaxBody) {
    body->too_large = true;
    return 0;  // makes libcurl fail the transfer
  }
  body->data.insert(body->data.end(), reinterpret_cast<std::uint8_t*>(ptr),
                    reinterpret_cast<std::uint8_t*>(ptr) + n);
  return n;
}

class CurlFetcher : public KdsFetcher {
 public:
  Result<Bytes> Fetch(const std::string& url) override {
    static std::once_flag init;
    std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return InternalError("snp.kds_fetch_failed", "SEV-SNP: curl_easy_init failed");
    Body body;
    CURL* c = curl.get();
    bool ok = curl_easy_setopt(c, CURLOPT_URL, url.c_str()) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_WRITEDATA, &body) == CURLE_OK;
    if (!ok) return InternalError("snp.kds_fetch_failed", "SEV-SNP: curl setup failed");
    CURLcode rc = curl_easy_perform(c);
    if (body.too_large) {
      return ResourceExhaustedError("snp.kds_too_large", "SEV-SNP: KDS response over 1 MiB");
    }
    if (rc != CURLE_OK) {
      return UnavailableError("snp.kds_fetch_failed",
                              "SEV-SNP: fetching " + url + ": " + curl_easy_strerror(rc));
    }
    long status = 0;  // NOLINT(runtime/int): libcurl's type
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
      return UnavailableError("snp.kds_fetch_failed",
                              "SEV-SNP: fetching " + url + ": HTTP status " + std::to_string(status));
    }
    return std::move(body.data);
  }
};

}  // namespace

std::unique_ptr<KdsFetcher> NewCurlFetcher() { return std::make_unique<CurlFetcher>(); }

}  // namespace perimeter::attest::snp
