#include "perimeter/attest/snp/kds.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "perimeter/crypto/random.h"

namespace perimeter::attest::snp {
namespace {

constexpr std::size_t kChipIdSize = 64;
constexpr std::size_t kTurinHwIdSize = 8;

Result<std::string> KdsProduct(Product product) {
  if (product == Product::kUnknown) {
    return InvalidArgumentError("snp.kds_unknown_product", "SEV-SNP: no KDS product for an unknown CPU");
  }
  return std::string(ProductName(product));
}

std::string TwoDigits(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%02u", v);
  return buf;
}

std::string_view KindPath(KdsKeyKind kind) { return kind == KdsKeyKind::kVcek ? "vcek" : "vlek"; }

}  // namespace

Result<KdsResource> VcekResource(Product product, ByteView chip_id, const TcbVersion& tcb) {
  PERIMETER_ASSIGN_OR_RETURN(std::string name, KdsProduct(product));
  if (chip_id.size() != kChipIdSize) {
    return InvalidArgumentError("snp.kds_bad_chip_id", "SEV-SNP: CHIP_ID must be 64 bytes");
  }
  bool all_zero = true;
  for (std::uint8_t b : chip_id) all_zero = all_zero && b == 0;
  if (all_zero) {
    return InvalidArgumentError("snp.kds_bad_chip_id",
                                "SEV-SNP: CHIP_ID is zero (MASK_CHIP_ID set); no VCEK can be named");
  }
  ByteView hwid = chip_id;
  if (product == Product::kTurin) {
    // Turin's hwID is 8 bytes; the rest of CHIP_ID must be zero padding.
    for (std::size_t i = kTurinHwIdSize; i < kChipIdSize; ++i) {
      if (chip_id[i] != 0) {
        return InvalidArgumentError("snp.kds_bad_chip_id",
                                    "SEV-SNP: Turin CHIP_ID has non-zero bytes after the 8-byte hwID");
      }
    }
    hwid = chip_id.first(kTurinHwIdSize);
  }
  const std::string hex = HexEncode(hwid);
  std::string query;
  std::string file;
  if (product == Product::kTurin) {
    query = "fmcSPL=" + TwoDigits(tcb.fmc) + "&";
    file = "fmc" + std::to_string(tcb.fmc) + "-";
  }
  query += "blSPL=" + TwoDigits(tcb.boot_loader) + "&teeSPL=" + TwoDigits(tcb.tee) +
           "&snpSPL=" + TwoDigits(tcb.snp) + "&ucodeSPL=" + TwoDigits(tcb.microcode);
  file += "bl" + std::to_string(tcb.boot_loader) + "-tee" + std::to_string(tcb.tee) + "-snp" +
          std::to_string(tcb.snp) + "-ucode" + std::to_string(tcb.microcode) + ".der";
  const std::string path = "vcek/v1/" + name + "/" + hex;
  return KdsResource{std::string(kKdsBaseUrl) + "/" + path + "?" + query, path + "/" + file};
}

Result<KdsResource> CertChainResource(Product product, KdsKeyKind kind) {
  PERIMETER_ASSIGN_OR_RETURN(std::string name, KdsProduct(product));
  const std::string path = std::string(KindPath(kind)) + "/v1/" + name + "/cert_chain";
  return KdsResource{std::string(kKdsBaseUrl) + "/" + path, path + ".pem"};
}

Result<KdsResource> CrlResource(Product product, KdsKeyKind kind) {
  PERIMETER_ASSIGN_OR_RETURN(std::string name, KdsProduct(product));
  const std::string path = std::string(KindPath(kind)) + "/v1/" + name + "/crl";
  return KdsResource{std::string(kKdsBaseUrl) + "/" + path, path + ".der"};
}

std::string KdsCache::PathOf(const KdsResource& resource) const {
  return (std::filesystem::path(dir_) / resource.cache_path).string();
}

Result<Bytes> KdsCache::Get(const KdsResource& resource) {
  // Cache paths are built by this module from fixed words, decimal numbers
  // and hex; refuse anything else so a path can never leave the directory.
  for (char c : resource.cache_path) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
              c == '-' || c == '_' || c == '.';
    if (!ok || resource.cache_path.find("..") != std::string::npos || resource.cache_path.empty() ||
        resource.cache_path.front() == '/') {
      return InvalidArgumentError("snp.kds_bad_cache_path", "SEV-SNP: refusing cache path");
    }
  }
  const std::filesystem::path file = PathOf(resource);
  {
    std::ifstream in(file, std::ios::binary);
    if (in) {
      Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.bad()) return data;
    }
  }
  if (fetcher_ == nullptr) {
    return NotFoundError("snp.kds_not_cached",
                         "SEV-SNP: " + resource.url + " is not in the cache " + dir_ + " (offline)");
  }
  PERIMETER_ASSIGN_OR_RETURN(Bytes data, fetcher_->Fetch(resource.url));
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return UnavailableError("snp.kds_cache_io", "SEV-SNP: cannot create " + file.parent_path().string());
  Bytes suffix(8);
  PERIMETER_RETURN_IF_ERROR(crypto::RandomFill(suffix));
  const std::filesystem::path tmp = file.string() + ".tmp-" + HexEncode(suffix);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return UnavailableError("snp.kds_cache_io", "SEV-SNP: cannot write " + tmp.string());
    }
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return UnavailableError("snp.kds_cache_io", "SEV-SNP: cannot store " + file.string());
  }
  return data;
}

}  // namespace perimeter::attest::snp
