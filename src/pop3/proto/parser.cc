#include "pop3/proto/parser.h"

#include <array>
#include <charconv>
#include <vector>

#include "base/strings.h"

namespace tern::pop3::proto {
namespace {

enum class Shape {
  kNone,       // no arguments
  kName,       // one argument (USER)
  kRest,       // the rest of the line (PASS)
  kTwo,        // exactly two arguments (APOP)
  kAuth,       // [mechanism [initial-response]]
  kOptMsg,     // [msg]
  kMsg,        // msg
  kMsgLines,   // msg n
};

struct VerbInfo {
  std::string_view name;
  Verb verb;
  Shape shape;
  std::string_view usage;
};

constexpr std::array<VerbInfo, 15> kVerbs{{
    {"USER", Verb::kUser, Shape::kName, "Syntax: USER name"},
    {"PASS", Verb::kPass, Shape::kRest, "Syntax: PASS password"},
    {"APOP", Verb::kApop, Shape::kTwo, "Syntax: APOP name digest"},
    {"AUTH", Verb::kAuth, Shape::kAuth, "Syntax: AUTH mechanism [initial-response]"},
    {"STLS", Verb::kStls, Shape::kNone, "Syntax: STLS"},
    {"CAPA", Verb::kCapa, Shape::kNone, "Syntax: CAPA"},
    {"QUIT", Verb::kQuit, Shape::kNone, "Syntax: QUIT"},
    {"STAT", Verb::kStat, Shape::kNone, "Syntax: STAT"},
    {"LIST", Verb::kList, Shape::kOptMsg, "Syntax: LIST [msg]"},
    {"RETR", Verb::kRetr, Shape::kMsg, "Syntax: RETR msg"},
    {"DELE", Verb::kDele, Shape::kMsg, "Syntax: DELE msg"},
    {"NOOP", Verb::kNoop, Shape::kNone, "Syntax: NOOP"},
    {"RSET", Verb::kRset, Shape::kNone, "Syntax: RSET"},
    {"TOP", Verb::kTop, Shape::kMsgLines, "Syntax: TOP msg lines"},
    {"UIDL", Verb::kUidl, Shape::kOptMsg, "Syntax: UIDL [msg]"},
}};

tl::unexpected<ParseError> syntax(std::string_view message) {
  return tl::unexpected<ParseError>(ParseError{ParseError::Kind::kSyntax, std::string(message)});
}

// Splits on single or repeated spaces; no empty words.
std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  for (auto w : split(s, ' ')) {
    if (!w.empty()) out.push_back(w);
  }
  return out;
}

std::optional<uint32_t> number(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace

std::string_view to_string(Verb v) {
  for (const auto& info : kVerbs) {
    if (info.verb == v) return info.name;
  }
  return "?";
}

tl::expected<Command, ParseError> parse_command(std::string_view line) {
  auto sp = line.find(' ');
  std::string_view name = line.substr(0, sp);
  std::string_view rest = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);

  const VerbInfo* info = nullptr;
  for (const auto& candidate : kVerbs) {
    if (iequals(name, candidate.name)) {
      info = &candidate;
      break;
    }
  }
  if (info == nullptr) {
    return tl::unexpected<ParseError>(ParseError{ParseError::Kind::kUnknown, "Unknown command"});
  }
  for (char c : rest) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return syntax("Invalid character in command");
  }

  Command cmd;
  cmd.verb = info->verb;
  if (info->shape == Shape::kRest) {
    // RFC 1939 7: the password is everything after the single space, spaces included.
    if (rest.empty()) return syntax(info->usage);
    cmd.arg = std::string(rest);
    return cmd;
  }
  auto w = words(rest);
  switch (info->shape) {
    case Shape::kNone:
      if (!w.empty()) return syntax(info->usage);
      break;
    case Shape::kName:
      if (w.size() != 1) return syntax(info->usage);
      cmd.arg = std::string(w[0]);
      break;
    case Shape::kTwo:
      if (w.size() != 2) return syntax(info->usage);
      cmd.arg = std::string(w[0]);
      cmd.arg2 = std::string(w[1]);
      break;
    case Shape::kAuth:
      if (w.size() > 2) return syntax(info->usage);
      if (!w.empty()) cmd.arg = upper(w[0]);
      if (w.size() == 2) cmd.arg2 = std::string(w[1]);
      break;
    case Shape::kOptMsg:
    case Shape::kMsg:
    case Shape::kMsgLines: {
      std::size_t want = info->shape == Shape::kMsgLines ? 2 : 1;
      bool optional = info->shape == Shape::kOptMsg;
      if (w.size() != want && !(optional && w.empty())) return syntax(info->usage);
      if (!w.empty()) {
        auto msg = number(w[0]);
        if (!msg || *msg == 0) return syntax("Invalid message number");
        cmd.msg = msg;
      }
      if (want == 2) {
        auto lines = number(w[1]);
        if (!lines) return syntax("Invalid line count");
        cmd.lines = *lines;
      }
      break;
    }
    case Shape::kRest:
      break;
  }
  return cmd;
}

}  // namespace tern::pop3::proto
