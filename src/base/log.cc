#include "base/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace tern {

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

namespace {

// Formats each record as one JSON object; the message is escaped.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto ts = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch());
    auto level = spdlog::level::to_string_view(msg.level);
    auto line = fmt::format(R"({{"ts":{}.{:03},"level":"{}","msg":"{}"}})",
                            ts.count() / 1000, ts.count() % 1000,
                            std::string_view(level.data(), level.size()),
                            json_escape(std::string_view(msg.payload.data(), msg.payload.size())));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

Status init_logging(std::string_view level, std::string_view format) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    return make_error(ErrorCode::kInvalid, "unknown log level '{}'", level);
  }
  auto logger = std::make_shared<spdlog::logger>("tern", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else if (format == "text") {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  } else {
    return make_error(ErrorCode::kInvalid, "unknown log format '{}'", format);
  }
  logger->set_level(lvl);
  spdlog::set_default_logger(std::move(logger));
  return ok();
}

}  // namespace tern
