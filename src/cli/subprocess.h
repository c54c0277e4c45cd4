// Subprocess: a child process of the CLI (the demo starts `perimeter serve`
// with it; so do the end-to-end tests), with stdin from /dev/null and its output appended to a log file.
// The destructor stops a child that still runs (SIGTERM, then SIGKILL after
// a grace period), so no server outlives the command that started it.
//
// Move-only. Thread-compatible.
#ifndef PERIMETER_CLI_SUBPROCESS_H_
#define PERIMETER_CLI_SUBPROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "perimeter/base/result.h"

namespace perimeter::cli {

class Subprocess {
 public:
  // Errors: kUnavailable "cli.spawn_failed".
  static Result<Subprocess> Start(const std::vector<std::string>& argv, const std::string& log_path);

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  // True while the child has not ended (reaps it when it has).
  bool Running();
  // Sends `sig` if the child still runs.
  void Signal(int sig);
  // Waits up to `timeout` for the child to end: its exit code (128 + signal
  // when a signal ended it), or nullopt if it still runs.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // SIGTERM, then waits up to `grace` for the exit; SIGKILL after that.
  // Returns the exit code (128 + signal when a signal ended it).
  int Stop(std::chrono::milliseconds grace);

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Polls until `path` exists with content (writers rename it into place)
// and returns the content. Errors: kUnavailable "cli.child_exited" (the
// child ended first), "cli.child_timeout" (nothing after `timeout`).
Result<std::string> WaitForReadyFile(const std::string& path, Subprocess& child,
                                     std::chrono::milliseconds timeout);

}  // namespace perimeter::cli

#endif  // PERIMETER_CLI_SUBPROCESS_H_
