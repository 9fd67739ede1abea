// libFuzzer target for the multi-line response encoder (RETR and TOP). The first byte
// chooses RETR or TOP and its line count, the second the chunk size; the rest is the
// stored message. Checks: the output does not depend on how the message was cut; it is the
// model's (dot_stuffer_model.h); every LF in it follows a CR; a strict client reads it back
// as one response whose only "." line is the last; for RETR that is the message itself with
// every line ended by CRLF.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "pop3/proto/dot_stuffer.h"
#include "pop3/proto/dot_stuffer_model.h"

namespace {

using tern::pop3::proto::DotStuffer;
namespace model = tern::pop3::proto::model;

std::string run(std::string_view message, std::optional<uint32_t> top, std::size_t chunk) {
  DotStuffer s = top ? DotStuffer::top(*top) : DotStuffer();
  std::string out;
  for (std::size_t pos = 0; pos < message.size(); pos += chunk) {
    if (!s.feed(message.substr(pos, chunk), out)) break;
  }
  s.finish(out);
  return out;
}

// The message with each line end made CRLF, as a client reading RETR gets it.
std::string normalized(std::string_view message) {
  std::string out;
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\n' && (i == 0 || message[i - 1] != '\r')) out += '\r';
    out += message[i];
  }
  if (!message.empty() && message.back() != '\n') out += message.back() == '\r' ? "\n" : "\r\n";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::optional<uint32_t> top = data[0] < 128 ? std::nullopt : std::optional<uint32_t>(data[0] - 128);
  const std::size_t chunk = 1 + data[1] % 64;
  const std::string_view message(reinterpret_cast<const char*>(data) + 2, size - 2);

  const std::string whole = run(message, top, message.size() + 1);
  TERN_CHECK(run(message, top, chunk) == whole);
  TERN_CHECK(whole == model::encode(message, top));
  for (std::size_t i = 0; i < whole.size(); ++i) {
    TERN_CHECK(whole[i] != '\n' || (i > 0 && whole[i - 1] == '\r'));
  }
  auto back = model::decode(whole);
  TERN_CHECK(back.has_value());
  if (!top) TERN_CHECK(*back == normalized(message));
  return 0;
}
