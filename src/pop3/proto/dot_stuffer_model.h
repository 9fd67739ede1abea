// pop3/proto/dot_stuffer_model.h: a slow, obviously-correct model of DotStuffer and of a
// client reading a multi-line response, for the unit tests and the fuzzer only (not part of
// the library).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::pop3::proto::model {

// Straight from the rules in dot_stuffer.h, on the whole message at once: cut into lines
// after each LF; keep the header lines, the blank one ("" or "\r" before the LF) and
// `top` more (all lines when `top` is empty); stuff and end each kept line; terminate.
inline std::string encode(std::string_view message, std::optional<uint32_t> top) {
  std::string out;
  bool in_header = true;
  uint32_t body = 0;
  std::size_t pos = 0;
  while (pos < message.size()) {
    if (top && !in_header && body == *top) break;
    std::size_t lf = message.find('\n', pos);
    const bool complete = lf != std::string_view::npos;
    std::string_view line = message.substr(pos, complete ? lf - pos : std::string_view::npos);
    pos = complete ? lf + 1 : message.size();
    if (!line.empty() && line[0] == '.') out += '.';
    out.append(line);
    out += (!line.empty() && line.back() == '\r') ? "\n" : "\r\n";
    if (in_header) {
      if (line.empty() || line == "\r") in_header = false;
    } else {
      ++body;
    }
  }
  out += ".\r\n";
  return out;
}

// The message as a strict client reads it back: lines split at CRLF only, the one "."
// line last, a leading dot removed from the others. nullopt when the response is not
// well formed (no terminator, a "." line before the end, bytes after it).
inline std::optional<std::string> decode(std::string_view wire) {
  std::string out;
  std::size_t pos = 0;
  while (pos < wire.size()) {
    std::size_t crlf = wire.find("\r\n", pos);
    if (crlf == std::string_view::npos) return std::nullopt;
    std::string_view line = wire.substr(pos, crlf - pos);
    pos = crlf + 2;
    if (line == ".") return pos == wire.size() ? std::optional<std::string>(out) : std::nullopt;
    if (!line.empty() && line[0] == '.') line.remove_prefix(1);
    out.append(line);
    out += "\r\n";
  }
  return std::nullopt;
}

}  // namespace tern::pop3::proto::model
