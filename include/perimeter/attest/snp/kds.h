// AMD Key Distribution Service (KDS) URLs and a local certificate cache.
//
// KDS interface (AMD document 57230, "Versioned Chip Endorsement Key (VCEK)
// Certificate and KDS Interface Specification"):
//   VCEK        https://kdsintf.amd.com/vcek/v1/{product}/{hwid}
//                 ?[fmcSPL=NN&]blSPL=NN&teeSPL=NN&snpSPL=NN&ucodeSPL=NN
//   VCEK chain  https://kdsintf.amd.com/vcek/v1/{product}/cert_chain   (ASK then ARK, PEM)
//   VCEK CRL    https://kdsintf.amd.com/vcek/v1/{product}/crl          (DER, signed by the ARK)
//   VLEK chain  https://kdsintf.amd.com/vlek/v1/{product}/cert_chain   (ASVK then ARK, PEM)
//   VLEK CRL    https://kdsintf.amd.com/vlek/v1/{product}/crl
// {product} is "Milan", "Genoa" or "Turin"; {hwid} is the report's CHIP_ID in
// lower-case hex (only its first 8 bytes on Turin); the SPLs are the
// components of REPORTED_TCB in decimal, two digits; fmcSPL exists on Turin
// only. A VLEK is not served per chip: it is provisioned to the cloud
// provider and travels with the evidence.
//
// KdsCache maps each URL to a file under a cache directory (a readable path
// derived from the URL) and, when given a fetcher, fills misses from the
// network. Evidence that carries its own VEK needs no fetch at all. Tests use
// files only.
//
// Thread-compatible.
#ifndef PERIMETER_ATTEST_SNP_KDS_H_
#define PERIMETER_ATTEST_SNP_KDS_H_

#include <memory>
#include <string>
#include <string_view>

#include "perimeter/attest/snp/tcb.h"
#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::attest::snp {

inline constexpr std::string_view kKdsBaseUrl = "https://kdsintf.amd.com";

// A KDS resource: its URL and the relative path it is cached under.
struct KdsResource {
  std::string url;
  std::string cache_path;  // e.g. "vcek/v1/Milan/<hwid>/fmc0-bl3-tee0-snp8-ucode115.der"
};

enum class KdsKeyKind { kVcek, kVlek };

// The VCEK of one chip at one TCB. `chip_id` is the report's 64-byte
// CHIP_ID. Errors: kInvalidArgument "snp.kds_unknown_product" for kUnknown,
// "snp.kds_bad_chip_id" unless chip_id has 64 bytes, or (Turin) if any byte
// after the first 8 is non-zero, or if it is all zeros (a masked chip key).
Result<KdsResource> VcekResource(Product product, ByteView chip_id, const TcbVersion& reported_tcb);
// The ASK/ASVK + ARK chain and the CRL of a key kind.
Result<KdsResource> CertChainResource(Product product, KdsKeyKind kind);
Result<KdsResource> CrlResource(Product product, KdsKeyKind kind);

// Fetches a URL's body. The libcurl implementation is NewCurlFetcher().
class KdsFetcher {
 public:
  virtual ~KdsFetcher() = default;
  // Errors: kUnavailable "snp.kds_fetch_failed" (network, HTTP status not
  // 200), kResourceExhausted "snp.kds_too_large" (body over 1 MiB).
  virtual Result<Bytes> Fetch(const std::string& url) = 0;
};

// An HTTPS fetcher over libcurl (TLS verified against the system's CAs,
// 10 s timeout, no redirects).
std::unique_ptr<KdsFetcher> NewCurlFetcher();

class KdsCache {
 public:
  // `dir` is the cache directory (created on first store). `fetcher` may be
  // null: then only cached files are served. Not owned; must outlive this.
  KdsCache(std::string dir, KdsFetcher* fetcher) : dir_(std::move(dir)), fetcher_(fetcher) {}

  // The resource's bytes: from the cache, else fetched and stored
  // atomically (write to a temporary file, then rename).
  // Errors: kNotFound "snp.kds_not_cached" (a miss with no fetcher);
  // the fetcher's errors; kUnavailable "snp.kds_cache_io".
  Result<Bytes> Get(const KdsResource& resource);

  // The file a resource is cached in.
  std::string PathOf(const KdsResource& resource) const;

 private:
  std::string dir_;
  KdsFetcher* fetcher_;
};

}  // namespace perimeter::attest::snp

#endif  // PERIMETER_ATTEST_SNP_KDS_H_
