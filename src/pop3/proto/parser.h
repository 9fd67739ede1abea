// pop3/proto/parser.h: the POP3 command-line parser (RFC 1939, 2449, 2595, 5034).
//
// Pure: one command line (without its CRLF) in, a typed Command or a ParseError out. No
// I/O, no logging, no globals; safe to call from any thread. Keywords are matched
// case-insensitively; message numbers are validated here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace tern::pop3::proto {

enum class Verb {
  kUser, kPass, kApop, kAuth, kStls, kCapa, kQuit,                  // any state
  kStat, kList, kRetr, kDele, kNoop, kRset, kTop, kUidl,            // TRANSACTION
};

std::string_view to_string(Verb v);

struct Command {
  Verb verb = Verb::kNoop;
  // USER: the name. PASS: the rest of the line, spaces kept (RFC 1939 7 allows them).
  // AUTH: the mechanism, upper-cased ("" when AUTH came alone). APOP: the name.
  std::string arg;
  // AUTH: the initial response ("" when absent, "=" for an empty one). APOP: the digest.
  std::string arg2;
  std::optional<uint32_t> msg;  // LIST/UIDL (optional), RETR/DELE/TOP (required); >= 1
  uint32_t lines = 0;           // TOP
};

struct ParseError {
  enum class Kind {
    kUnknown,  // not a POP3 command
    kSyntax,   // a known command with bad or missing arguments
  };
  Kind kind = Kind::kUnknown;
  std::string message;  // reply text after "-ERR ", safe to show the client
};

tl::expected<Command, ParseError> parse_command(std::string_view line);

}  // namespace tern::pop3::proto
