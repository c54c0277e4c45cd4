// Test helpers for end-to-end tests that run child processes (the children
// themselves are cli::Subprocess, and cli::WaitForReadyFile waits for a
// child to be ready, src/cli/subprocess.h): the resident memory of a
// process, and small file helpers.
//
// For tests only. Thread-safe (free functions).
#ifndef PERIMETER_TESTS_TESTING_CHILD_PROCESS_H_
#define PERIMETER_TESTS_TESTING_CHILD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "cli/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace perimeter::testing {

using ChildProcess = cli::Subprocess;

// Resident set size in bytes (VmRSS of /proc/PID/status), 0 if unknown.
std::size_t RssBytes(pid_t pid);

std::string ReadFileOrEmpty(const std::string& path);
bool WriteFile(const std::string& path, const std::string& content);

}  // namespace perimeter::testing

#endif  // PERIMETER_TESTS_TESTING_CHILD_PROCESS_H_
