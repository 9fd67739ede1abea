#include "imap/proto/receiver.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "base/assert.h"

namespace tern::imap::proto {
namespace {

bool is_ctl(char c) {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// RFC 9051 9: tag = 1*<any ASTRING-CHAR except "+">.
bool is_tag_char(char c) {
  if (is_ctl(c) || static_cast<unsigned char>(c) >= 0x80) return false;
  switch (c) {
    case ' ': case '(': case ')': case '{': case '%': case '*': case '"': case '\\': case '+':
      return false;
    default:
      return true;
  }
}

bool is_command_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// Where an atom ends (outside brackets).
bool ends_atom(char c) { return c == ' ' || c == '(' || c == ')' || c == '"' || is_ctl(c); }

}  // namespace

void Receiver::reset() {
  started_ = false;
  literal8_ = false;
  gap_ = Gap::kAfterToken;
  total_ = 0;
  tokens_ = 0;
  tag_.clear();
  command_.clear();
  stack_.clear();
}

ParseError Receiver::fail(std::string message, bool fatal, bool too_big) {
  ParseError e{std::move(tag_), std::move(message), std::move(command_), fatal, too_big};
  reset();
  return e;
}

Step Receiver::feed_line(std::string_view line) {
  total_ += line.size() + 2;
  if (total_ > limits_.max_command) return fail("Command too long");
  if (started_) return parse_args(line, 0);

  std::size_t pos = 0;
  while (pos < line.size() && is_tag_char(line[pos])) ++pos;
  if (pos == 0 || (pos < line.size() && line[pos] != ' ')) return fail("Invalid tag");
  tag_ = std::string(line.substr(0, pos));
  if (pos == line.size()) return fail("Missing command");
  ++pos;
  if (pos < line.size() && line[pos] == ' ') return fail("Extra space after the tag");
  std::size_t start = pos;
  while (pos < line.size() && is_command_char(line[pos])) ++pos;
  if (pos == start || (pos < line.size() && line[pos] != ' ')) return fail("Invalid command name");
  command_.reserve(pos - start);
  for (char c : line.substr(start, pos - start)) {
    command_.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  started_ = true;
  gap_ = Gap::kAfterToken;
  stack_.emplace_back();
  return parse_args(line, pos);
}

void Receiver::feed_literal(std::string bytes) {
  TERN_ASSERT(started_ && !stack_.empty());
  total_ += bytes.size();
  stack_.back().push_back(Arg{literal8_ ? Arg::Kind::kLiteral8 : Arg::Kind::kLiteral, std::move(bytes), {}});
  literal8_ = false;
  gap_ = Gap::kAfterToken;
}

Step Receiver::parse_args(std::string_view line, std::size_t pos) {
  for (;;) {
    if (pos == line.size()) {
      if (gap_ == Gap::kAfterSpace) return fail("Trailing space after the arguments");
      if (stack_.size() > 1) return fail("Unterminated list");
      Request req{std::move(tag_), std::move(command_), std::move(stack_.front())};
      reset();
      return req;
    }
    char c = line[pos];
    if (c == ' ') {
      if (gap_ == Gap::kAfterOpen) return fail("Extra space after (");
      if (gap_ == Gap::kAfterSpace) return fail("Extra space between arguments");
      gap_ = Gap::kAfterSpace;
      ++pos;
      continue;
    }
    if (c == ')') {
      if (gap_ == Gap::kAfterSpace) return fail("Extra space before )");
      if (stack_.size() < 2) return fail("Unexpected )");
      Arg list{Arg::Kind::kList, {}, std::move(stack_.back())};
      stack_.pop_back();
      stack_.back().push_back(std::move(list));
      gap_ = Gap::kAfterToken;
      ++pos;
      continue;
    }
    if (gap_ == Gap::kAfterToken) return fail("Expected space between arguments");
    if (++tokens_ > limits_.max_args) return fail("Too many arguments");
    if (c == '(') {
      if (stack_.size() > limits_.max_depth) return fail("Lists nested too deeply");
      stack_.emplace_back();
      gap_ = Gap::kAfterOpen;
      ++pos;
      continue;
    }
    gap_ = Gap::kAfterToken;
    if (c == '"') {
      std::string value;
      ++pos;
      for (;;) {
        if (pos == line.size()) return fail("Unterminated quoted string");
        char q = line[pos++];
        if (q == '"') break;
        if (q == '\\') {
          if (pos == line.size() || (line[pos] != '"' && line[pos] != '\\')) {
            return fail("Invalid escape in quoted string");
          }
          q = line[pos++];
        } else if (q == '\0' || q == '\r' || q == '\n') {
          return fail("Invalid character in quoted string");
        }
        value.push_back(q);
      }
      stack_.back().push_back(Arg{Arg::Kind::kQuoted, std::move(value), {}});
      continue;
    }
    const bool literal8 = c == '~' && pos + 1 < line.size() && line[pos + 1] == '{';
    if (c == '{' || literal8) {
      // RFC 7888: literal = "{" number64 ["+"] "}" CRLF; it must end the line.
      // RFC 3516: literal8 = "~{" number64 ["+"] "}" CRLF.
      std::size_t p = pos + (literal8 ? 2 : 1), digits = 0;
      std::size_t size = 0;
      bool too_big = false;
      while (p < line.size() && line[p] >= '0' && line[p] <= '9') {
        auto digit = static_cast<std::size_t>(line[p] - '0');
        if (too_big || size > (SIZE_MAX - digit) / 10) {
          too_big = true;  // stop before overflow
        } else {
          size = size * 10 + digit;
        }
        ++p;
        ++digits;
      }
      bool sync = true;
      if (p < line.size() && line[p] == '+') {
        sync = false;
        ++p;
      }
      if (digits == 0 || p + 1 != line.size() || line[p] != '}') {
        return fail("Invalid literal announcement");
      }
      if (too_big || size > limits_.max_literal || size > limits_.max_command - std::min(total_, limits_.max_command)) {
        // A synchronizing literal is never sent once refused; a non-synchronizing one is
        // already on its way (RFC 7888 4: the session answers and closes).
        return fail("Literal too large", !sync, true);
      }
      literal8_ = literal8;
      return NeedLiteral{size, sync, literal8};
    }
    // An atom, with any bracketed part kept whole.
    std::size_t start = pos;
    bool in_brackets = false;
    while (pos < line.size()) {
      char a = line[pos];
      if (is_ctl(a)) return fail("Invalid character in argument");
      if (in_brackets) {
        if (a == ']') in_brackets = false;
      } else if (a == '[') {
        in_brackets = true;
      } else if (ends_atom(a)) {
        break;
      }
      ++pos;
    }
    if (in_brackets) return fail("Unterminated [");
    stack_.back().push_back(Arg{Arg::Kind::kAtom, std::string(line.substr(start, pos - start)), {}});
  }
}

}  // namespace tern::imap::proto
