// ConfigfsTsmProvider: SEV-SNP evidence through the Linux configfs-tsm report
// interface (Linux 6.7+, Documentation/ABI/testing/configfs-tsm-report).
//
// Protocol, one report per call, in a private entry directory:
//   1. mkdir <root>/<unique name>        (the kernel populates the attributes)
//   2. read  provider    must be "sev_guest" (the sev-guest driver registers
//                        its KBUILD_MODNAME; a TDX guest says "tdx_guest")
//   3. read  generation  -> g0 (decimal text)
//   4. write privlevel   only when vmpl != 0 (the kernel default is 0; the
//                        kernel rejects values below privlevel_floor, so a
//                        guest whose driver uses VMPCK n > 0 must ask for
//                        vmpl >= n)
//   5. write inblob      exactly 64 bytes, becomes REPORT_DATA
//   6. read  outblob     the first read makes the kernel issue the extended
//                        guest request; the sev-guest driver strips the
//                        32-byte MSG_REPORT_RSP header and returns the
//                        ATTESTATION_REPORT itself, report_size bytes: it
//                        must be exactly kReportSize (1184)
//   7. read  auxblob     the certificate table (cert_table.h), cut by the
//                        kernel at the end of the furthest blob; absent or
//                        empty when the host supplied no certificates
//   8. read  generation  must equal g0 + the number of writes in 4-5: the
//                        ABI's documented way to detect that another writer
//                        changed the entry between our write and our read
//   9. rmdir the entry   on every path (an RAII guard)
// The report is also checked to carry our REPORT_DATA and the requested VMPL,
// which catches a racing writer even without step 8.
//
// Reads are bounded: outblob to kReportSize, auxblob to kMaxAuxBlobSize (the
// kernel's TSM_REPORT_OUTBLOB_MAX, 32 KiB), small text attributes to 64 bytes.
//
// GetEvidence() errors (beyond the EvidenceProvider contract):
//   kInvalidArgument "snp.provider_bad_report_data"  report_data not 64 bytes
//   kInvalidArgument "snp.provider_bad_vmpl"         vmpl > 3
//   kUnavailable     "snp.provider_unavailable"      root directory missing
//   kPermissionDenied "snp.provider_permission_denied" mkdir/open refused
//   kFailedPrecondition "snp.provider_wrong_tsm"     provider is not sev_guest
//   kUnavailable     "snp.provider_generation_changed" a concurrent writer
//                                                    (retryable)
//   kUnavailable     "snp.provider_request_failed"   the kernel failed the
//                                                    request (read error)
//   kDataLoss        "snp.provider_bad_report_size"  outblob not 1184 bytes
//   kDataLoss        "snp.provider_report_mismatch"  outblob does not carry
//                                                    our REPORT_DATA / VMPL
//   kResourceExhausted "snp.provider_blob_too_large" auxblob over the bound
//   kDataLoss        "snp.provider_bad_attribute"    unparsable generation
//   kInvalidArgument "snp.cert_table_*"              malformed auxblob
//   kInternal        "snp.provider_io"               other I/O failures
//
// Thread-safe: each call works in its own entry directory; the object holds
// no mutable state.
#ifndef PERIMETER_ATTEST_SNP_CONFIGFS_TSM_PROVIDER_H_
#define PERIMETER_ATTEST_SNP_CONFIGFS_TSM_PROVIDER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "perimeter/attest/snp/provider.h"
#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/status.h"

namespace perimeter::attest::snp {

inline constexpr std::string_view kConfigfsTsmReportRoot = "/sys/kernel/config/tsm/report";
inline constexpr std::string_view kConfigfsTsmSevProvider = "sev_guest";
inline constexpr std::size_t kMaxAuxBlobSize = 32 * 1024;

// The file operations the provider needs, so tests can stand in for the
// kernel (a plain directory does not produce outblob when inblob is
// written). Paths are absolute. Implementations must be thread-safe.
class TsmFileOps {
 public:
  virtual ~TsmFileOps() = default;
  // Errors: kNotFound "snp.provider_unavailable" when the parent is missing,
  // kPermissionDenied "snp.provider_permission_denied", kAlreadyExists, or
  // kInternal "snp.provider_io".
  virtual Status MakeDir(const std::string& path) = 0;
  virtual Status RemoveDir(const std::string& path) = 0;
  // Writes all of `data` with one open(O_WRONLY|O_CLOEXEC).
  virtual Status WriteFile(const std::string& path, ByteView data) = 0;
  // Reads to end of file. Errors: kNotFound (no such file),
  // kResourceExhausted "snp.provider_blob_too_large" (more than `max_size`
  // bytes), kUnavailable "snp.provider_request_failed" (read() failed: for
  // outblob/auxblob this is how the kernel reports a failed request).
  virtual Result<Bytes> ReadFile(const std::string& path, std::size_t max_size) = 0;
  virtual bool IsDirectory(const std::string& path) = 0;
};

// The real thing: POSIX calls, O_CLOEXEC on every open.
std::unique_ptr<TsmFileOps> NewPosixTsmFileOps();

class ConfigfsTsmProvider : public EvidenceProvider {
 public:
  struct Options {
    std::string root = std::string(kConfigfsTsmReportRoot);
    // Empty: a unique name per call ("perimeter-<pid>-<counter>-<random>").
    // Tests set a fixed name to find the entry.
    std::string entry_name;
  };

  explicit ConfigfsTsmProvider(Options options);
  // `ops` replaces the POSIX file operations (REQUIRES: non-null).
  ConfigfsTsmProvider(Options options, std::unique_ptr<TsmFileOps> ops);
  ConfigfsTsmProvider(const ConfigfsTsmProvider&) = delete;
  ConfigfsTsmProvider& operator=(const ConfigfsTsmProvider&) = delete;

  Result<RawEvidence> GetEvidence(ByteView report_data, std::uint32_t vmpl = 0) override;
  std::string name() const override { return "configfs-tsm"; }

 private:
  std::string EntryName();

  Options options_;
  std::unique_ptr<TsmFileOps> ops_;
};

}  // namespace perimeter::attest::snp

#endif  // PERIMETER_ATTEST_SNP_CONFIGFS_TSM_PROVIDER_H_
