#include "perimeter/attest/snp/cert_table.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

namespace perimeter::attest::snp {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
// Positions of the dashes in the 36-character text form.
constexpr std::array<std::size_t, 4> kDashes = {8, 13, 18, 23};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::uint32_t LoadLittleEndian32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

void StoreLittleEndian32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

bool IsNull(const Guid& g) {
  return std::all_of(g.begin(), g.end(), [](std::uint8_t b) { return b == 0; });
}

Status Bad(std::string_view reason, std::string_view what) {
  return InvalidArgumentError(reason, std::string("SEV-SNP certificate table: ") + std::string(what));
}

// A blob's byte range [begin, end) inside the table buffer.
struct Span {
  std::uint64_t begin;
  std::uint64_t end;
};

}  // namespace

std::string GuidToString(const Guid& guid) {
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < guid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHexDigits[guid[i] >> 4]);
    out.push_back(kHexDigits[guid[i] & 0xF]);
  }
  return out;
}

Result<Guid> GuidFromString(std::string_view text) {
  if (text.size() != 36) {
    return InvalidArgumentError("snp.bad_guid", "SEV-SNP: a GUID is 36 characters (8-4-4-4-12)");
  }
  Guid out{};
  std::size_t byte = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (std::find(kDashes.begin(), kDashes.end(), i) != kDashes.end()) {
      if (text[i] != '-') return InvalidArgumentError("snp.bad_guid", "SEV-SNP: GUID dash missing");
      ++i;
      continue;
    }
    // A dash position never splits a byte: dashes sit at even offsets of the
    // hex-only positions (8, 12, 16, 20 hex digits in).
    if (i + 1 >= text.size()) return InvalidArgumentError("snp.bad_guid", "SEV-SNP: GUID too short");
    int hi = HexValue(text[i]);
    int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgumentError("snp.bad_guid", "SEV-SNP: GUID has a non-hex character");
    out[byte++] = static_cast<std::uint8_t>((hi << 4) | lo);
    i += 2;
  }
  if (byte != out.size()) return InvalidArgumentError("snp.bad_guid", "SEV-SNP: malformed GUID");
  return out;
}

Result<std::vector<CertTableEntry>> ParseCertTable(ByteView table) {
  struct Header {
    Guid guid;
    std::uint32_t offset;
    std::uint32_t length;
  };
  std::vector<Header> headers;
  std::size_t pos = 0;
  bool terminated = false;
  while (pos + kCertTableEntrySize <= table.size()) {
    Header h{};
    std::memcpy(h.guid.data(), table.data() + pos, h.guid.size());
    h.offset = LoadLittleEndian32(table.data() + pos + 16);
    h.length = LoadLittleEndian32(table.data() + pos + 20);
    pos += kCertTableEntrySize;
    const bool null_guid = IsNull(h.guid);
    if (null_guid && h.offset == 0 && h.length == 0) {
      terminated = true;
      break;
    }
    if (headers.size() == kMaxCertTableEntries) {
      return Bad("snp.cert_table_too_many_entries",
                 "more than " + std::to_string(kMaxCertTableEntries) + " entries");
    }
    if (null_guid) return Bad("snp.cert_table_bad_entry", "entry with a null GUID before the terminator");
    if (h.length == 0) return Bad("snp.cert_table_bad_entry", "entry " + GuidToString(h.guid) + " has length 0");
    headers.push_back(h);
  }
  if (!terminated) return Bad("snp.cert_table_unterminated", "no all-zero terminator entry");
  const std::uint64_t table_end = pos;  // first byte after the terminator

  std::vector<Span> spans;
  spans.reserve(headers.size());
  for (const Header& h : headers) {
    const std::uint64_t begin = h.offset;
    const std::uint64_t end = begin + h.length;  // no overflow: both < 2^32
    if (begin < table_end) {
      return Bad("snp.cert_table_bad_entry", "blob of " + GuidToString(h.guid) + " starts inside the table");
    }
    if (end > table.size()) {
      return Bad("snp.cert_table_truncated", "blob of " + GuidToString(h.guid) + " runs past the buffer (" +
                                                 std::to_string(end) + " > " + std::to_string(table.size()) + ")");
    }
    spans.push_back(Span{begin, end});
  }
  for (std::size_t i = 0; i < headers.size(); ++i) {
    for (std::size_t j = i + 1; j < headers.size(); ++j) {
      if (headers[i].guid == headers[j].guid) {
        return Bad("snp.cert_table_duplicate", "GUID " + GuidToString(headers[i].guid) + " appears twice");
      }
      if (spans[i].begin < spans[j].end && spans[j].begin < spans[i].end) {
        return Bad("snp.cert_table_overlap",
                   "blobs of " + GuidToString(headers[i].guid) + " and " + GuidToString(headers[j].guid) + " overlap");
      }
    }
  }
  // Every byte after the table that no blob claims must be zero padding.
  std::vector<Span> sorted = spans;
  std::sort(sorted.begin(), sorted.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::uint64_t cursor = table_end;
  auto zero_until = [&](std::uint64_t limit) {
    for (std::uint64_t k = cursor; k < limit; ++k) {
      if (table[static_cast<std::size_t>(k)] != 0) return false;
    }
    return true;
  };
  for (const Span& s : sorted) {
    if (!zero_until(s.begin)) return Bad("snp.cert_table_trailing_data", "non-zero bytes outside any blob");
    cursor = s.end;
  }
  if (!zero_until(table.size())) return Bad("snp.cert_table_trailing_data", "non-zero bytes outside any blob");

  std::vector<CertTableEntry> out;
  out.reserve(headers.size());
  for (std::size_t i = 0; i < headers.size(); ++i) {
    CertTableEntry e;
    e.guid = headers[i].guid;
    auto first = table.begin() + static_cast<std::ptrdiff_t>(spans[i].begin);
    auto last = table.begin() + static_cast<std::ptrdiff_t>(spans[i].end);
    e.data.assign(first, last);
    out.push_back(std::move(e));
  }
  return out;
}

Bytes BuildCertTable(const std::vector<CertTableEntry>& entries) {
  const std::size_t header_size = (entries.size() + 1) * kCertTableEntrySize;
  std::size_t total = header_size;
  for (const CertTableEntry& e : entries) total += e.data.size();
  Bytes out(total, 0);
  std::size_t cursor = header_size;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const CertTableEntry& e = entries[i];
    std::uint8_t* h = out.data() + i * kCertTableEntrySize;
    std::memcpy(h, e.guid.data(), e.guid.size());
    StoreLittleEndian32(h + 16, static_cast<std::uint32_t>(cursor));
    StoreLittleEndian32(h + 20, static_cast<std::uint32_t>(e.data.size()));
    if (!e.data.empty()) std::memcpy(out.data() + cursor, e.data.data(), e.data.size());
    cursor += e.data.size();
  }
  return out;  // the terminator is the zero-filled entry after the last one
}

Result<ByteView> FindCert(const std::vector<CertTableEntry>& entries, std::string_view guid) {
  PERIMETER_ASSIGN_OR_RETURN(Guid want, GuidFromString(guid));
  for (const CertTableEntry& e : entries) {
    if (e.guid == want) return ByteView(e.data.data(), e.data.size());
  }
  return NotFoundError("snp.cert_not_found", "SEV-SNP: no certificate with GUID " + GuidToString(want));
}

}  // namespace perimeter::attest::snp
