// libFuzzer target for proxy::parse: any input must give NeedMore, Parsed or Error without
// reading out of bounds. Checks the contract a socket reader relies on: NeedMore asks for
// more than it got and no more than the size limit; Parsed consumes at most the input and at
// most the size limit; and parsing the header bytes alone (what a reader that followed
// NeedMore would hold) gives the same result as parsing them with trailing data.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>

#include "net/proxy_protocol.h"

namespace {

void check(bool cond) {
  if (!cond) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tern::net::proxy;
  std::span<const uint8_t> in(data, size);
  ParseResult r = parse(in);
  if (auto* need = std::get_if<NeedMore>(&r)) {
    check(need->total > size);
    check(need->total <= kMaxV2Size);
  } else if (auto* p = std::get_if<Parsed>(&r)) {
    check(p->consumed > 0 && p->consumed <= size);
    check(p->consumed <= kMaxV2Size);
    ParseResult again = parse(in.first(p->consumed));
    auto* q = std::get_if<Parsed>(&again);
    check(q != nullptr);
    check(q->consumed == p->consumed);
    check(q->source == p->source);
    // Every prefix of the header asks for more, never for bytes past its end.
    for (std::size_t n = 0; n < p->consumed; ++n) {
      ParseResult part = parse(in.first(n));
      auto* need = std::get_if<NeedMore>(&part);
      check(need != nullptr);
      check(need->total > n && need->total <= p->consumed);
    }
  } else {
    check(!std::get<Error>(r).reason.empty());
  }
  return 0;
}
