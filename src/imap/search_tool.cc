// tern_imap_search_tool: runs IMAP SEARCH commands over a file of messages, for the
// differential test in tests/imap_search/ (never installed).
//
// Usage: tern_imap_search_tool MESSAGES
//   MESSAGES holds, for each message, a line "<size> [<internal date, Unix seconds>]"
//   followed by exactly <size> bytes. Message i (from 1) gets UID i.
//   Each line of standard input is the argument part of a SEARCH command as a client
//   sends it ("CHARSET UTF-8 SUBJECT {5}" then the 5 bytes and the rest of the command on
//   the next line, as on the wire). Each command prints one line: the untagged
//   "* SEARCH ..." response without its CRLF, or "BAD <text>" / "NO <text>".
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "imap/search.h"
#include "imap/proto/command.h"
#include "imap/proto/receiver.h"

namespace {

using namespace tern;

class StringSource final : public imap::MessageSource {
 public:
  explicit StringSource(const std::string& bytes) : bytes_(bytes) {}
  Result<std::string_view> bytes() override { return std::string_view(bytes_); }

 private:
  const std::string& bytes_;
};

bool load(const char* path, std::vector<std::string>& bodies, std::vector<store::Message>& messages) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::size_t size = 0;
    long long date = 0;
    if (std::sscanf(line.c_str(), "%zu %lld", &size, &date) < 1) return false;
    std::string body(size, '\0');
    if (!in.read(body.data(), static_cast<std::streamsize>(size))) return false;
    store::Message m;
    m.uid = static_cast<std::uint32_t>(messages.size() + 1);
    m.modseq = m.uid;
    m.size = size;
    m.internal_date = date;
    messages.push_back(std::move(m));
    bodies.push_back(std::move(body));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: tern_imap_search_tool MESSAGES\n";
    return 2;
  }
  std::vector<std::string> bodies;
  std::vector<store::Message> messages;
  if (!load(argv[1], bodies, messages)) {
    std::cerr << "cannot read " << argv[1] << "\n";
    return 1;
  }
  imap::proto::ReceiverLimits limits;
  limits.max_literal = 1 << 20;
  limits.max_command = 4 << 20;
  imap::proto::Receiver receiver(limits);
  std::string line;
  bool continuing = false;
  while (std::getline(std::cin, line)) {
    auto step = receiver.feed_line(continuing ? line : "T SEARCH " + line);
    continuing = false;
    if (auto* lit = std::get_if<imap::proto::NeedLiteral>(&step)) {
      std::string bytes(lit->size, '\0');
      std::cin.read(bytes.data(), static_cast<std::streamsize>(lit->size));
      receiver.feed_literal(std::move(bytes));
      continuing = true;
      continue;
    }
    if (auto* err = std::get_if<imap::proto::ParseError>(&step)) {
      std::cout << "BAD " << err->message << "\n" << std::flush;
      continue;
    }
    auto cmd = imap::proto::interpret(std::get<imap::proto::Request>(std::move(step)));
    if (!cmd) {
      std::cout << "BAD " << cmd.error() << "\n" << std::flush;
      continue;
    }
    const auto& search = std::get<imap::proto::Search>(*cmd);
    if (!imap::search_charset_supported(search.charset)) {
      std::cout << "NO " << imap::kBadCharsetText << "\n" << std::flush;
      continue;
    }
    const imap::SearchQuery query(search.keys, imap::scope_of(messages));
    auto result = imap::run_search(query, messages, imap::proto::RangeSet(),
                                   [&](const store::Message& m) -> Result<std::unique_ptr<imap::MessageSource>> {
                                     return std::make_unique<StringSource>(bodies[m.uid - 1]);
                                   });
    if (!result) {
      std::cout << "NO " << result.error().to_string() << "\n" << std::flush;
      continue;
    }
    std::string out = imap::format_search(*result, search.uid);
    out.resize(out.size() - 2);  // CRLF
    std::cout << out << "\n" << std::flush;
  }
  return 0;
}
