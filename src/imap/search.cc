// imap/search.cc: SEARCH evaluation and responses (see search.h).
#include "imap/search.h"

#include <algorithm>
#include <utility>

#include "base/strings.h"
#include "imap/proto/writer.h"
#include "imap/search_match.h"
#include "mime/header.h"
#include "mime/search_text.h"

namespace tern::imap {
namespace {

using Kind = proto::SearchKey::Kind;
using Node = SearchQuery::Node;

// Node::cost: 0 for store::Message keys (the default), then:
constexpr int kCostHeader = 1;
constexpr int kCostText = 2;

std::string_view header_name(Kind k) {
  switch (k) {
    case Kind::kFrom: return "From";
    case Kind::kTo: return "To";
    case Kind::kCc: return "Cc";
    case Kind::kBcc: return "Bcc";
    case Kind::kSubject: return "Subject";
    default: return "";
  }
}

Node compile(const proto::SearchKey& k, const SearchScope& scope, bool& uses_modseq) {
  Node n;
  n.kind = k.kind;
  switch (k.kind) {
    case Kind::kKeyword:
    case Kind::kUnkeyword:
      n.needle = k.value;
      break;
    case Kind::kFrom:
    case Kind::kTo:
    case Kind::kCc:
    case Kind::kBcc:
    case Kind::kSubject:
      n.field = header_name(k.kind);
      n.needle = fold_text(k.value);
      n.cost = kCostHeader;
      break;
    case Kind::kHeader:
      n.field = k.header;
      n.needle = fold_text(k.value);
      n.cost = kCostHeader;
      break;
    case Kind::kBody:
    case Kind::kText:
      n.needle = fold_text(k.value);
      n.cost = kCostText;
      break;
    case Kind::kBefore:
    case Kind::kOn:
    case Kind::kSince:
      n.day = proto::days_since_epoch(k.date);
      break;
    case Kind::kSentBefore:
    case Kind::kSentOn:
    case Kind::kSentSince:
      n.day = proto::days_since_epoch(k.date);
      n.cost = kCostHeader;
      break;
    case Kind::kLarger:
    case Kind::kSmaller:
      n.number = k.number;
      break;
    case Kind::kModSeq:
      n.number = k.number;
      uses_modseq = true;
      break;
    case Kind::kUid:
      n.set = k.set.resolve(scope.highest_uid);
      break;
    case Kind::kSequenceSet:
      n.set = k.set.resolve(scope.message_count);
      break;
    case Kind::kNot:
    case Kind::kOr:
    case Kind::kAnd:
      for (const auto& c : k.children) {
        n.children.push_back(compile(c, scope, uses_modseq));
        n.cost = std::max(n.cost, n.children.back().cost);
      }
      if (k.kind == Kind::kAnd) {
        std::stable_sort(n.children.begin(), n.children.end(),
                         [](const Node& a, const Node& b) { return a.cost < b.cost; });
      } else if (k.kind == Kind::kOr && n.children.size() == 2 && n.children[1].cost < n.children[0].cost) {
        std::swap(n.children[0], n.children[1]);
      }
      break;
    default:
      break;
  }
  return n;
}

// One message's evaluation: reads and decodes content at most once, on first need.
class Evaluator {
 public:
  Evaluator(const SearchMessage& m, MessageSource* source) : m_(m), msg_(*m.message), source_(source) {}

  Result<bool> eval(const Node& n) {
    const std::uint32_t flags = msg_.flags;
    switch (n.kind) {
      case Kind::kAll: return true;
      case Kind::kAnswered: return (flags & store::kFlagAnswered) != 0;
      case Kind::kDeleted: return (flags & store::kFlagDeleted) != 0;
      case Kind::kDraft: return (flags & store::kFlagDraft) != 0;
      case Kind::kFlagged: return (flags & store::kFlagFlagged) != 0;
      case Kind::kSeen: return (flags & store::kFlagSeen) != 0;
      case Kind::kUnanswered: return (flags & store::kFlagAnswered) == 0;
      case Kind::kUndeleted: return (flags & store::kFlagDeleted) == 0;
      case Kind::kUndraft: return (flags & store::kFlagDraft) == 0;
      case Kind::kUnflagged: return (flags & store::kFlagFlagged) == 0;
      case Kind::kUnseen: return (flags & store::kFlagSeen) == 0;
      case Kind::kRecent: return m_.recent;
      case Kind::kNew: return m_.recent && (flags & store::kFlagSeen) == 0;
      case Kind::kOld: return !m_.recent;
      case Kind::kKeyword: return has_keyword(n.needle);
      case Kind::kUnkeyword: return !has_keyword(n.needle);
      case Kind::kLarger: return msg_.size > n.number;
      case Kind::kSmaller: return msg_.size < n.number;
      case Kind::kModSeq: return msg_.modseq >= n.number;
      case Kind::kUid: return n.set.contains(msg_.uid);
      case Kind::kSequenceSet: return n.set.contains(m_.seq);
      case Kind::kBefore: return utc_day(msg_.internal_date) < n.day;
      case Kind::kOn: return utc_day(msg_.internal_date) == n.day;
      case Kind::kSince: return utc_day(msg_.internal_date) >= n.day;
      case Kind::kSentBefore:
      case Kind::kSentOn:
      case Kind::kSentSince: {
        auto day = sent_day();
        if (!day) return tl::unexpected(std::move(day.error()));
        if (n.kind == Kind::kSentBefore) return *day < n.day;
        if (n.kind == Kind::kSentOn) return *day == n.day;
        return *day >= n.day;
      }
      case Kind::kFrom:
      case Kind::kTo:
      case Kind::kCc:
      case Kind::kBcc:
      case Kind::kSubject:
      case Kind::kHeader:
        return header_matches(n.field, n.needle);
      case Kind::kBody:
      case Kind::kText: {
        auto text = folded_text();
        if (!text) return tl::unexpected(std::move(text.error()));
        if ((*text)->body.find(n.needle) != std::string::npos) return true;
        return n.kind == Kind::kText && (*text)->headers.find(n.needle) != std::string::npos;
      }
      case Kind::kNot: {
        auto r = eval(n.children[0]);
        if (!r) return r;
        return !*r;
      }
      case Kind::kOr:
      case Kind::kAnd: {
        const bool is_or = n.kind == Kind::kOr;
        for (const auto& c : n.children) {
          auto r = eval(c);
          if (!r) return r;
          if (*r == is_or) return is_or;  // short-circuit
        }
        return !is_or;
      }
    }
    return false;
  }

 private:
  bool has_keyword(std::string_view k) const {
    return std::any_of(msg_.keywords.begin(), msg_.keywords.end(),
                       [&](const std::string& x) { return iequals(x, k); });
  }

  Status load() {
    if (loaded_) return ok();
    if (source_ == nullptr) return make_error(ErrorCode::kInternal, "search: no message source");
    loaded_.emplace(*source_, msg_.size);
    return ok();
  }

  Result<const std::vector<mime::HeaderField>*> fields() {
    if (!fields_) {
      if (auto s = load(); !s) return tl::unexpected(std::move(s.error()));
      auto header = loaded_->header();  // a prefix of the message, not all of it
      if (!header) return tl::unexpected(std::move(header.error()));
      fields_ = mime::parse_header_block(*header).fields;
    }
    return &*fields_;
  }

  Result<bool> header_matches(std::string_view name, std::string_view needle) {
    auto fs = fields();
    if (!fs) return tl::unexpected(std::move(fs.error()));
    for (const auto& f : **fs) {
      if (!iequals(f.name, name)) continue;
      if (needle.empty()) return true;  // RFC 9051 6.4.4 HEADER: the field exists
      if (folded_contains(mime::decode_words(mime::unfold(f.value)), needle)) return true;
    }
    return false;
  }

  Result<std::int64_t> sent_day() {
    if (!sent_day_) {
      auto fs = fields();
      if (!fs) return tl::unexpected(std::move(fs.error()));
      std::optional<proto::Date> d;
      if (const auto* f = mime::find_field(**fs, "Date")) d = parse_sent_date(mime::unfold(f->value));
      sent_day_ = d ? proto::days_since_epoch(*d) : utc_day(msg_.internal_date);
    }
    return *sent_day_;
  }

  Result<const mime::SearchText*> folded_text() {
    if (!text_) {
      if (auto s = load(); !s) return tl::unexpected(std::move(s.error()));
      auto b = loaded_->bytes();
      if (!b) return tl::unexpected(std::move(b.error()));
      auto parsed = loaded_->parsed();
      if (!parsed) return tl::unexpected(std::move(parsed.error()));
      mime::SearchText st = mime::search_text(**parsed, *b);
      text_.emplace();
      text_->headers = fold_text(st.headers);
      text_->body = fold_text(st.body);
    }
    return &*text_;
  }

  const SearchMessage& m_;
  const store::Message& msg_;
  MessageSource* source_;
  std::optional<LoadedMessage> loaded_;
  std::optional<std::vector<mime::HeaderField>> fields_;  // views into the bytes
  std::optional<std::int64_t> sent_day_;
  std::optional<mime::SearchText> text_;  // folded
};

// Opens the message's source on first use, so messages whose keys never need content
// cost no open at all.
class LazySource final : public MessageSource {
 public:
  LazySource(const SourceOpener& open, const store::Message& msg) : open_(open), msg_(msg) {}

  Result<std::string_view> bytes() override {
    if (auto s = ensure(); !s) return tl::unexpected(std::move(s.error()));
    return source_->bytes();
  }
  Result<std::string> parse_cache() override {
    if (auto s = ensure(); !s) return tl::unexpected(std::move(s.error()));
    return source_->parse_cache();
  }

 private:
  Status ensure() {
    if (source_) return ok();
    auto s = open_(msg_);
    if (!s) return tl::unexpected(std::move(s.error()));
    if (!*s) return make_error(ErrorCode::kInternal, "search: opener returned no source");
    source_ = std::move(*s);
    return ok();
  }

  const SourceOpener& open_;
  const store::Message& msg_;
  std::unique_ptr<MessageSource> source_;
};

std::uint64_t highest_modseq(const std::vector<SearchHit>& hits) {
  std::uint64_t m = 0;
  for (const auto& h : hits) m = std::max(m, h.modseq);
  return m;
}

}  // namespace

bool search_charset_supported(const std::optional<std::string>& charset) {
  return !charset || iequals(*charset, "UTF-8") || iequals(*charset, "US-ASCII");
}

SearchQuery::SearchQuery(const std::vector<proto::SearchKey>& keys, const SearchScope& scope) {
  proto::SearchKey all;
  all.kind = Kind::kAnd;
  all.children = keys;
  root_ = compile(all, scope, uses_modseq_);
}

Result<bool> SearchQuery::matches(const SearchMessage& message, MessageSource* source) const {
  Evaluator e(message, source);
  return e.eval(root_);
}

Result<SearchResult> run_search(const SearchQuery& query, std::span<const store::Message> messages,
                                const proto::RangeSet& recent_uids, const SourceOpener& open) {
  SearchResult result;
  result.with_modseq = query.uses_modseq();
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const store::Message& msg = messages[i];
    SearchMessage m{&msg, static_cast<std::uint32_t>(i + 1), recent_uids.contains(msg.uid)};
    LazySource source(open, msg);
    auto r = query.matches(m, query.needs_content() ? &source : nullptr);
    // kNotFound: another session expunged the message after the caller listed it, and its
    // blob went with it. It matches nothing, like one expunged before the listing (whose
    // source is empty), instead of failing the whole SEARCH.
    if (!r && r.error().code == ErrorCode::kNotFound) continue;
    if (!r) return tl::unexpected(std::move(r.error()));
    if (*r) result.hits.push_back({m.seq, msg.uid, msg.modseq});
  }
  return result;
}

std::string format_search(const SearchResult& result, bool uid) {
  std::string out = "* SEARCH";
  for (const auto& h : result.hits) {
    out += ' ';
    out += std::to_string(uid ? h.uid : h.seq);
  }
  if (result.with_modseq && !result.hits.empty()) {
    out += " (MODSEQ " + std::to_string(highest_modseq(result.hits)) + ")";
  }
  out += "\r\n";
  return out;
}

std::string format_esearch(const SearchResult& result, const proto::SearchReturn& ret, std::string_view tag,
                           bool uid) {
  const bool all = ret.all || (!ret.min && !ret.max && !ret.count);
  const auto& hits = result.hits;
  auto id = [&](const SearchHit& h) { return uid ? h.uid : h.seq; };
  std::string out = "* ESEARCH (TAG ";
  proto::append_quoted(out, tag);
  out += ')';
  if (uid) out += " UID";
  if (!hits.empty()) {
    if (ret.min) out += " MIN " + std::to_string(id(hits.front()));
    if (ret.max) out += " MAX " + std::to_string(id(hits.back()));
    if (all) {
      proto::RangeSet set;
      for (const auto& h : hits) set.add(id(h));
      out += " ALL " + set.to_string();
    }
  }
  if (ret.count) out += " COUNT " + std::to_string(hits.size());
  if (result.with_modseq && !hits.empty()) {
    std::uint64_t modseq = 0;
    if (all || ret.count) {
      modseq = highest_modseq(hits);
    } else {
      if (ret.min) modseq = std::max(modseq, hits.front().modseq);
      if (ret.max) modseq = std::max(modseq, hits.back().modseq);
    }
    out += " MODSEQ " + std::to_string(modseq);
  }
  out += "\r\n";
  return out;
}

}  // namespace tern::imap
