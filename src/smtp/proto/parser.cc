#include "smtp/proto/parser.h"

#include <array>

#include "base/strings.h"

namespace tern::smtp::proto {
namespace {

enum class Args { kNone, kOptional, kRequired, kAuth };

struct VerbInfo {
  std::string_view name;
  Verb verb;
  Args args;
  std::string_view usage;  // shown in the 501 reply
};

constexpr std::array<VerbInfo, 14> kVerbs{{
    {"HELO", Verb::kHelo, Args::kRequired, "Syntax: HELO hostname"},
    {"EHLO", Verb::kEhlo, Args::kRequired, "Syntax: EHLO hostname"},
    {"MAIL", Verb::kMail, Args::kRequired, "Syntax: MAIL FROM:<address>"},
    {"RCPT", Verb::kRcpt, Args::kRequired, "Syntax: RCPT TO:<address>"},
    {"DATA", Verb::kData, Args::kNone, "Syntax: DATA"},
    {"BDAT", Verb::kBdat, Args::kRequired, "Syntax: BDAT size [LAST]"},
    {"RSET", Verb::kRset, Args::kNone, "Syntax: RSET"},
    {"VRFY", Verb::kVrfy, Args::kRequired, "Syntax: VRFY address"},
    {"EXPN", Verb::kExpn, Args::kRequired, "Syntax: EXPN list"},
    {"HELP", Verb::kHelp, Args::kOptional, "Syntax: HELP [topic]"},
    {"NOOP", Verb::kNoop, Args::kOptional, "Syntax: NOOP"},
    {"QUIT", Verb::kQuit, Args::kNone, "Syntax: QUIT"},
    {"STARTTLS", Verb::kStartTls, Args::kNone, "Syntax: STARTTLS"},
    {"AUTH", Verb::kAuth, Args::kAuth, "Syntax: AUTH mechanism [initial-response]"},
}};

bool is_sasl_name_char(char c) {
  // RFC 4422 3.1: upper-case letters, digits, '-' and '_' (we also take lower case).
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool is_base64_or_equals(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=';
    if (!ok) return false;
  }
  return !s.empty();
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

tl::unexpected<ParseError> syntax(std::string_view message) {
  return tl::unexpected<ParseError>(ParseError{ParseError::Kind::kSyntax, std::string(message)});
}

}  // namespace

std::string_view to_string(Verb v) {
  for (const auto& info : kVerbs) {
    if (info.verb == v) return info.name;
  }
  return "?";
}

tl::expected<Command, ParseError> parse_command(std::string_view line) {
  // Trailing blanks are tolerated: several clients send "QUIT " or "DATA\t".
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);

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
    return tl::unexpected<ParseError>(
        ParseError{ParseError::Kind::kUnrecognized, "Syntax error, command unrecognized"});
  }
  for (char c : rest) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return syntax("Invalid character in command");
  }
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);

  Command cmd;
  cmd.verb = info->verb;
  switch (info->args) {
    case Args::kNone:
      if (!rest.empty()) return syntax(info->usage);
      break;
    case Args::kOptional:
      cmd.arg = std::string(rest);
      break;
    case Args::kRequired:
      if (rest.empty()) return syntax(info->usage);
      cmd.arg = std::string(rest);
      break;
    case Args::kAuth: {
      auto parts = split(rest, ' ');
      if (rest.empty() || parts.size() > 2) return syntax(info->usage);
      std::string_view mech = parts[0];
      if (mech.empty() || mech.size() > 20) return syntax(info->usage);
      for (char c : mech) {
        if (!is_sasl_name_char(c)) return syntax(info->usage);
      }
      cmd.arg = upper(mech);
      if (parts.size() == 2) {
        if (!is_base64_or_equals(parts[1])) return syntax("Invalid initial response");
        cmd.arg2 = std::string(parts[1]);
      }
      break;
    }
  }
  return cmd;
}

}  // namespace tern::smtp::proto
