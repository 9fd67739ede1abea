// base/log.h: logging setup. Everything logs through spdlog's default logger.
//
// init_logging() is called once at start (not thread-safe against concurrent logging);
// after that spdlog's logger is thread-safe. Format "text" is one human line per event;
// "json" is one JSON object per line with ts, level, msg.
#pragma once

#include <string_view>

#include <spdlog/spdlog.h>

#include "base/result.h"

namespace tern {

// level: trace|debug|info|warn|error|off; format: text|json. Logs go to stderr.
Status init_logging(std::string_view level, std::string_view format);

// Escapes s for inclusion inside a JSON string (used by the json log format and tools).
std::string json_escape(std::string_view s);

}  // namespace tern
