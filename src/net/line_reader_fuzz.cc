// libFuzzer target for LineBuffer: the input is cut into chunks of fuzzer-chosen sizes and
// fed with a small line limit. Checks against a reference split of the whole input: every
// LF-terminated line comes out intact or as one kTooLong, no line exceeds the limit, and
// the buffer never holds more than one chunk plus the limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "net/line_reader.h"

namespace {

struct Expected {
  bool too_long;
  std::string line;
};

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  const std::size_t limit = 1 + data[0] % 32;
  const std::size_t max_chunk = 1 + data[1] % 64;
  std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  // Reference: split at LF, strip one CR.
  std::vector<Expected> expected;
  std::size_t pos = 0;
  for (;;) {
    auto lf = input.find('\n', pos);
    if (lf == std::string_view::npos) {
      break;
    }
    std::string_view line = input.substr(pos, lf - pos);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    expected.push_back({line.size() > limit, std::string(line)});
    pos = lf + 1;
  }
  const std::size_t tail = input.size() - pos;

  tern::net::LineBuffer buf(limit);
  std::size_t seen = 0;
  bool extra_too_long = false;
  std::size_t off = 0;
  std::string line;
  while (off < input.size()) {
    // Chunk sizes come from the data itself, so the fuzzer explores splits.
    std::size_t n = 1 + static_cast<uint8_t>(input[off]) % max_chunk;
    n = std::min(n, input.size() - off);
    buf.feed(input.substr(off, n));
    off += n;
    for (;;) {
      auto st = buf.next(line);
      if (st == tern::net::LineStatus::kNeedMore) {
        break;
      }
      if (seen == expected.size()) {
        // Only an over-long unterminated tail may be reported early.
        check(st == tern::net::LineStatus::kTooLong && !extra_too_long && tail > limit);
        extra_too_long = true;
        continue;
      }
      const Expected& e = expected[seen++];
      if (e.too_long) {
        check(st == tern::net::LineStatus::kTooLong);
      } else {
        check(st == tern::net::LineStatus::kLine);
        check(line.size() <= limit);
        check(line == e.line);
      }
    }
    check(buf.buffered() <= limit + 1);
  }
  check(seen == expected.size());
  return 0;
}
