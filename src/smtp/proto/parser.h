// smtp/proto/parser.h: the SMTP command-line parser (RFC 5321 4.1, RFC 3207, RFC 4954).
//
// Pure: one command line (without its CRLF) in, a typed Command or a ParseError out. No
// I/O, no logging, no globals; safe to call from any thread. The verb is matched
// case-insensitively; arguments are kept as the client sent them (MAIL/RCPT parameters
// are parsed by their handlers).
#pragma once

#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace tern::smtp::proto {

enum class Verb {
  kHelo, kEhlo, kMail, kRcpt, kData, kBdat, kRset, kVrfy, kExpn, kHelp, kNoop, kQuit,
  kStartTls, kAuth,
};

std::string_view to_string(Verb v);

struct Command {
  Verb verb = Verb::kNoop;
  // HELO/EHLO: the domain or address literal. AUTH: the mechanism name.
  // MAIL/RCPT/BDAT/VRFY/EXPN/HELP/NOOP: the rest of the line after the verb's space.
  std::string arg;
  // AUTH: the initial response ("" when absent; "=" stands for an empty one, RFC 4954 4).
  std::string arg2;
};

struct ParseError {
  enum class Kind {
    kUnrecognized,  // 500 5.5.2: not a command we know
    kSyntax,        // 501 5.5.4: a known command with bad or missing arguments
  };
  Kind kind = Kind::kUnrecognized;
  std::string message;  // the reply text after the codes, safe to show the client
};

// Parses one command line. Never fails for other reasons than the peer's input.
tl::expected<Command, ParseError> parse_command(std::string_view line);

}  // namespace tern::smtp::proto
