// imap/fetch.cc: one message's FETCH response (see fetch.h).
#include "imap/fetch.h"

#include <algorithm>
#include <utility>

#include "imap/proto/args.h"
#include "imap/proto/writer.h"
#include "mime/header.h"
#include "mime/imap_view.h"

namespace tern::imap {
namespace {

using Kind = proto::FetchAttr::Kind;
using SectionKind = mime::Section::Kind;

// FLAGS are written from store flag bits with the writer's SystemFlag names.
constexpr bool same_bit(std::uint32_t a, std::uint32_t b) { return a == b; }
static_assert(same_bit(proto::kFlagSeen, store::kFlagSeen) && same_bit(proto::kFlagAnswered, store::kFlagAnswered) &&
              same_bit(proto::kFlagFlagged, store::kFlagFlagged) && same_bit(proto::kFlagDeleted, store::kFlagDeleted) &&
              same_bit(proto::kFlagDraft, store::kFlagDraft));

bool is_identity_cte(std::string_view e) { return e == "7bit" || e == "8bit" || e == "binary"; }
bool is_decodable_cte(std::string_view e) { return e == "base64" || e == "quoted-printable"; }

// What a section names: nothing (no such part), octets of the message, or decoded data.
struct Content {
  enum class Kind { kMissing, kRange, kData };
  Kind kind = Kind::kMissing;
  ByteRange range;
  std::string data;
};

ByteRange clamp(std::uint64_t begin, std::uint64_t end, std::uint64_t size) {
  begin = std::min(begin, size);
  end = std::min(end, size);
  return {begin, end > begin ? end - begin : 0};
}

// RFC 9051 6.4.5: <origin.count>; empty past the end.
ByteRange apply_partial(ByteRange r, const proto::Partial& p) {
  if (p.origin >= r.length) return {r.offset + r.length, 0};
  return {r.offset + p.origin, std::min(p.count, r.length - p.origin)};
}

class Builder {
 public:
  Builder(const FetchMessage& m, MessageSource& source, const FetchOptions& options)
      : m_(m), msg_(*m.message), options_(options), loaded_(source, m.message->size), response_(m.seq) {}

  Result<FetchOutput> run(const std::vector<proto::FetchAttr>& items) {
    if (options_.uid) emit_uid();
    for (const auto& attr : items) {
      auto ok = item(attr);
      if (!ok) return tl::unexpected(std::move(ok.error()));
      if (refusal_ != FetchRefusal::kNone) {
        FetchOutput out;
        out.refusal = refusal_;
        return out;
      }
    }
    if (options_.modseq || (options_.condstore && m_.seen_changed)) {
      if (first_time("MODSEQ")) response_.add_modseq(msg_.modseq);
    }
    if (m_.seen_changed && first_time("FLAGS")) {
      response_.add_flags(msg_.flags & store::kAllFlags, msg_.keywords, m_.recent);
    }
    response_.finish();
    text_ += response_.take();
    flush_text();
    FetchOutput out;
    out.pieces = std::move(pieces_);
    return out;
  }

 private:
  // True the first time a response item name is seen (each item is answered once).
  bool first_time(const std::string& name) {
    if (std::find(names_.begin(), names_.end(), name) != names_.end()) return false;
    names_.push_back(name);
    return true;
  }

  void emit_uid() {
    if (first_time("UID")) response_.add_number("UID", msg_.uid);
  }

  void flush_text() {
    if (text_.empty()) return;
    FetchPiece p;
    p.text = std::move(text_);
    pieces_.push_back(std::move(p));
    text_.clear();
  }

  // The message size as far as known: the bytes when read, else the store's size.
  std::uint64_t total() const { return bytes_size_ ? *bytes_size_ : msg_.size; }

  Result<std::string_view> bytes() {
    auto b = loaded_.bytes();
    if (b) bytes_size_ = b->size();
    return b;
  }

  Status item(const proto::FetchAttr& a) {
    const std::string name = proto::fetch_att_name(a);
    // The response name shows a partial's origin only: tell <0.10> from <0.20> apart.
    if (!first_time(a.partial ? name + "." + std::to_string(a.partial->count) : name)) return ok();
    switch (a.kind) {
      case Kind::kFlags:
        response_.add_flags(msg_.flags & store::kAllFlags, msg_.keywords, m_.recent);
        return ok();
      case Kind::kInternalDate:
        response_.add_internal_date(msg_.internal_date, options_.zone_minutes);
        return ok();
      case Kind::kRfc822Size:
        response_.add_number(name, msg_.size);
        return ok();
      case Kind::kUid:
        response_.add_number(name, msg_.uid);
        return ok();
      case Kind::kModSeq:
        response_.add_modseq(msg_.modseq);
        return ok();
      case Kind::kEnvelope:
      case Kind::kBody:
      case Kind::kBodyStructure: {
        if (a.kind == Kind::kEnvelope && !loaded_.has_parsed()) {  // the header is enough
          auto header = loaded_.header();
          if (!header) return tl::unexpected(std::move(header.error()));
          response_.add(name, mime::build_envelope(mime::parse_header_block(*header).fields));
          return ok();
        }
        auto parsed = loaded_.parsed();
        if (!parsed) return tl::unexpected(std::move(parsed.error()));
        if (a.kind == Kind::kEnvelope) {
          response_.add(name, mime::envelope(**parsed));
        } else {
          response_.add(name, mime::body_structure(**parsed, a.kind == Kind::kBodyStructure));
        }
        return ok();
      }
      case Kind::kRfc822:
      case Kind::kRfc822Header:
      case Kind::kRfc822Text: {
        mime::Section s;
        s.kind = a.kind == Kind::kRfc822 ? SectionKind::kAll
                 : a.kind == Kind::kRfc822Header ? SectionKind::kHeader
                                                 : SectionKind::kText;
        auto c = section(s);
        if (!c) return tl::unexpected(std::move(c.error()));
        return emit(name, std::move(*c), std::nullopt, false);
      }
      case Kind::kBodySection: {
        auto c = section(a.section);
        if (!c) return tl::unexpected(std::move(c.error()));
        return emit(name, std::move(*c), a.partial, false);
      }
      case Kind::kBinary: {
        auto c = binary(a.section.part);
        if (!c) return tl::unexpected(std::move(c.error()));
        if (refusal_ != FetchRefusal::kNone) return ok();
        return emit(name, std::move(*c), a.partial, true);
      }
      case Kind::kBinarySize: {
        auto c = binary(a.section.part);
        if (!c) return tl::unexpected(std::move(c.error()));
        if (refusal_ != FetchRefusal::kNone) return ok();
        const std::uint64_t size = c->kind == Content::Kind::kRange  ? c->range.length
                                   : c->kind == Content::Kind::kData ? c->data.size()
                                                                     : 0;
        response_.add_number(name, size);
        return ok();
      }
    }
    return ok();
  }

  // The node whose header and body HEADER / TEXT / HEADER.FIELDS refer to: the message
  // itself, or the message encapsulated by a message/rfc822 part. nullopt when absent.
  static std::optional<std::uint32_t> container(const mime::Message& msg, const std::vector<std::uint32_t>& part) {
    if (part.empty()) return 0u;
    auto node = mime::resolve(msg, part);
    if (!node || !msg.parts[*node].is_message()) return std::nullopt;
    return msg.parts[*node].children[0];
  }

  Result<Content> section(const mime::Section& s) {
    Content c;
    if (s.part.empty() && s.kind != SectionKind::kMime) return top_section(s);
    auto parsed = loaded_.parsed();
    if (!parsed) return tl::unexpected(std::move(parsed.error()));
    const mime::Message& msg = **parsed;
    switch (s.kind) {
      case SectionKind::kAll:
      case SectionKind::kMime: {
        auto node = mime::resolve(msg, s.part);
        if (!node) return c;  // RFC 9051 6.4.5: a part that does not exist is empty
        const mime::Part& p = msg.parts[*node];
        c.kind = Content::Kind::kRange;
        c.range = s.kind == SectionKind::kAll ? clamp(p.body_begin, p.body_end, total())
                                              : clamp(p.header_begin, p.body_begin, total());
        return c;
      }
      case SectionKind::kHeader:
      case SectionKind::kText: {
        auto node = container(msg, s.part);
        if (!node) return c;
        const mime::Part& p = msg.parts[*node];
        c.kind = Content::Kind::kRange;
        c.range = s.kind == SectionKind::kHeader ? clamp(p.header_begin, p.body_begin, total())
                                                 : clamp(p.body_begin, p.body_end, total());
        return c;
      }
      case SectionKind::kHeaderFields:
      case SectionKind::kHeaderFieldsNot: {
        if (!container(msg, s.part)) return c;
        auto b = bytes();
        if (!b) return tl::unexpected(std::move(b.error()));
        auto data = mime::extract(msg, *b, s);
        if (!data) return c;
        c.kind = Content::Kind::kData;
        c.data = std::move(*data);
        return c;
      }
    }
    return c;
  }

  // Sections of the message itself: from its size and its header alone, no MIME parse.
  Result<Content> top_section(const mime::Section& s) {
    Content c;
    c.kind = Content::Kind::kRange;
    if (s.kind == SectionKind::kAll) {
      c.range = {0, total()};
      return c;
    }
    auto header = loaded_.header();
    if (!header) return tl::unexpected(std::move(header.error()));
    const std::uint64_t body = header->size();
    switch (s.kind) {
      case SectionKind::kHeader:
        c.range = clamp(0, body, total());
        return c;
      case SectionKind::kText:
        c.range = clamp(body, total(), total());
        return c;
      default:
        break;
    }
    // HEADER.FIELDS[.NOT]: mime's extraction over a one-part tree of the header alone.
    mime::Message head;
    head.size = body;
    head.parts.resize(1);
    head.parts[0].body_begin = body;
    head.parts[0].body_end = body;
    auto data = mime::extract(head, *header, s);
    if (!data) {
      c.kind = Content::Kind::kMissing;
      return c;
    }
    c.kind = Content::Kind::kData;
    c.data = std::move(*data);
    return c;
  }

  // BINARY[part] content (RFC 3516 4.2): identity encodings as ranges, base64 and
  // quoted-printable decoded; sets refusal_ for any other encoding.
  Result<Content> binary(const std::vector<std::uint32_t>& part) {
    Content c;
    if (part.empty()) {
      c.kind = Content::Kind::kRange;
      c.range = {0, total()};
      return c;
    }
    auto parsed = loaded_.parsed();
    if (!parsed) return tl::unexpected(std::move(parsed.error()));
    auto node = mime::resolve(**parsed, part);
    if (!node) return c;
    const mime::Part& p = (*parsed)->parts[*node];
    if (is_identity_cte(p.encoding)) {
      c.kind = Content::Kind::kRange;
      c.range = clamp(p.body_begin, p.body_end, total());
      return c;
    }
    if (!is_decodable_cte(p.encoding)) {
      refusal_ = FetchRefusal::kUnknownCte;
      return c;
    }
    auto b = bytes();
    if (!b) return tl::unexpected(std::move(b.error()));
    c.kind = Content::Kind::kData;
    c.data = mime::decoded_body(p, *b);
    return c;
  }

  // "NAME content": "" when empty or missing, else a literal (literal8 for BINARY content
  // holding NUL, and for BINARY ranges too large to look at).
  Status emit(const std::string& name, Content c, const std::optional<proto::Partial>& partial, bool binary) {
    if (c.kind == Content::Kind::kRange) {
      if (partial) c.range = apply_partial(c.range, *partial);
      // Inline small content when it is in memory or cheap to bring there (a small
      // message); a small piece of a large message is a range too, so that a
      // BODY.PEEK[]<0.2048> preview of a 50 MiB message does not read all of it.
      const auto held = loaded_.in_memory(c.range.offset, c.range.length);
      const bool cheap = held || msg_.size <= options_.inline_limit;
      if (c.range.length > options_.inline_limit || (c.range.length > 0 && !cheap)) {
        response_.add_literal_header(name, c.range.length, binary);
        text_ += response_.take();
        flush_text();
        FetchPiece p;
        p.kind = FetchPiece::Kind::kRange;
        p.range = c.range;
        pieces_.push_back(std::move(p));
        return ok();
      }
      if (c.range.length == 0) {
        response_.add_data(name, "");
        return ok();
      }
      if (held) {
        append_literal(name, *held, binary);
        return ok();
      }
      auto b = bytes();
      if (!b) return tl::unexpected(std::move(b.error()));
      const ByteRange r = clamp(c.range.offset, c.range.offset + c.range.length, b->size());
      append_literal(name, b->substr(r.offset, r.length), binary);
      return ok();
    }
    if (c.kind == Content::Kind::kMissing) {
      response_.add_data(name, "");
      return ok();
    }
    std::string_view data = c.data;
    if (partial) data = mime::partial(data, partial->origin, partial->count);
    if (data.empty()) {
      response_.add_data(name, "");
      return ok();
    }
    if (data.size() > options_.inline_limit) {
      const bool lit8 = binary && data.find('\0') != std::string_view::npos;
      response_.add_literal_header(name, data.size(), lit8);
      text_ += response_.take();
      flush_text();
      FetchPiece p;
      if (data.size() == c.data.size()) {
        p.text = std::move(c.data);  // no copy of large decoded content
      } else {
        p.text = std::string(data);
      }
      pieces_.push_back(std::move(p));
      return ok();
    }
    append_literal(name, data, binary);
    return ok();
  }

  void append_literal(const std::string& name, std::string_view data, bool binary) {
    const bool lit8 = binary && data.find('\0') != std::string_view::npos;
    response_.add_literal_header(name, data.size(), lit8);
    text_ += response_.take();
    text_ += data;
  }

  const FetchMessage& m_;
  const store::Message& msg_;
  const FetchOptions& options_;
  LoadedMessage loaded_;
  std::optional<std::uint64_t> bytes_size_;
  proto::FetchResponse response_;
  std::string text_;                // response text not yet in a piece
  std::vector<FetchPiece> pieces_;
  std::vector<std::string> names_;  // item names already answered
  FetchRefusal refusal_ = FetchRefusal::kNone;
};

}  // namespace

bool sets_seen(const std::vector<proto::FetchAttr>& items) {
  return std::any_of(items.begin(), items.end(), [](const proto::FetchAttr& a) {
    switch (a.kind) {
      case Kind::kRfc822:
      case Kind::kRfc822Text:
        return true;
      case Kind::kBodySection:
      case Kind::kBinary:
        return !a.peek;
      default:
        return false;
    }
  });
}

bool needs_seen(const std::vector<proto::FetchAttr>& items, const store::Message& message,
                const FetchOptions& options) {
  return !options.read_only && (message.flags & store::kFlagSeen) == 0 && sets_seen(items);
}

bool needs_content(const std::vector<proto::FetchAttr>& items) {
  return std::any_of(items.begin(), items.end(), [](const proto::FetchAttr& a) {
    switch (a.kind) {
      case Kind::kFlags:
      case Kind::kInternalDate:
      case Kind::kRfc822Size:
      case Kind::kUid:
      case Kind::kModSeq:
        return false;
      default:
        return true;
    }
  });
}

Result<FetchOutput> fetch_message(const std::vector<proto::FetchAttr>& items, const FetchMessage& message,
                                  MessageSource& source, const FetchOptions& options) {
  Builder b(message, source, options);
  return b.run(items);
}

std::string_view refusal_text(FetchRefusal refusal) {
  switch (refusal) {
    case FetchRefusal::kNone:
      break;
    case FetchRefusal::kUnknownCte:
      return "[UNKNOWN-CTE] Cannot decode the part's Content-Transfer-Encoding";
  }
  return "";
}

}  // namespace tern::imap
