// libFuzzer target for the SMTP command grammar: any line must parse or fail cleanly; a
// parsed command's text must come from the input; the MAIL/RCPT/BDAT argument parsers
// must accept or answer a well-formed reply, keep the RFC 5321 limits, and give back
// addresses that parse again to the same path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "smtp/proto/params.h"
#include "smtp/proto/parser.h"

namespace {

using namespace tern::smtp::proto;

void check_reply(const Reply& r) {
  TERN_CHECK(r.code >= 500 && r.code <= 599);
  TERN_CHECK(r.enhanced.size() == 5 && r.enhanced[0] == '5');
  TERN_CHECK(!r.text.empty());
  TERN_CHECK(r.line().find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
}

void check_path(const Path& p, std::size_t input_size, bool forward) {
  if (p.null) {
    TERN_CHECK(!forward && p.local_raw.empty() && p.domain.empty() && p.address().empty());
    return;
  }
  TERN_CHECK(p.local_raw.size() <= 64);
  TERN_CHECK(p.domain.size() <= 255);
  TERN_CHECK(p.local.size() <= p.local_raw.size());
  TERN_CHECK(p.address().size() <= input_size);
  TERN_CHECK(!p.domain.empty() || forward);
  // What address() gives back is a path again, the same one (the source route aside).
  PathSyntax syntax{.allow_null = false, .allow_postmaster = forward};
  std::string bracketed = "<" + p.address() + ">";
  auto again = parse_path(bracketed, syntax);
  TERN_CHECK(again.has_value());
  TERN_CHECK(again->path == p);
  TERN_CHECK(again->consumed == bracketed.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto r = parse_command(line);
  if (r) {
    TERN_CHECK(r->arg.size() <= size);
    TERN_CHECK(r->arg2.size() <= size);
  } else {
    TERN_CHECK(!r.error().message.empty());
  }

  // The argument parsers get the raw input and, when it parses, the command's argument.
  std::string_view args[2] = {line, r ? std::string_view(r->arg) : line};
  for (std::string_view arg : args) {
    for (bool lenient : {false, true}) {
      PathOptions options{.allow_unbracketed = lenient};
      if (auto m = parse_mail_from(arg, options)) {
        check_path(m->path, size, /*forward=*/false);
        TERN_CHECK(m->envid.size() <= 100);
      } else {
        check_reply(m.error());
      }
      for (bool utf8 : {false, true}) {
        if (auto t = parse_rcpt_to(arg, utf8, options)) {
          check_path(t->path, size, /*forward=*/true);
          TERN_CHECK((t->notify & kNotifyNever) == 0 || t->notify == kNotifyNever);
        } else {
          check_reply(t.error());
        }
      }
    }
    if (auto b = parse_bdat(arg); !b) check_reply(b.error());
  }

  std::string encoded = xtext_encode(line);
  auto decoded = xtext_decode(encoded);
  TERN_CHECK(decoded.has_value() && *decoded == line);
  if (auto d = xtext_decode(line)) TERN_CHECK(d->size() <= size);
  return 0;
}
