#include "perimeter/attest/snp/sev_guest_provider.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "perimeter/attest/snp/cert_table.h"
#include "perimeter/attest/snp/report.h"

#if __has_include(<linux/sev-guest.h>)
#define PERIMETER_HAVE_LINUX_SEV_GUEST_H 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"  // anonymous struct in the exitinfo2 union
#include <linux/sev-guest.h>
#pragma GCC diagnostic pop
#endif

#include "perimeter/base/unique_fd.h"

namespace perimeter::attest::snp {

// ---- ABI layout checks (uapi <linux/sev-guest.h>) ----
namespace abi = sev_guest_abi;

static_assert(std::is_standard_layout_v<abi::ReportReq> && std::is_trivially_copyable_v<abi::ReportReq>);
static_assert(sizeof(abi::ReportReq) == 96);
static_assert(offsetof(abi::ReportReq, user_data) == 0x00);
static_assert(offsetof(abi::ReportReq, vmpl) == 0x40);
static_assert(offsetof(abi::ReportReq, rsvd) == 0x44);
static_assert(sizeof(abi::ReportResp) == 4000);
static_assert(std::is_standard_layout_v<abi::ExtReportReq>);
static_assert(sizeof(abi::ExtReportReq) == 112);  // 0x6C of fields, padded to 8
static_assert(offsetof(abi::ExtReportReq, data) == 0x00);
static_assert(offsetof(abi::ExtReportReq, certs_address) == 0x60);
static_assert(offsetof(abi::ExtReportReq, certs_len) == 0x68);
static_assert(std::is_standard_layout_v<abi::GuestRequestIoctl>);
static_assert(sizeof(abi::GuestRequestIoctl) == 32);
static_assert(offsetof(abi::GuestRequestIoctl, msg_version) == 0x00);
static_assert(offsetof(abi::GuestRequestIoctl, req_data) == 0x08);
static_assert(offsetof(abi::GuestRequestIoctl, resp_data) == 0x10);
static_assert(offsetof(abi::GuestRequestIoctl, exitinfo2) == 0x18);
static_assert(abi::kSnpGetReport == 0xC0205300ul);
static_assert(abi::kSnpGetExtReport == 0xC0205302ul);
static_assert(abi::kReportRspHeaderSize + kReportSize <= sizeof(abi::ReportResp));

#ifdef PERIMETER_HAVE_LINUX_SEV_GUEST_H
static_assert(sizeof(abi::ReportReq) == sizeof(struct snp_report_req));
static_assert(offsetof(abi::ReportReq, vmpl) == offsetof(struct snp_report_req, vmpl));
static_assert(offsetof(abi::ReportReq, rsvd) == offsetof(struct snp_report_req, rsvd));
static_assert(sizeof(abi::ReportResp) == sizeof(struct snp_report_resp));
static_assert(sizeof(abi::ExtReportReq) == sizeof(struct snp_ext_report_req));
static_assert(offsetof(abi::ExtReportReq, certs_address) == offsetof(struct snp_ext_report_req, certs_address));
static_assert(offsetof(abi::ExtReportReq, certs_len) == offsetof(struct snp_ext_report_req, certs_len));
static_assert(sizeof(abi::GuestRequestIoctl) == sizeof(struct snp_guest_request_ioctl));
static_assert(offsetof(abi::GuestRequestIoctl, req_data) == offsetof(struct snp_guest_request_ioctl, req_data));
static_assert(offsetof(abi::GuestRequestIoctl, resp_data) == offsetof(struct snp_guest_request_ioctl, resp_data));
static_assert(offsetof(abi::GuestRequestIoctl, exitinfo2) == offsetof(struct snp_guest_request_ioctl, exitinfo2));
static_assert(abi::kVmmErrShift == SNP_GUEST_VMM_ERR_SHIFT);
static_assert(abi::kVmmErrInvalidLen == SNP_GUEST_VMM_ERR_INVALID_LEN);
static_assert(abi::kVmmErrBusy == SNP_GUEST_VMM_ERR_BUSY);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"  // the _IOWR macro casts
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wconversion"
static_assert(abi::kSnpGetReport == SNP_GET_REPORT);
static_assert(abi::kSnpGetExtReport == SNP_GET_EXT_REPORT);
#pragma GCC diagnostic pop
#endif

namespace {

constexpr std::size_t kReportVmplOffset = 0x30;
constexpr std::size_t kReportDataOffset = 0x50;
constexpr std::size_t kCanarySize = 64;
constexpr std::uint32_t kMaxVmpl = 3;

std::uint32_t LoadLittleEndian32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

std::uint8_t CanaryByte(std::size_t i) { return static_cast<std::uint8_t>(0xA5 ^ (i * 29 + 11)); }

// `size` usable bytes (zeroed) between two canary regions.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(std::size_t size) : size_(size), buf_(size + 2 * kCanarySize, 0) {
    for (std::size_t i = 0; i < kCanarySize; ++i) {
      buf_[i] = CanaryByte(i);
      buf_[kCanarySize + size_ + i] = CanaryByte(i + kCanarySize);
    }
  }
  std::uint8_t* data() { return buf_.data() + kCanarySize; }
  ByteView view() const { return ByteView(buf_.data() + kCanarySize, size_); }
  bool Intact() const {
    for (std::size_t i = 0; i < kCanarySize; ++i) {
      if (buf_[i] != CanaryByte(i) || buf_[kCanarySize + size_ + i] != CanaryByte(i + kCanarySize)) return false;
    }
    return true;
  }

 private:
  std::size_t size_;
  Bytes buf_;
};

std::uint64_t Address(const void* p) { return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)); }


class FdSevGuestDevice final : public SevGuestDevice {
 public:
  explicit FdSevGuestDevice(int fd) : fd_(fd) {}
  int Ioctl(unsigned long request, abi::GuestRequestIoctl& arg) override {
    return ::ioctl(fd_.get(), request, &arg) == 0 ? 0 : errno;
  }

 private:
  UniqueFd fd_;
};

Status SentinelError(std::string_view which) {
  return InternalError("snp.provider_sentinel",
                       "sev-guest: the ioctl overwrote the safety sentinels around the " + std::string(which));
}

Status RequestFailed(int err, const abi::GuestRequestIoctl& arg) {
  const auto fw = static_cast<std::uint32_t>(arg.exitinfo2 & 0xFFFFFFFFu);
  const auto vmm = static_cast<std::uint32_t>(arg.exitinfo2 >> abi::kVmmErrShift);
  return UnavailableError("snp.provider_request_failed",
                          "sev-guest: ioctl failed: " + std::string(std::strerror(err)) +
                              " (fw_error=" + std::to_string(fw) + ", vmm_error=" + std::to_string(vmm) + ")");
}

// The report is the one we asked for.
Status CheckBinding(const Bytes& report, ByteView report_data, std::uint32_t vmpl) {
  if (std::memcmp(report.data() + kReportDataOffset, report_data.data(), kReportDataSize) != 0 ||
      LoadLittleEndian32(report.data() + kReportVmplOffset) != vmpl) {
    return DataLossError("snp.provider_report_mismatch",
                         "sev-guest: the report does not carry the requested REPORT_DATA and VMPL");
  }
  return Status::Ok();
}

}  // namespace

Result<abi::ReportReq> BuildReportRequest(ByteView report_data, std::uint32_t vmpl) {
  if (report_data.size() != kReportDataSize) {
    return InvalidArgumentError("snp.provider_bad_report_data", "sev-guest: report_data must be 64 bytes");
  }
  if (vmpl > kMaxVmpl) return InvalidArgumentError("snp.provider_bad_vmpl", "sev-guest: vmpl must be 0..3");
  abi::ReportReq req;
  std::memset(&req, 0, sizeof(req));
  std::memcpy(req.user_data, report_data.data(), kReportDataSize);
  req.vmpl = vmpl;
  return req;
}

Result<Bytes> ParseReportResponse(ByteView response) {
  if (response.size() < abi::kReportRspHeaderSize + kReportSize) {
    return DataLossError("snp.provider_response_truncated", "sev-guest: MSG_REPORT_RSP is too short");
  }
  const std::uint32_t status = LoadLittleEndian32(response.data());
  const std::uint32_t report_size = LoadLittleEndian32(response.data() + 4);
  if (status != 0) {
    return UnavailableError("snp.provider_firmware_error",
                            "sev-guest: firmware status " + std::to_string(status) + " in MSG_REPORT_RSP");
  }
  if (report_size != kReportSize) {
    return DataLossError("snp.provider_bad_report_size",
                         "sev-guest: report_size is " + std::to_string(report_size) + ", want 1184");
  }
  auto first = response.begin() + static_cast<std::ptrdiff_t>(abi::kReportRspHeaderSize);
  return Bytes(first, first + static_cast<std::ptrdiff_t>(kReportSize));
}

Result<std::unique_ptr<SevGuestDevice>> OpenSevGuestDevice(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string msg = "sev-guest: open " + path + ": " + std::strerror(err);
    switch (err) {
      case ENOENT:
      case ENODEV:
      case ENXIO:
      case ENOTDIR:
        return UnavailableError("snp.provider_unavailable", msg);
      case EACCES:
      case EPERM:
        return PermissionDeniedError("snp.provider_permission_denied", msg);
      default:
        return InternalError("snp.provider_io", msg);
    }
  }
  return std::unique_ptr<SevGuestDevice>(std::make_unique<FdSevGuestDevice>(fd));
}

SevGuestProvider::SevGuestProvider(Options options) : SevGuestProvider(std::move(options), OpenSevGuestDevice) {}

SevGuestProvider::SevGuestProvider(Options options, DeviceOpener open_device)
    : options_(std::move(options)), open_device_(std::move(open_device)) {}

Result<RawEvidence> SevGuestProvider::GetEvidence(ByteView report_data, std::uint32_t vmpl) {
  PERIMETER_ASSIGN_OR_RETURN(abi::ReportReq req, BuildReportRequest(report_data, vmpl));
  if (options_.extended_report &&
      (options_.initial_certs_len == 0 || options_.initial_certs_len % kSevGuestPageSize != 0 ||
       options_.initial_certs_len > options_.max_certs_len)) {
    return InvalidArgumentError("snp.provider_bad_options",
                                "sev-guest: initial_certs_len must be a non-zero page multiple <= max_certs_len");
  }
  PERIMETER_ASSIGN_OR_RETURN(std::unique_ptr<SevGuestDevice> device, open_device_(options_.device_path));

  RawEvidence ev;
  ev.provider = name();
  GuardedBuffer resp(sizeof(abi::ReportResp));

  if (!options_.extended_report) {
    abi::GuestRequestIoctl arg{};
    arg.msg_version = abi::kMsgVersion;
    arg.req_data = Address(&req);
    arg.resp_data = Address(resp.data());
    const int err = device->Ioctl(abi::kSnpGetReport, arg);
    if (!resp.Intact()) return SentinelError("response buffer");
    if (err != 0) return RequestFailed(err, arg);
    PERIMETER_ASSIGN_OR_RETURN(ev.report, ParseReportResponse(resp.view()));
    PERIMETER_RETURN_IF_ERROR(CheckBinding(ev.report, report_data, vmpl));
    return ev;
  }

  std::uint32_t certs_len = options_.initial_certs_len;
  for (int attempt = 0; attempt < 2; ++attempt) {
    GuardedBuffer certs(certs_len);
    abi::ExtReportReq ext;
    std::memset(&ext, 0, sizeof(ext));
    ext.data = req;
    ext.certs_address = Address(certs.data());
    ext.certs_len = certs_len;
    abi::GuestRequestIoctl arg{};
    arg.msg_version = abi::kMsgVersion;
    arg.req_data = Address(&ext);
    arg.resp_data = Address(resp.data());
    const int err = device->Ioctl(abi::kSnpGetExtReport, arg);
    if (!resp.Intact()) return SentinelError("response buffer");
    if (!certs.Intact()) return SentinelError("certificate buffer");
    if (err != 0) {
      const auto vmm = static_cast<std::uint32_t>(arg.exitinfo2 >> abi::kVmmErrShift);
      if (vmm != abi::kVmmErrInvalidLen || attempt != 0) return RequestFailed(err, arg);
      // The kernel wrote back the length it needs. Believe it only within
      // reason: larger than what we offered, page-aligned, bounded.
      const std::uint32_t needed = ext.certs_len;
      if (needed <= certs_len || needed % kSevGuestPageSize != 0 || needed > options_.max_certs_len) {
        return ResourceExhaustedError("snp.provider_certs_too_large",
                                      "sev-guest: the host asks for a " + std::to_string(needed) +
                                          "-byte certificate buffer (offered " + std::to_string(certs_len) +
                                          ", limit " + std::to_string(options_.max_certs_len) + ")");
      }
      certs_len = needed;
      continue;
    }
    PERIMETER_ASSIGN_OR_RETURN(ev.report, ParseReportResponse(resp.view()));
    PERIMETER_RETURN_IF_ERROR(CheckBinding(ev.report, report_data, vmpl));
    // The kernel zero-fills the buffer when the host has no certificates:
    // the first entry is then the terminator and the table is empty.
    PERIMETER_ASSIGN_OR_RETURN(ev.certs, ParseCertTable(certs.view()));
    return ev;
  }
  // Unreachable: the second attempt returns on every path.
  return InternalError("snp.provider_request_failed", "sev-guest: extended report retry exhausted");
}

}  // namespace perimeter::attest::snp
