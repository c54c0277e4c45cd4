#include "perimeter/server/log.h"

#include <memory>
#include <mutex>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "perimeter/base/result.h"

namespace perimeter::server {
namespace {

constexpr const char* kLoggerName = "perimeter-server";

spdlog::level::level_enum ToSpd(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::mutex& InitMutex() {
  static std::mutex mu;
  return mu;
}

std::shared_ptr<spdlog::logger> Logger() {
  std::shared_ptr<spdlog::logger> l = spdlog::get(kLoggerName);
  if (l != nullptr) return l;
  std::lock_guard<std::mutex> lock(InitMutex());
  l = spdlog::get(kLoggerName);
  if (l != nullptr) return l;
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  l = std::make_shared<spdlog::logger>(kLoggerName, std::move(sink));
  // %v is the rest of the object, already JSON (built with nlohmann::json,
  // so every string is escaped). spdlog's %l names are "info", "warning",
  // ...; "level" is written by us instead to keep the documented names.
  l->set_pattern("{\"ts\":\"%Y-%m-%dT%H:%M:%S.%fZ\",%v}", spdlog::pattern_time_type::utc);
  l->set_level(spdlog::level::info);
  l->flush_on(spdlog::level::trace);
  spdlog::register_logger(l);
  return l;
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      return "off";
  }
  return "info";
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  if (name == "off") return LogLevel::kOff;
  return InvalidArgumentError("server.bad_log_level",
                              "server: log level must be debug, info, warn, error or off");
}

void InitLogging(LogLevel level) { Logger()->set_level(ToSpd(level)); }

void LogEvent(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (level == LogLevel::kOff) return;
  std::shared_ptr<spdlog::logger> logger = Logger();
  if (!logger->should_log(ToSpd(level))) return;
  nlohmann::ordered_json j;
  j["level"] = LevelName(level);
  j["event"] = std::string(event);
  for (const LogField& f : fields) {
    std::string key(f.key);
    if (key == "ts" || key == "level" || key == "event") key = "field_" + key;
    std::visit([&](const auto& v) { j[key] = v; }, f.value);
  }
  // Invalid UTF-8 in a string is replaced rather than thrown on.
  std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Drop the outer braces: the pattern supplies "{" + ts and the closing "}".
  logger->log(ToSpd(level), "{}", std::string_view(text).substr(1, text.size() - 2));
}

std::string UserIdTag(std::string_view user_id) { return std::string(user_id.substr(0, 8)); }

}  // namespace perimeter::server
