// `perimeter attest verify` and the helpers the attest commands share.
#ifndef PERIMETER_CLI_ATTEST_VERIFY_H_
#define PERIMETER_CLI_ATTEST_VERIFY_H_

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "perimeter/attest/snp/tcb.h"
#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::cli {

// A report file: the raw 1184 bytes, or the same as hex text (at most 64 KiB).
Result<Bytes> ReadReportFile(const std::string& path);
// "milan" | "genoa" | "turin" | "" (unknown).
Result<attest::snp::Product> ProductFromFlag(const std::string& flag);
// An RFC 3339 time ("2026-01-01T00:00:00Z", "...+02:00", fractions ignored)
// as Unix seconds. Errors: kInvalidArgument "cli.bad_time".
Result<std::int64_t> ParseRfc3339(const std::string& text);

// Adds `verify` under the `attest` command.
void AddAttestVerifyCommand(CLI::App* attest, Result<int>* result);

}  // namespace perimeter::cli

#endif  // PERIMETER_CLI_ATTEST_VERIFY_H_
