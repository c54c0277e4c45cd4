#include "perimeter/attest/snp/configfs_tsm_provider.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>

#include "perimeter/attest/snp/cert_table.h"
#include "perimeter/attest/snp/report.h"

#include "perimeter/base/unique_fd.h"

namespace perimeter::attest::snp {
namespace {

// Report fields the provider checks itself (ABI Table "ATTESTATION_REPORT").
constexpr std::size_t kReportVmplOffset = 0x30;
constexpr std::size_t kReportDataOffset = 0x50;
constexpr std::size_t kMaxAttributeSize = 64;
constexpr std::uint32_t kMaxVmpl = 3;  // TSM_REPORT_PRIVLEVEL_MAX


std::string ErrnoText(int err) { return std::strerror(err); }

Status ErrnoStatus(int err, std::string_view what, const std::string& path) {
  std::string msg = "configfs-tsm: " + std::string(what) + " " + path + ": " + ErrnoText(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError("snp.provider_unavailable", msg);
    case EACCES:
    case EPERM:
      return PermissionDeniedError("snp.provider_permission_denied", msg);
    case EEXIST:
      return AlreadyExistsError("snp.provider_io", msg);
    default:
      return InternalError("snp.provider_io", msg);
  }
}

class PosixTsmFileOps final : public TsmFileOps {
 public:
  Status MakeDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0700) != 0) return ErrnoStatus(errno, "mkdir", path);
    return Status::Ok();
  }
  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return ErrnoStatus(errno, "rmdir", path);
    return Status::Ok();
  }
  Status WriteFile(const std::string& path, ByteView data) override {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) return ErrnoStatus(errno, "open", path);
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus(errno, "write", path);
      if (n == 0) return InternalError("snp.provider_io", "configfs-tsm: short write to " + path);
      done += static_cast<std::size_t>(n);
    }
    // configfs commits a binary attribute (inblob) when the file is closed,
    // so a failed close is a failed write.
    if (int err = fd.Close(); err != 0) return ErrnoStatus(err, "close", path);
    return Status::Ok();
  }
  Result<Bytes> ReadFile(const std::string& path, std::size_t max_size) override {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) return ErrnoStatus(errno, "open", path);
    // Read at most max_size + 1 bytes: one extra byte tells "too large"
    // apart from "exactly max_size" without trusting st_size.
    Bytes out(max_size + 1);
    std::size_t got = 0;
    while (got < out.size()) {
      ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return UnavailableError("snp.provider_request_failed",
                                "configfs-tsm: read " + path + ": " + ErrnoText(errno));
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got > max_size) {
      return ResourceExhaustedError("snp.provider_blob_too_large",
                                    "configfs-tsm: " + path + " exceeds " + std::to_string(max_size) + " bytes");
    }
    out.resize(got);
    return out;
  }
  bool IsDirectory(const std::string& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
};

// Removes the entry directory when the call ends, whatever the outcome.
class EntryGuard {
 public:
  EntryGuard(TsmFileOps& ops, std::string path) : ops_(ops), path_(std::move(path)) {}
  ~EntryGuard() { (void)ops_.RemoveDir(path_); }
  EntryGuard(const EntryGuard&) = delete;
  EntryGuard& operator=(const EntryGuard&) = delete;

 private:
  TsmFileOps& ops_;
  std::string path_;
};

// The text of a small attribute without one trailing newline.
Result<std::string> ReadAttribute(TsmFileOps& ops, const std::string& path) {
  PERIMETER_ASSIGN_OR_RETURN(Bytes raw, ops.ReadFile(path, kMaxAttributeSize));
  std::string text(raw.begin(), raw.end());
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

Result<std::uint64_t> ReadGeneration(TsmFileOps& ops, const std::string& path) {
  PERIMETER_ASSIGN_OR_RETURN(std::string text, ReadAttribute(ops, path));
  if (text.empty() || text.size() > 19) {
    return DataLossError("snp.provider_bad_attribute", "configfs-tsm: bad generation value");
  }
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return DataLossError("snp.provider_bad_attribute", "configfs-tsm: bad generation value");
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

Status MapEntryError(const Status& s) {
  // A missing attribute inside our own entry means the interface is not
  // what we expect (no TSM provider registered, or an older kernel).
  if (s.code() == StatusCode::kNotFound) {
    return UnavailableError("snp.provider_unavailable", std::string(s.message()));
  }
  return s;
}

}  // namespace

std::unique_ptr<TsmFileOps> NewPosixTsmFileOps() { return std::make_unique<PosixTsmFileOps>(); }

ConfigfsTsmProvider::ConfigfsTsmProvider(Options options)
    : ConfigfsTsmProvider(std::move(options), NewPosixTsmFileOps()) {}

ConfigfsTsmProvider::ConfigfsTsmProvider(Options options, std::unique_ptr<TsmFileOps> ops)
    : options_(std::move(options)), ops_(std::move(ops)) {}

std::string ConfigfsTsmProvider::EntryName() {
  if (!options_.entry_name.empty()) return options_.entry_name;
  static std::atomic<std::uint64_t> counter{0};
  const auto now = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return "perimeter-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) + "-" +
         std::to_string(now & 0xFFFFFFFFu);
}

Result<RawEvidence> ConfigfsTsmProvider::GetEvidence(ByteView report_data, std::uint32_t vmpl) {
  if (report_data.size() != kReportDataSize) {
    return InvalidArgumentError("snp.provider_bad_report_data", "configfs-tsm: report_data must be 64 bytes");
  }
  if (vmpl > kMaxVmpl) return InvalidArgumentError("snp.provider_bad_vmpl", "configfs-tsm: vmpl must be 0..3");
  if (!ops_->IsDirectory(options_.root)) {
    return UnavailableError("snp.provider_unavailable", "configfs-tsm: " + options_.root + " is not a directory");
  }

  // 1. A private entry. A generated name that already exists is retried.
  std::string entry;
  Status made;
  for (int attempt = 0; attempt < 3; ++attempt) {
    entry = options_.root + "/" + EntryName();
    made = ops_->MakeDir(entry);
    if (made.code() != StatusCode::kAlreadyExists || !options_.entry_name.empty()) break;
  }
  if (!made.ok()) {
    if (made.code() == StatusCode::kNotFound) {
      return UnavailableError("snp.provider_unavailable", std::string(made.message()));
    }
    return made;
  }
  EntryGuard guard(*ops_, entry);

  // 2. The TSM behind configfs must be the SEV guest driver.
  Result<std::string> provider = ReadAttribute(*ops_, entry + "/provider");
  if (!provider.ok()) return MapEntryError(provider.error());
  if (*provider != kConfigfsTsmSevProvider) {
    return FailedPreconditionError("snp.provider_wrong_tsm",
                                   "configfs-tsm: provider is \"" + *provider + "\", want sev_guest");
  }

  // 3-5. Generation, then our writes.
  Result<std::uint64_t> gen_before = ReadGeneration(*ops_, entry + "/generation");
  if (!gen_before.ok()) return MapEntryError(gen_before.error());
  std::uint64_t writes = 0;
  if (vmpl != 0) {
    const std::string text = std::to_string(vmpl);
    Status s = ops_->WriteFile(entry + "/privlevel", AsBytes(text));
    if (!s.ok()) return MapEntryError(s);
    ++writes;
  }
  if (Status s = ops_->WriteFile(entry + "/inblob", report_data); !s.ok()) return MapEntryError(s);
  ++writes;

  // 6-7. The report and the certificate table.
  Result<Bytes> outblob = ops_->ReadFile(entry + "/outblob", kReportSize);
  if (!outblob.ok()) {
    if (outblob.error().code() == StatusCode::kResourceExhausted) {
      return DataLossError("snp.provider_bad_report_size", "configfs-tsm: outblob is larger than 1184 bytes");
    }
    return MapEntryError(outblob.error());
  }
  Bytes auxblob;
  Result<Bytes> aux = ops_->ReadFile(entry + "/auxblob", kMaxAuxBlobSize);
  if (aux.ok()) {
    auxblob = std::move(aux).value();
  } else if (aux.error().code() != StatusCode::kNotFound) {  // absent: no certificates
    return aux.error();
  }

  // 8. Nobody else wrote to the entry in between.
  Result<std::uint64_t> gen_after = ReadGeneration(*ops_, entry + "/generation");
  if (!gen_after.ok()) return MapEntryError(gen_after.error());
  if (*gen_after != *gen_before + writes) {
    return UnavailableError("snp.provider_generation_changed",
                            "configfs-tsm: generation went from " + std::to_string(*gen_before) + " to " +
                                std::to_string(*gen_after) + " across " + std::to_string(writes) +
                                " writes; a concurrent writer used the entry");
  }

  // The report is ours: right size, our REPORT_DATA, our VMPL.
  if (outblob->size() != kReportSize) {
    return DataLossError("snp.provider_bad_report_size",
                         "configfs-tsm: outblob is " + std::to_string(outblob->size()) + " bytes, want 1184");
  }
  const std::uint8_t* r = outblob->data();
  const std::uint32_t report_vmpl = static_cast<std::uint32_t>(r[kReportVmplOffset]) |
                                    (static_cast<std::uint32_t>(r[kReportVmplOffset + 1]) << 8) |
                                    (static_cast<std::uint32_t>(r[kReportVmplOffset + 2]) << 16) |
                                    (static_cast<std::uint32_t>(r[kReportVmplOffset + 3]) << 24);
  if (std::memcmp(r + kReportDataOffset, report_data.data(), kReportDataSize) != 0 || report_vmpl != vmpl) {
    return DataLossError("snp.provider_report_mismatch",
                         "configfs-tsm: outblob does not carry the requested REPORT_DATA and VMPL");
  }

  RawEvidence ev;
  if (!auxblob.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(ev.certs, ParseCertTable(auxblob));
  }
  ev.report = std::move(outblob).value();
  ev.provider = name();
  return ev;
}

}  // namespace perimeter::attest::snp
