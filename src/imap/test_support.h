// imap/test_support.h: helpers for the FETCH and SEARCH tests (test code only): commands
// parsed from wire text by imap/proto, and a MessageSource over a string that counts reads.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "imap/message_source.h"
#include "imap/proto/command.h"
#include "imap/proto/receiver.h"

namespace tern::imap::testing {

// Runs wire text (lines separated by CRLF; literal bytes after their "{n}" line) through
// the receiver and interpret().
inline tl::expected<proto::Command, std::string> parse_command(const std::string& wire_in) {
  std::string wire = wire_in;
  if (!wire.ends_with("\r\n")) wire += "\r\n";
  proto::Receiver receiver(proto::ReceiverLimits{1 << 20, 1 << 22, 8, 1000});
  std::size_t pos = 0;
  for (;;) {
    std::size_t crlf = wire.find("\r\n", pos);
    if (crlf == std::string::npos) return tl::unexpected(std::string("(incomplete)"));
    proto::Step s = receiver.feed_line(std::string_view(wire).substr(pos, crlf - pos));
    pos = crlf + 2;
    if (auto* need = std::get_if<proto::NeedLiteral>(&s)) {
      receiver.feed_literal(wire.substr(pos, need->size));
      pos += need->size;
      continue;
    }
    if (auto* err = std::get_if<proto::ParseError>(&s)) return tl::unexpected("(receiver) " + err->message);
    return proto::interpret(std::move(std::get<proto::Request>(s)));
  }
}

// The FETCH items of "a FETCH 1 <items>": "(FLAGS BODY[]<0.10>)", "ALL", "UID".
inline std::vector<proto::FetchAttr> fetch_items(const std::string& items) {
  auto c = parse_command("a FETCH 1 " + items);
  if (!c || !std::holds_alternative<proto::Fetch>(*c)) {
    ADD_FAILURE() << "cannot parse FETCH items " << items << ": " << (c ? "not a FETCH" : c.error());
    return {};
  }
  return std::get<proto::Fetch>(*c).items;
}

// The SEARCH command "a SEARCH <args>" ("a UID SEARCH <args>" with uid).
inline proto::Search search_command(const std::string& args, bool uid = false) {
  auto c = parse_command(std::string(uid ? "a UID SEARCH " : "a SEARCH ") + args);
  if (!c || !std::holds_alternative<proto::Search>(*c)) {
    ADD_FAILURE() << "cannot parse SEARCH " << args << ": " << (c ? "not a SEARCH" : c.error());
    return {};
  }
  return std::get<proto::Search>(*c);
}

// A message held in memory; counts how often each accessor is called.
class StringSource : public MessageSource {
 public:
  explicit StringSource(std::string bytes, std::string cache = "")
      : bytes_(std::move(bytes)), cache_(std::move(cache)) {}

  Result<std::string_view> bytes() override {
    ++byte_reads;
    if (fail) return make_error(ErrorCode::kIo, "test: read failed");
    return std::string_view(bytes_);
  }
  Result<std::string_view> prefix(std::size_t max) override {
    ++prefix_reads;
    if (fail) return make_error(ErrorCode::kIo, "test: read failed");
    return std::string_view(bytes_).substr(0, max);
  }
  Result<std::string> parse_cache() override {
    ++cache_reads;
    if (fail) return make_error(ErrorCode::kIo, "test: read failed");
    return cache_;
  }

  int byte_reads = 0;    // bytes(): the whole message
  int prefix_reads = 0;  // prefix()
  int cache_reads = 0;
  bool fail = false;

 private:
  std::string bytes_;
  std::string cache_;
};

}  // namespace tern::imap::testing
