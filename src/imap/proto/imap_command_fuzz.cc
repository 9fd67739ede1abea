// libFuzzer target for the IMAP command layer: arbitrary bytes go through the Receiver
// (lines split at LF; after a NeedLiteral the announced bytes are fed as the literal) and
// every Request through interpret(), in both mailbox-name modes. Checked on the way:
// BAD texts are printable; sequence sets, FETCH attribute names and mailbox names
// round-trip; resolve() agrees with contains(). The whole input also goes through the
// round trips of the pure helpers: modified UTF-7, sequence sets, dates, and the writer's
// quoting read back by the Receiver.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "base/assert.h"
#include "imap/proto/command.h"
#include "imap/proto/mutf7.h"
#include "imap/proto/receiver.h"
#include "imap/proto/writer.h"

namespace {

using namespace tern::imap::proto;

void check_set(const SequenceSet& set) {
  auto again = SequenceSet::parse(set.to_string());
  TERN_CHECK(again && *again == set);
  for (std::uint32_t star : {0u, 1u, 7u, 4294967295u}) {
    RangeSet r = set.resolve(star);
    for (std::uint32_t n : {1u, 2u, 6u, 7u, 8u, 100u, 4294967294u, 4294967295u}) {
      TERN_CHECK(r.contains(n) == set.contains(n, star));
    }
    if (!r.empty()) {
      TERN_CHECK(r.contains(r.min()) && r.contains(r.max()));
      auto back = SequenceSet::parse(r.to_string());
      TERN_CHECK(back && back->fixed() == r);
    }
  }
}

void check_name(const std::string& name, bool utf8) {
  if (utf8) {
    TERN_CHECK(is_valid_utf8(name));
    return;
  }
  auto back = mutf7_decode(mutf7_encode(name));
  TERN_CHECK(back && *back == name);
}

// The attribute as a client would write it, from its response name.
std::string request_text(const FetchAttr& a) {
  std::string name = fetch_att_name(a);
  if (a.peek) name.insert(name.find('['), ".PEEK");
  if (a.partial) {
    name.resize(name.rfind('<'));
    name += "<" + std::to_string(a.partial->origin) + "." + std::to_string(a.partial->count) + ">";
  }
  return name;
}

void check_search(const SearchKey& k, int depth) {
  TERN_CHECK(depth <= kMaxSearchDepth + 1);
  if (k.kind == SearchKey::Kind::kUid || k.kind == SearchKey::Kind::kSequenceSet) check_set(k.set);
  for (const auto& child : k.children) check_search(child, depth + 1);
}

void check_command(const Command& cmd, bool utf8) {
  if (auto* f = std::get_if<Fetch>(&cmd)) {
    check_set(f->set);
    TERN_CHECK(!f->items.empty());
    for (const auto& a : f->items) {
      auto again = parse_fetch_att(request_text(a));
      TERN_CHECK(again && *again == a);
    }
  } else if (auto* s = std::get_if<Store>(&cmd)) {
    check_set(s->set);
    TERN_CHECK((s->flags.system & ~0x1fu) == 0);
  } else if (auto* s = std::get_if<Search>(&cmd)) {
    TERN_CHECK(!s->keys.empty());
    for (const auto& k : s->keys) check_search(k, 0);
  } else if (auto* c = std::get_if<Copy>(&cmd)) {
    check_set(c->set);
    check_name(c->mailbox, utf8);
  } else if (auto* m = std::get_if<Move>(&cmd)) {
    check_set(m->set);
    check_name(m->mailbox, utf8);
  } else if (auto* e = std::get_if<UidExpunge>(&cmd)) {
    check_set(e->uids);
  } else if (auto* sel = std::get_if<Select>(&cmd)) {
    check_name(sel->mailbox, utf8);
    if (sel->qresync && sel->qresync->known_uids) TERN_CHECK(!sel->qresync->known_uids->has_star());
  } else if (auto* l = std::get_if<List>(&cmd)) {
    TERN_CHECK(!l->patterns.empty());
    for (const auto& p : l->patterns) check_name(p, utf8);
  } else if (auto* a = std::get_if<Append>(&cmd)) {
    TERN_CHECK(!a->messages.empty());
    check_name(a->mailbox, utf8);
  }
}

void check_request(Request req) {
  Request copy = req;
  for (bool utf8 : {false, true}) {
    auto cmd = interpret(utf8 ? std::move(req) : std::move(copy), InterpretOptions{utf8});
    if (cmd) {
      check_command(*cmd, utf8);
    } else {
      TERN_CHECK(!cmd.error().empty());
      for (char c : cmd.error()) TERN_CHECK(c >= 0x20 && c < 0x7f);
    }
  }
}

// The writer's string read back by a receiver gives the same bytes.
void check_writer(std::string_view s, bool utf8, bool astring) {
  std::string wire = "t X ";
  if (astring) {
    append_astring(wire, s, utf8);
  } else {
    append_string(wire, s, utf8);
  }
  wire += "\r\n";
  Receiver r(ReceiverLimits{1 << 20, 1 << 21, 8, 1000});
  std::string_view in = wire;
  for (;;) {
    auto crlf = in.find("\r\n");
    TERN_CHECK(crlf != std::string_view::npos);
    Step step = r.feed_line(in.substr(0, crlf));
    in.remove_prefix(crlf + 2);
    if (auto* need = std::get_if<NeedLiteral>(&step)) {
      TERN_CHECK(need->size <= in.size());
      r.feed_literal(std::string(in.substr(0, need->size)));
      in.remove_prefix(need->size);
      continue;
    }
    auto* req = std::get_if<Request>(&step);
    TERN_CHECK(req != nullptr && req->args.size() == 1 && req->args[0].value == s);
    TERN_CHECK(in.empty());
    return;
  }
}

void check_helpers(std::string_view in) {
  if (auto decoded = mutf7_decode(in)) {
    TERN_CHECK(mutf7_encode(*decoded) == in);
  }
  if (is_valid_utf8(in) && in.find('\0') == std::string_view::npos) {
    auto back = mutf7_decode(mutf7_encode(in));
    TERN_CHECK(back && *back == in);
  }
  if (auto set = SequenceSet::parse(in)) check_set(*set);
  if (auto d = parse_date(in)) {
    auto again = parse_date(format_date(*d));
    TERN_CHECK(again && *again == *d);
  }
  if (auto dt = parse_date_time(in)) {
    auto again = parse_date_time(format_date_time(*dt));
    TERN_CHECK(again && *again == *dt);
  }
  if (in.size() <= 4096) {
    for (bool utf8 : {false, true}) {
      check_writer(in, utf8, false);
      check_writer(in, utf8, true);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check_helpers(in);

  ReceiverLimits limits;
  limits.max_literal = 4096;
  limits.max_command = 16 * 1024;
  limits.max_args = 300;
  Receiver receiver(limits);
  while (!in.empty()) {
    auto lf = in.find('\n');
    std::string_view line = in.substr(0, lf);
    in.remove_prefix(lf == std::string_view::npos ? in.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    Step step = receiver.feed_line(line);
    if (auto* need = std::get_if<NeedLiteral>(&step)) {
      TERN_CHECK(need->size <= limits.max_literal);
      std::size_t n = need->size < in.size() ? need->size : in.size();
      receiver.feed_literal(std::string(in.substr(0, n)));
      in.remove_prefix(n);
    } else if (auto* req = std::get_if<Request>(&step)) {
      check_request(std::move(*req));
    }
  }
  return 0;
}
