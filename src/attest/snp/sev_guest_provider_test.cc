#include "perimeter/attest/snp/sev_guest_provider.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

#include "perimeter/attest/snp/cert_table.h"
#include "perimeter/attest/snp/report.h"
#include "tests/testing/matchers.h"

namespace perimeter::attest::snp {
namespace {

namespace abi = sev_guest_abi;
using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

constexpr std::uint32_t kPage = kSevGuestPageSize;

template <typename T>
T* Ptr(std::uint64_t address) {
  return reinterpret_cast<T*>(static_cast<std::uintptr_t>(address));
}

void PutLe32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

Bytes ReportData() {
  Bytes d(64);
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(0x40 + i);
  return d;
}

// A MSG_REPORT_RSP as the firmware returns it for `req`.
void FillResponse(std::uint8_t* resp, const abi::ReportReq& req, std::uint32_t status = 0,
                  std::uint32_t report_size = kReportSize) {
  std::memset(resp, 0, sizeof(abi::ReportResp));
  PutLe32(resp, status);
  PutLe32(resp + 4, report_size);
  std::uint8_t* report = resp + abi::kReportRspHeaderSize;
  report[0] = 2;
  PutLe32(report + 0x30, req.vmpl);
  std::memcpy(report + 0x50, req.user_data, 64);
}

Bytes Certs() {
  CertTableEntry vcek, ask, ark;
  vcek.guid = GuidFromString(kGuidVcek).value();
  vcek.data = Bytes(1300, 0x01);
  ask.guid = GuidFromString(kGuidAsk).value();
  ask.data = Bytes(1600, 0x02);
  ark.guid = GuidFromString(kGuidArk).value();
  ark.data = Bytes(1700, 0x03);
  return BuildCertTable({vcek, ask, ark});
}

// A scriptable /dev/sev-guest.
struct FakeKernel {
  std::function<int(unsigned long, abi::GuestRequestIoctl&, int call)> handler;
  int calls = 0;
  std::vector<unsigned long> requests;
  std::vector<std::uint32_t> certs_lens;
};

class FakeDevice final : public SevGuestDevice {
 public:
  explicit FakeDevice(FakeKernel* k) : k_(k) {}
  int Ioctl(unsigned long request, abi::GuestRequestIoctl& arg) override {
    k_->requests.push_back(request);
    if (request == abi::kSnpGetExtReport) k_->certs_lens.push_back(Ptr<abi::ExtReportReq>(arg.req_data)->certs_len);
    return k_->handler(request, arg, k_->calls++);
  }

 private:
  FakeKernel* k_;
};

SevGuestProvider MakeProvider(FakeKernel* k, SevGuestProvider::Options o = {}) {
  return SevGuestProvider(o, [k](const std::string&) -> Result<std::unique_ptr<SevGuestDevice>> {
    return std::unique_ptr<SevGuestDevice>(std::make_unique<FakeDevice>(k));
  });
}

// The happy extended-report kernel: report plus `certs` in the buffer.
int GoodExt(abi::GuestRequestIoctl& arg, const Bytes& certs) {
  auto* ext = Ptr<abi::ExtReportReq>(arg.req_data);
  FillResponse(Ptr<std::uint8_t>(arg.resp_data), ext->data);
  if (certs.size() > ext->certs_len) {
    ext->certs_len = static_cast<std::uint32_t>((certs.size() + kPage - 1) / kPage * kPage);
    arg.exitinfo2 = std::uint64_t{abi::kVmmErrInvalidLen} << abi::kVmmErrShift;
    return EIO;
  }
  if (!certs.empty()) std::memcpy(Ptr<std::uint8_t>(ext->certs_address), certs.data(), certs.size());
  return 0;
}

TEST(SevGuestAbi, LayoutAndIoctlNumbers) {
  // Also static_asserted in the .cc (against <linux/sev-guest.h> when present).
  EXPECT_EQ(sizeof(abi::ReportReq), 96u);
  EXPECT_EQ(sizeof(abi::ReportResp), 4000u);
  EXPECT_EQ(sizeof(abi::ExtReportReq), 112u);
  EXPECT_EQ(sizeof(abi::GuestRequestIoctl), 32u);
  EXPECT_EQ(abi::kSnpGetReport, 0xC0205300ul);
  EXPECT_EQ(abi::kSnpGetExtReport, 0xC0205302ul);
  EXPECT_EQ(abi::IoctlReadWrite('S', 0x1, 32), 0xC0205301ul);  // SNP_GET_DERIVED_KEY
}

TEST(SevGuestRequest, PlacesUserDataAndVmpl) {
  Result<abi::ReportReq> req = BuildReportRequest(ReportData(), 3);
  ASSERT_THAT(req, IsOk());
  EXPECT_EQ(Bytes(req->user_data, req->user_data + 64), ReportData());
  EXPECT_EQ(req->vmpl, 3u);
  EXPECT_EQ(Bytes(req->rsvd, req->rsvd + 28), Bytes(28, 0));
  // The raw bytes: user_data at 0, vmpl little-endian at 0x40.
  std::uint8_t raw[sizeof(abi::ReportReq)];
  std::memcpy(raw, &*req, sizeof(raw));
  EXPECT_EQ(raw[0], 0x40);
  EXPECT_EQ(raw[63], 0x7F);
  EXPECT_EQ(raw[0x40], 3);
  EXPECT_EQ(raw[0x41], 0);
}

TEST(SevGuestRequest, RejectsBadInput) {
  EXPECT_THAT(BuildReportRequest(Bytes(63, 0), 0),
              StatusIs(StatusCode::kInvalidArgument, "snp.provider_bad_report_data"));
  EXPECT_THAT(BuildReportRequest(Bytes(65, 0), 0),
              StatusIs(StatusCode::kInvalidArgument, "snp.provider_bad_report_data"));
  EXPECT_THAT(BuildReportRequest(ReportData(), 4), StatusIs(StatusCode::kInvalidArgument, "snp.provider_bad_vmpl"));
}

TEST(SevGuestResponse, Parses) {
  abi::ReportReq req = BuildReportRequest(ReportData(), 1).value();
  abi::ReportResp resp;
  FillResponse(resp.data, req);
  Result<Bytes> report = ParseReportResponse(ByteView(resp.data, sizeof(resp.data)));
  ASSERT_THAT(report, IsOk());
  ASSERT_EQ(report->size(), kReportSize);
  EXPECT_EQ((*report)[0], 2);
  EXPECT_EQ(Bytes(report->begin() + 0x50, report->begin() + 0x90), ReportData());
  // Exactly header + report is enough.
  EXPECT_THAT(ParseReportResponse(ByteView(resp.data, 0x20 + kReportSize)), IsOk());
}

TEST(SevGuestResponse, RejectsBadStatusSizeAndTruncation) {
  abi::ReportReq req = BuildReportRequest(ReportData(), 0).value();
  abi::ReportResp resp;
  FillResponse(resp.data, req, /*status=*/0x16);
  EXPECT_THAT(ParseReportResponse(ByteView(resp.data, sizeof(resp.data))),
              StatusIs(StatusCode::kUnavailable, "snp.provider_firmware_error"));
  for (std::uint32_t size : {0u, 1183u, 1185u, 4000u, 0xFFFFFFFFu}) {
    FillResponse(resp.data, req, 0, size);
    EXPECT_THAT(ParseReportResponse(ByteView(resp.data, sizeof(resp.data))),
                StatusIs(StatusCode::kDataLoss, "snp.provider_bad_report_size"))
        << size;
  }
  FillResponse(resp.data, req);
  for (std::size_t len : {std::size_t{0}, std::size_t{7}, std::size_t{0x20}, 0x20 + kReportSize - 1}) {
    EXPECT_THAT(ParseReportResponse(ByteView(resp.data, len)),
                StatusIs(StatusCode::kDataLoss, "snp.provider_response_truncated"))
        << len;
  }
}

TEST(SevGuestProvider, ExtendedReportWithCerts) {
  FakeKernel k;
  const Bytes certs = Certs();
  k.handler = [&](unsigned long, abi::GuestRequestIoctl& arg, int) {
    EXPECT_EQ(arg.msg_version, 1);
    auto* ext = Ptr<abi::ExtReportReq>(arg.req_data);
    EXPECT_EQ(Bytes(ext->data.user_data, ext->data.user_data + 64), ReportData());
    EXPECT_EQ(ext->data.vmpl, 1u);
    EXPECT_NE(ext->certs_address, 0u);
    return GoodExt(arg, certs);
  };
  SevGuestProvider p = MakeProvider(&k);
  Result<RawEvidence> ev = p.GetEvidence(ReportData(), 1);
  ASSERT_THAT(ev, IsOk());
  EXPECT_EQ(ev->provider, "sev-guest");
  EXPECT_EQ(Bytes(ev->report.begin() + 0x50, ev->report.begin() + 0x90), ReportData());
  ASSERT_EQ(ev->certs.size(), 3u);
  EXPECT_THAT(FindCert(ev->certs, kGuidArk), IsOk());
  EXPECT_EQ(k.requests, std::vector<unsigned long>{abi::kSnpGetExtReport});
  EXPECT_EQ(k.certs_lens, std::vector<std::uint32_t>{4 * kPage});
}

TEST(SevGuestProvider, ZeroFilledCertBufferMeansNoCerts) {
  FakeKernel k;
  k.handler = [&](unsigned long, abi::GuestRequestIoctl& arg, int) { return GoodExt(arg, {}); };
  Result<RawEvidence> ev = MakeProvider(&k).GetEvidence(ReportData());
  ASSERT_THAT(ev, IsOk());
  EXPECT_TRUE(ev->certs.empty());
}

TEST(SevGuestProvider, PlainReport) {
  FakeKernel k;
  k.handler = [&](unsigned long request, abi::GuestRequestIoctl& arg, int) {
    EXPECT_EQ(request, abi::kSnpGetReport);
    FillResponse(Ptr<std::uint8_t>(arg.resp_data), *Ptr<abi::ReportReq>(arg.req_data));
    return 0;
  };
  SevGuestProvider::Options o;
  o.extended_report = false;
  Result<RawEvidence> ev = MakeProvider(&k, o).GetEvidence(ReportData());
  ASSERT_THAT(ev, IsOk());
  EXPECT_TRUE(ev->certs.empty());
  EXPECT_EQ(k.calls, 1);
}

TEST(SevGuestProvider, RetriesOnceWithTheLengthTheKernelAsksFor) {
  FakeKernel k;
  Bytes certs = Certs();
  certs.resize(5 * kPage + 10, 0);  // needs 6 pages; the first guess is 1
  k.handler = [&](unsigned long, abi::GuestRequestIoctl& arg, int) { return GoodExt(arg, certs); };
  SevGuestProvider::Options o;
  o.initial_certs_len = kPage;
  Result<RawEvidence> ev = MakeProvider(&k, o).GetEvidence(ReportData());
  ASSERT_THAT(ev, IsOk());
  EXPECT_EQ(ev->certs.size(), 3u);
  EXPECT_EQ(k.certs_lens, (std::vector<std::uint32_t>{kPage, 6 * kPage}));
}

TEST(SevGuestProvider, RetryLengthMustBeSane) {
  struct Case {
    std::uint32_t asked;
    const char* what;
  };
  for (Case c : {Case{65 * kPage, "over the limit"}, Case{kPage, "not larger"}, Case{kPage / 2, "smaller"},
                 Case{2 * kPage + 1, "not page-aligned"}, Case{0xFFFFF000u, "huge"}}) {
    FakeKernel k;
    k.handler = [&](unsigned long, abi::GuestRequestIoctl& arg, int) {
      Ptr<abi::ExtReportReq>(arg.req_data)->certs_len = c.asked;
      arg.exitinfo2 = std::uint64_t{abi::kVmmErrInvalidLen} << abi::kVmmErrShift;
      return EIO;
    };
    SevGuestProvider::Options o;
    o.initial_certs_len = kPage;
    EXPECT_THAT(MakeProvider(&k, o).GetEvidence(ReportData()),
                StatusIs(StatusCode::kResourceExhausted, "snp.provider_certs_too_large"))
        << c.what;
    EXPECT_EQ(k.calls, 1) << c.what;
  }
}

TEST(SevGuestProvider, InvalidLengthTwiceFails) {
  FakeKernel k;
  k.handler = [&](unsigned long, abi::GuestRequestIoctl& arg, int call) {
    auto* ext = Ptr<abi::ExtReportReq>(arg.req_data);
    ext->certs_len = static_cast<std::uint32_t>(call + 2) * 4 * kPage;
    arg.exitinfo2 = std::uint64_t{abi::kVmmErrInvalidLen} << abi::kVmmErrShift;
    return EIO;
  };
  EXPECT_THAT(MakeProvider(&k).GetEvidence(ReportData()),
              StatusIs(StatusCode::kUnavailable, "snp.provider_request_failed"));
  EXPECT_EQ(k.calls, 2);
}

TEST(SevGuestProvider, IoctlAndFirmwareErrors) {
  FakeKernel k;
  k.handler = [&](unsigned long, abi::GuestRequestIoctl& arg, int) {
    arg.exitinfo2 = 0x16;  // fw_error INVALID_PARAM
    return EIO;
  };
  EXPECT_THAT(MakeProvider(&k).GetEvidence(ReportData()),
              StatusIs(StatusCode::kUnavailable, "snp.provider_request_failed"));
  EXPECT_EQ(k.calls, 1);

  k.handler = [&](unsigned long, abi::GuestRequestIoctl& arg, int) {
    FillResponse(Ptr<std::uint8_t>(arg.resp_data), Ptr<abi::ExtReportReq>(arg.req_data)->data, 0x27);
    return 0;
  };
  EXPECT_THAT(MakeProvider(&k).GetEvidence(ReportData()),
              StatusIs(StatusCode::kUnavailable, "snp.provider_firmware_error"));
}

TEST(SevGuestProvider, ReportMustCarryOurReportDataAndVmpl) {
  FakeKernel k;
  k.handler = [&](unsigned long, abi::GuestRequestIoctl& arg, int) {
    abi::ReportReq other = Ptr<abi::ExtReportReq>(arg.req_data)->data;
    other.user_data[5] ^= 1;
    FillResponse(Ptr<std::uint8_t>(arg.resp_data), other);
    return 0;
  };
  EXPECT_THAT(MakeProvider(&k).GetEvidence(ReportData()),
              StatusIs(StatusCode::kDataLoss, "snp.provider_report_mismatch"));
  k.handler = [&](unsigned long, abi::GuestRequestIoctl& arg, int) {
    abi::ReportReq other = Ptr<abi::ExtReportReq>(arg.req_data)->data;
    other.vmpl = 2;
    FillResponse(Ptr<std::uint8_t>(arg.resp_data), other);
    return 0;
  };
  EXPECT_THAT(MakeProvider(&k).GetEvidence(ReportData(), 1),
              StatusIs(StatusCode::kDataLoss, "snp.provider_report_mismatch"));
}

TEST(SevGuestProvider, DetectsWritesPastTheBuffers) {
  // Each case writes one byte just outside a buffer the kernel was given.
  const std::vector<std::pair<const char*, std::function<void(abi::GuestRequestIoctl&)>>> cases = {
      {"after response", [](abi::GuestRequestIoctl& a) { Ptr<std::uint8_t>(a.resp_data)[4000] = 0; }},
      {"before response", [](abi::GuestRequestIoctl& a) { Ptr<std::uint8_t>(a.resp_data)[-1] = 0; }},
      {"end of response guard", [](abi::GuestRequestIoctl& a) { Ptr<std::uint8_t>(a.resp_data)[4000 + 63] ^= 0xFF; }},
      {"after certs",
       [](abi::GuestRequestIoctl& a) {
         auto* ext = Ptr<abi::ExtReportReq>(a.req_data);
         Ptr<std::uint8_t>(ext->certs_address)[ext->certs_len] ^= 0xFF;
       }},
      {"before certs",
       [](abi::GuestRequestIoctl& a) { Ptr<std::uint8_t>(Ptr<abi::ExtReportReq>(a.req_data)->certs_address)[-1] = 0; }},
  };
  for (const auto& [what, scribble] : cases) {
    FakeKernel k;
    k.handler = [&](unsigned long, abi::GuestRequestIoctl& arg, int) {
      int rc = GoodExt(arg, Certs());
      scribble(arg);
      return rc;
    };
    EXPECT_THAT(MakeProvider(&k).GetEvidence(ReportData()),
                StatusIs(StatusCode::kInternal, "snp.provider_sentinel"))
        << what;
  }
  // Also when the ioctl reports failure.
  FakeKernel k;
  k.handler = [&](unsigned long, abi::GuestRequestIoctl& arg, int) {
    Ptr<std::uint8_t>(arg.resp_data)[4000] = 0;
    return EIO;
  };
  EXPECT_THAT(MakeProvider(&k).GetEvidence(ReportData()), StatusIs(StatusCode::kInternal, "snp.provider_sentinel"));
}

TEST(SevGuestProvider, MalformedCertTableFails) {
  FakeKernel k;
  Bytes certs = Certs();
  certs[16] = 1;  // first offset now points into the table
  certs[17] = 0;
  k.handler = [&](unsigned long, abi::GuestRequestIoctl& arg, int) { return GoodExt(arg, certs); };
  EXPECT_THAT(MakeProvider(&k).GetEvidence(ReportData()),
              StatusIs(StatusCode::kInvalidArgument, "snp.cert_table_bad_entry"));
}

TEST(SevGuestProvider, BadOptionsAndBadInput) {
  FakeKernel k;
  k.handler = [&](unsigned long, abi::GuestRequestIoctl&, int) { return 0; };
  for (std::uint32_t initial : {0u, 100u, 65 * kPage}) {
    SevGuestProvider::Options o;
    o.initial_certs_len = initial;
    EXPECT_THAT(MakeProvider(&k, o).GetEvidence(ReportData()),
                StatusIs(StatusCode::kInvalidArgument, "snp.provider_bad_options"))
        << initial;
  }
  EXPECT_THAT(MakeProvider(&k).GetEvidence(Bytes(32, 0)),
              StatusIs(StatusCode::kInvalidArgument, "snp.provider_bad_report_data"));
  EXPECT_THAT(MakeProvider(&k).GetEvidence(ReportData(), 7),
              StatusIs(StatusCode::kInvalidArgument, "snp.provider_bad_vmpl"));
  EXPECT_EQ(k.calls, 0);
}

TEST(SevGuestProvider, MissingDeviceIsUnavailable) {
  SevGuestProvider::Options o;
  o.device_path = "/nonexistent/perimeter-sev-guest";
  SevGuestProvider p(o);
  EXPECT_THAT(p.GetEvidence(ReportData()), StatusIs(StatusCode::kUnavailable, "snp.provider_unavailable"));
  EXPECT_THAT(OpenSevGuestDevice("/nonexistent/perimeter-sev-guest"),
              StatusIs(StatusCode::kUnavailable, "snp.provider_unavailable"));
}

TEST(SevGuestProvider, RealIoctlOnANonDeviceFails) {
  // A regular file opens O_RDWR but rejects the ioctl (ENOTTY).
  const auto path = std::filesystem::temp_directory_path() / ("perimeter-sev-guest-" + std::to_string(::getpid()));
  std::ofstream(path) << "x";
  SevGuestProvider::Options o;
  o.device_path = path.string();
  SevGuestProvider p(o);
  EXPECT_THAT(p.GetEvidence(ReportData()), StatusIs(StatusCode::kUnavailable, "snp.provider_request_failed"));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace perimeter::attest::snp
