// Structured logs of the workload server: one JSON object per line on
// stderr, {"ts":"2025-01-01T00:00:00.000000Z","level":"info","event":"...",
// <fields>}. Timestamps are UTC.
//
// Contract for callers: an event name is a stable dotted identifier
// ("server.listening", "session.closed"); fields carry only operational
// facts (ports, counts, pattern names, status codes and stable reasons,
// durations). Never log key material, evidence bytes, user data (record keys
// or values) or a user's full identity: at most the first 8 characters of a
// user_id (`UserIdTag`).
//
// Thread-safe: LogEvent may be called from any thread; InitLogging should be
// called once, early, before other threads log.
#ifndef PERIMETER_SERVER_LOG_H_
#define PERIMETER_SERVER_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "perimeter/base/result.h"
#include "perimeter/base/status.h"

namespace perimeter::server {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };

// "debug", "info", "warn", "error", "off".
// Errors: kInvalidArgument "server.bad_log_level".
Result<LogLevel> ParseLogLevel(std::string_view name);

// Installs the JSON-lines stderr logger at `level` (idempotent: a second call
// only changes the level).
void InitLogging(LogLevel level);

struct LogField {
  using Value = std::variant<std::string, std::int64_t, std::uint64_t, double, bool>;
  LogField(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, long long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, unsigned v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  LogField(std::string_view k, unsigned long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  LogField(std::string_view k, unsigned long long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
  std::string_view key;
  Value value;
};

// Logs one event. Field keys must not be "ts", "level" or "event".
void LogEvent(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});

// Status fields: "code" (name) and "reason"; never the free-text message,
// which may quote input.
inline LogField StatusCodeField(const Status& s) { return {"code", StatusCodeName(s.code())}; }
inline LogField StatusReasonField(const Status& s) { return {"reason", s.reason()}; }

// The first 8 hex characters of a user_id: enough to correlate log lines,
// too few to identify a user across deployments.
std::string UserIdTag(std::string_view user_id);

}  // namespace perimeter::server

#endif  // PERIMETER_SERVER_LOG_H_
