// SevGuestProvider: SEV-SNP evidence through /dev/sev-guest, the Linux SEV
// guest driver's ioctl interface (uapi <linux/sev-guest.h>, Documentation/
// virt/coco/sev-guest.rst).
//
// SNP_GET_EXT_REPORT (default) returns the report and the host's certificate
// table (cert_table.h); SNP_GET_REPORT (Options::extended_report = false)
// returns the report only.
//
// The kernel is trusted to run the guest request, not to be bug-free:
//   * the device is opened O_RDWR|O_CLOEXEC and closed by an RAII guard;
//   * the response and certificate buffers are surrounded by canary bytes,
//     checked after every ioctl ("snp.provider_sentinel" if overwritten);
//   * the MSG_REPORT_RSP is parsed with bounds checks (status 0, report_size
//     exactly 1184), and the report must carry our REPORT_DATA and VMPL;
//   * the certificate length the kernel asks for on SNP_GUEST_VMM_ERR_INVALID_LEN
//     is honoured once, and only if it grew, is page-aligned and at most
//     Options::max_certs_len.
//
// Extended report protocol: certs_len must be a non-zero multiple of the page
// size. If it is too small, the ioctl fails (errno EIO), exitinfo2 carries
// vmm_error = SNP_GUEST_VMM_ERR_INVALID_LEN (bits 63:32) and the kernel writes
// the needed length (bytes) back into snp_ext_report_req.certs_len; the
// request is then repeated with that length. (The kernel caps certs_len at
// SEV_FW_BLOB_MAX_SIZE, 16 KiB, today: the default first guess.)
//
// GetEvidence() errors (beyond the EvidenceProvider contract):
//   kInvalidArgument  "snp.provider_bad_report_data", "snp.provider_bad_vmpl",
//                     "snp.provider_bad_options" (initial_certs_len not a
//                     non-zero page multiple <= max_certs_len)
//   kUnavailable      "snp.provider_unavailable"       device node missing
//   kPermissionDenied "snp.provider_permission_denied" open() refused
//   kUnavailable      "snp.provider_request_failed"    ioctl failed
//   kUnavailable      "snp.provider_firmware_error"    MSG_REPORT_RSP status != 0
//   kResourceExhausted "snp.provider_certs_too_large"  needed certs_len is
//                                                      unreasonable
//   kInternal         "snp.provider_sentinel"          the kernel wrote past
//                                                      a buffer
//   kDataLoss         "snp.provider_response_truncated", "snp.provider_bad_report_size",
//                     "snp.provider_report_mismatch"
//   kInvalidArgument  "snp.cert_table_*"               malformed certificate table
//
// Thread-safe: no mutable state; each call opens the device (the kernel
// serializes guest requests).
#ifndef PERIMETER_ATTEST_SNP_SEV_GUEST_PROVIDER_H_
#define PERIMETER_ATTEST_SNP_SEV_GUEST_PROVIDER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "perimeter/attest/snp/provider.h"
#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::attest::snp {

// Mirrors of the uapi structures in <linux/sev-guest.h>, byte for byte (the
// .cc static_asserts sizes and offsets, and against the system header when
// it is installed). Native byte order is little-endian (SEV is x86-64 only).
namespace sev_guest_abi {

struct ReportReq {                 // struct snp_report_req
  std::uint8_t user_data[64];      // 0x00 becomes REPORT_DATA
  std::uint32_t vmpl;              // 0x40
  std::uint8_t rsvd[28];           // 0x44 must be zero
};

struct ReportResp {                // struct snp_report_resp
  std::uint8_t data[4000];         // MSG_REPORT_RSP, see ParseReportResponse()
};

struct ExtReportReq {              // struct snp_ext_report_req
  ReportReq data;                  // 0x00
  std::uint64_t certs_address;     // 0x60 user pointer to the certificate buffer
  std::uint32_t certs_len;         // 0x68 its length; updated on INVALID_LEN
};

struct GuestRequestIoctl {         // struct snp_guest_request_ioctl
  std::uint8_t msg_version;        // 0x00 must be non-zero (1)
  std::uint64_t req_data;          // 0x08 user pointer to the request
  std::uint64_t resp_data;         // 0x10 user pointer to ReportResp
  std::uint64_t exitinfo2;         // 0x18 bits 31:0 fw_error, 63:32 vmm_error
};

inline constexpr std::uint8_t kMsgVersion = 1;
inline constexpr std::uint32_t kVmmErrShift = 32;
inline constexpr std::uint32_t kVmmErrInvalidLen = 1;  // SNP_GUEST_VMM_ERR_INVALID_LEN
inline constexpr std::uint32_t kVmmErrBusy = 2;        // SNP_GUEST_VMM_ERR_BUSY

// The asm-generic _IOC encoding used on x86: dir(2) << 30 | size(14) << 16 |
// type(8) << 8 | nr(8), dir = _IOC_READ|_IOC_WRITE = 3 for _IOWR.
constexpr unsigned long IoctlReadWrite(unsigned type, unsigned nr, std::size_t size) {
  return (3ul << 30) | (static_cast<unsigned long>(size) << 16) | (static_cast<unsigned long>(type) << 8) | nr;
}
inline constexpr unsigned long kSnpGetReport = IoctlReadWrite('S', 0x0, sizeof(GuestRequestIoctl));
inline constexpr unsigned long kSnpGetExtReport = IoctlReadWrite('S', 0x2, sizeof(GuestRequestIoctl));

// MSG_REPORT_RSP (ABI spec, "MSG_REPORT_RSP Message Structure").
inline constexpr std::size_t kReportRspHeaderSize = 0x20;  // status, report_size, reserved[24]

}  // namespace sev_guest_abi

inline constexpr std::string_view kSevGuestDevicePath = "/dev/sev-guest";
inline constexpr std::uint32_t kSevGuestPageSize = 4096;

// The REPORT_REQ for `report_data` at `vmpl`, reserved bytes zero.
// Errors: kInvalidArgument "snp.provider_bad_report_data" (not 64 bytes),
// "snp.provider_bad_vmpl" (> 3).
Result<sev_guest_abi::ReportReq> BuildReportRequest(ByteView report_data, std::uint32_t vmpl);

// The ATTESTATION_REPORT inside a MSG_REPORT_RSP (`response` is the
// ReportResp data, or any prefix of it long enough).
// Errors: kDataLoss "snp.provider_response_truncated" (shorter than
// 0x20 + 1184), kUnavailable "snp.provider_firmware_error" (status != 0),
// kDataLoss "snp.provider_bad_report_size" (report_size != 1184).
Result<Bytes> ParseReportResponse(ByteView response);

// The ioctl seam. The real device wraps an fd; tests supply a fake.
class SevGuestDevice {
 public:
  virtual ~SevGuestDevice() = default;
  // Issues `request` with `arg` (pointers inside refer to live buffers);
  // returns 0 or the errno value. May update `arg` and the request.
  virtual int Ioctl(unsigned long request, sev_guest_abi::GuestRequestIoctl& arg) = 0;
};

// Opens `path` with O_RDWR|O_CLOEXEC; the device closes it on destruction.
// Errors: kUnavailable "snp.provider_unavailable" (ENOENT, ENODEV, ENXIO,
// ENOTDIR), kPermissionDenied "snp.provider_permission_denied",
// kInternal "snp.provider_io".
Result<std::unique_ptr<SevGuestDevice>> OpenSevGuestDevice(const std::string& path);

class SevGuestProvider : public EvidenceProvider {
 public:
  struct Options {
    std::string device_path = std::string(kSevGuestDevicePath);
    bool extended_report = true;
    // First certs_len guess and the most a retry may ask for (page multiples).
    std::uint32_t initial_certs_len = 4 * kSevGuestPageSize;
    std::uint32_t max_certs_len = 64 * kSevGuestPageSize;
  };
  using DeviceOpener = std::function<Result<std::unique_ptr<SevGuestDevice>>(const std::string& path)>;

  explicit SevGuestProvider(Options options);
  // `open_device` replaces OpenSevGuestDevice (REQUIRES: callable; it must be
  // safe to call concurrently).
  SevGuestProvider(Options options, DeviceOpener open_device);
  SevGuestProvider(const SevGuestProvider&) = delete;
  SevGuestProvider& operator=(const SevGuestProvider&) = delete;

  Result<RawEvidence> GetEvidence(ByteView report_data, std::uint32_t vmpl = 0) override;
  std::string name() const override { return "sev-guest"; }

 private:
  Options options_;
  DeviceOpener open_device_;
};

}  // namespace perimeter::attest::snp

#endif  // PERIMETER_ATTEST_SNP_SEV_GUEST_PROVIDER_H_
