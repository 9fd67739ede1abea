#include "imap/proto/search_keys.h"

#include <string_view>
#include <utility>

#include "base/strings.h"

namespace tern::imap::proto {
namespace {

using Kind = SearchKey::Kind;

enum class Operand { kNone, kString, kKeyword, kHeader, kDate, kNumber, kModSeq, kUid, kNot, kOr };

struct KeyDef {
  std::string_view name;
  Kind kind;
  Operand operand;
};

constexpr KeyDef kKeys[] = {
    {"ALL", Kind::kAll, Operand::kNone},
    {"ANSWERED", Kind::kAnswered, Operand::kNone},
    {"BCC", Kind::kBcc, Operand::kString},
    {"BEFORE", Kind::kBefore, Operand::kDate},
    {"BODY", Kind::kBody, Operand::kString},
    {"CC", Kind::kCc, Operand::kString},
    {"DELETED", Kind::kDeleted, Operand::kNone},
    {"DRAFT", Kind::kDraft, Operand::kNone},
    {"FLAGGED", Kind::kFlagged, Operand::kNone},
    {"FROM", Kind::kFrom, Operand::kString},
    {"HEADER", Kind::kHeader, Operand::kHeader},
    {"KEYWORD", Kind::kKeyword, Operand::kKeyword},
    {"LARGER", Kind::kLarger, Operand::kNumber},
    {"MODSEQ", Kind::kModSeq, Operand::kModSeq},
    {"NEW", Kind::kNew, Operand::kNone},
    {"NOT", Kind::kNot, Operand::kNot},
    {"OLD", Kind::kOld, Operand::kNone},
    {"ON", Kind::kOn, Operand::kDate},
    {"OR", Kind::kOr, Operand::kOr},
    {"RECENT", Kind::kRecent, Operand::kNone},
    {"SEEN", Kind::kSeen, Operand::kNone},
    {"SENTBEFORE", Kind::kSentBefore, Operand::kDate},
    {"SENTON", Kind::kSentOn, Operand::kDate},
    {"SENTSINCE", Kind::kSentSince, Operand::kDate},
    {"SINCE", Kind::kSince, Operand::kDate},
    {"SMALLER", Kind::kSmaller, Operand::kNumber},
    {"SUBJECT", Kind::kSubject, Operand::kString},
    {"TEXT", Kind::kText, Operand::kString},
    {"TO", Kind::kTo, Operand::kString},
    {"UID", Kind::kUid, Operand::kUid},
    {"UNANSWERED", Kind::kUnanswered, Operand::kNone},
    {"UNDELETED", Kind::kUndeleted, Operand::kNone},
    {"UNDRAFT", Kind::kUndraft, Operand::kNone},
    {"UNFLAGGED", Kind::kUnflagged, Operand::kNone},
    {"UNKEYWORD", Kind::kUnkeyword, Operand::kKeyword},
    {"UNSEEN", Kind::kUnseen, Operand::kNone},
};

Date read_date(ArgReader& r) {
  Arg* a = r.next("date");
  if (a == nullptr) return {};
  // date = date-text / DQUOTE date-text DQUOTE
  auto d = a->kind == Arg::Kind::kAtom || a->kind == Arg::Kind::kQuoted ? parse_date(a->value) : std::nullopt;
  if (!d) {
    r.fail("Invalid date " + (a->kind == Arg::Kind::kList ? std::string() : echo(a->value)));
    return {};
  }
  return *d;
}

SearchKey read_key(ArgReader& r, int depth);

void read_operand(ArgReader& r, SearchKey& k, Operand operand, int depth) {
  switch (operand) {
    case Operand::kNone:
      return;
    case Operand::kString:
      k.value = r.astring("search string");
      return;
    case Operand::kKeyword: {
      Arg* a = r.next("keyword");
      if (a == nullptr) return;
      if (a->kind != Arg::Kind::kAtom || !is_atom(a->value)) {
        r.fail("Invalid keyword");
        return;
      }
      k.value = std::move(a->value);
      return;
    }
    case Operand::kHeader:
      k.header = r.astring("header field name");
      if (!r.failed() && !is_header_field_name(k.header)) r.fail("Invalid header field name " + echo(k.header));
      k.value = r.astring("search string");
      return;
    case Operand::kDate:
      k.date = read_date(r);
      return;
    case Operand::kNumber:
      k.number = r.number64("size");
      return;
    case Operand::kModSeq: {
      // "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer
      Arg* a = r.peek();
      if (a != nullptr && a->kind != Arg::Kind::kAtom) {
        std::string entry = r.string("MODSEQ entry name");
        std::string type = r.atom_upper("MODSEQ entry type");
        if (!r.failed() && (!entry.starts_with("/flags/") || (type != "PRIV" && type != "SHARED" && type != "ALL"))) {
          r.fail("Invalid MODSEQ entry");
        }
      }
      k.number = r.number64("mod-sequence");
      return;
    }
    case Operand::kUid:
      k.set = r.sequence_set();
      return;
    case Operand::kNot:
      k.children.push_back(read_key(r, depth + 1));
      return;
    case Operand::kOr:
      k.children.push_back(read_key(r, depth + 1));
      k.children.push_back(read_key(r, depth + 1));
      return;
  }
}

SearchKey read_key(ArgReader& r, int depth) {
  SearchKey k;
  if (depth > kMaxSearchDepth) {
    r.fail("Search criteria nested too deeply");
    return k;
  }
  Arg* a = r.peek();
  if (a == nullptr) {
    r.fail("Missing search key");
    return k;
  }
  if (a->kind == Arg::Kind::kList) {
    ArgReader group = r.list("search keys");
    k.kind = Kind::kAnd;
    if (group.at_end()) r.fail("Empty search key list");
    while (!group.at_end()) k.children.push_back(read_key(group, depth + 1));
    return k;
  }
  if (a->kind != Arg::Kind::kAtom) {
    r.fail("Invalid search key");
    return k;
  }
  const char c0 = a->value.empty() ? '\0' : a->value[0];
  if ((c0 >= '0' && c0 <= '9') || c0 == '*' || c0 == '$') {
    k.kind = Kind::kSequenceSet;
    k.set = r.sequence_set();
    return k;
  }
  for (const KeyDef& def : kKeys) {
    if (iequals(a->value, def.name)) {
      r.next("search key");
      k.kind = def.kind;
      read_operand(r, k, def.operand, depth);
      return k;
    }
  }
  r.fail("Unknown search key " + echo(a->value));
  return k;
}

}  // namespace

std::vector<SearchKey> read_search_keys(ArgReader& r) {
  std::vector<SearchKey> keys;
  if (r.at_end()) r.fail("Missing search criteria");
  while (!r.at_end()) keys.push_back(read_key(r, 0));
  return keys;
}

}  // namespace tern::imap::proto
