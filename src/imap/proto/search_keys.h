// imap/proto/search_keys.h: SEARCH criteria (RFC 3501 6.4.4 and 9 "search-key", with
// RFC 7162 MODSEQ) as a tree.
//
// Every RFC 3501 key is understood, including NEW, OLD and RECENT (dropped by RFC 9051 but
// still sent by clients). `$` (SEARCHRES) is refused. String operands are bytes as sent
// (their charset is the command's CHARSET); the session decodes and matches them.
// Nesting (NOT, OR, parentheses) is bounded so that hostile input cannot exhaust the stack.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "imap/proto/args.h"
#include "imap/proto/datetime.h"
#include "imap/proto/seqset.h"

namespace tern::imap::proto {

struct SearchKey {
  enum class Kind {
    kAll,
    kAnswered, kDeleted, kDraft, kFlagged, kNew, kOld, kRecent, kSeen,
    kUnanswered, kUndeleted, kUndraft, kUnflagged, kUnseen,
    kKeyword, kUnkeyword,                                       // value: the keyword
    kBcc, kBody, kCc, kFrom, kSubject, kText, kTo,              // value: the string
    kHeader,                                                    // header: field name; value: the string
    kBefore, kOn, kSince, kSentBefore, kSentOn, kSentSince,     // date
    kLarger, kSmaller,                                          // number: size in octets
    kModSeq,                                                    // number: modseq (RFC 7162 3.1.5)
    kUid,                                                       // set: UIDs
    kSequenceSet,                                               // set: message numbers
    kNot,                                                       // children[0]
    kOr,                                                        // children[0] or children[1]
    kAnd,                                                       // every child (a parenthesized group)
  };
  Kind kind = Kind::kAll;
  std::string header;
  std::string value;
  Date date;
  std::uint64_t number = 0;
  SequenceSet set;
  std::vector<SearchKey> children;

  friend bool operator==(const SearchKey&, const SearchKey&) = default;
};

// The deepest nesting of NOT / OR / parentheses accepted.
inline constexpr int kMaxSearchDepth = 32;

// Reads search keys until r is exhausted (at least one). A MODSEQ key's optional entry
// name and type (RFC 7162 "/flags/\\Seen" priv) are checked and dropped: Tern keeps one
// modseq per message.
std::vector<SearchKey> read_search_keys(ArgReader& r);

}  // namespace tern::imap::proto
