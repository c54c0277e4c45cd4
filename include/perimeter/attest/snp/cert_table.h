// The SEV-SNP certificate table: how the host hands the guest its VCEK/VLEK,
// ASK and ARK certificates next to an extended attestation report.
//
// Where it comes from: the extended guest request of the GHCB specification
// (AMD publication 56421, "SNP Extended Guest Request"), surfaced to Linux
// guests as the certificate buffer of SNP_GET_EXT_REPORT (/dev/sev-guest) and
// as `auxblob` of configfs-tsm. The host writes it; the guest firmware does
// not sign or check it. It is therefore UNTRUSTED input: the certificates are
// only believed after the verifier has checked the chain to a pinned AMD root.
//
// Wire format (all integers little-endian):
//
//   offset 0:   entry[0]  { guid[16], offset u32, length u32 }   24 bytes
//               entry[1]  ...
//               entry[n]  all 24 bytes zero (the terminator)
//   then:       the certificate blobs, each at entry.offset (counted from the
//               start of the table) for entry.length bytes
//   then:       zero padding (the kernel hands over whole, zeroed pages)
//
// GUID byte order: the 16 bytes are the RFC 4122 ("big-endian") encoding,
// i.e. the bytes in the order the hex digits appear in the text form, NOT the
// mixed-endian Microsoft/UEFI EFI_GUID layout. So "63da758d-e664-..." is on
// the wire as 63 da 75 8d e6 64 .... Established from go-sev-guest's abi
// package (it copies the 16 bytes verbatim and compares them with
// RFC 4122-parsed constants) and its issue #157 (AMD confirmed the GHCB
// certificate table keeps RFC 4122 order; only SVSM GUIDs are little-endian).
//
// ParseCertTable() is strict (fail closed). Errors, all kInvalidArgument:
//   "snp.cert_table_unterminated"      the buffer ends before the all-zero
//                                      terminator entry (includes an empty
//                                      buffer)
//   "snp.cert_table_too_many_entries"  more than kMaxCertTableEntries entries
//   "snp.cert_table_bad_entry"         zero length, a null GUID on a non-
//                                      terminator entry, or a blob that
//                                      starts inside the table itself
//   "snp.cert_table_truncated"         a blob runs past the end of the buffer
//   "snp.cert_table_overlap"           two blobs share bytes
//   "snp.cert_table_duplicate"         two entries carry the same GUID
//   "snp.cert_table_trailing_data"     a byte that belongs neither to the
//                                      table nor to a blob is not zero
//
// Thread-safe: all functions are pure.
#ifndef PERIMETER_ATTEST_SNP_CERT_TABLE_H_
#define PERIMETER_ATTEST_SNP_CERT_TABLE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "perimeter/attest/snp/provider.h"
#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::attest::snp {

using Guid = std::array<std::uint8_t, 16>;

inline constexpr std::size_t kCertTableEntrySize = 24;
// A real table has 3-4 entries (VCEK or VLEK, ASK, ARK, maybe extras); 64 is
// a generous bound that keeps parsing O(64^2) at worst.
inline constexpr std::size_t kMaxCertTableEntries = 64;

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lower case, bytes in wire order.
std::string GuidToString(const Guid& guid);
// Parses the 36-character text form (upper or lower case hex, dashes at 8,
// 13, 18, 23; no braces). Errors: kInvalidArgument "snp.bad_guid".
Result<Guid> GuidFromString(std::string_view text);

// Parses and checks a certificate table (see the file comment). The entries
// come back in table order and own copies of their blobs.
Result<std::vector<CertTableEntry>> ParseCertTable(ByteView table);

// Encodes `entries` as a table: entries in the given order, the terminator,
// then the blobs back to back in the same order, no padding.
// REQUIRES: at most kMaxCertTableEntries entries, each with a non-null GUID,
// non-empty data, distinct GUIDs, and a total size below 4 GiB; otherwise
// the output is still produced but ParseCertTable() rejects it.
Bytes BuildCertTable(const std::vector<CertTableEntry>& entries);

// The blob of the entry whose GUID is `guid` (text form, e.g. kGuidVcek).
// The view points into `entries`, which must outlive it.
// Errors: kInvalidArgument "snp.bad_guid" (malformed `guid`), kNotFound
// "snp.cert_not_found".
Result<ByteView> FindCert(const std::vector<CertTableEntry>& entries, std::string_view guid);

}  // namespace perimeter::attest::snp

#endif  // PERIMETER_ATTEST_SNP_CERT_TABLE_H_
