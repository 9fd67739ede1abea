// imap/search.h: evaluating SEARCH criteria (RFC 9051 6.4.4, RFC 3501 NEW/OLD/RECENT,
// RFC 7162 MODSEQ) over a mailbox's messages, and the SEARCH / ESEARCH (RFC 4731)
// responses.
//
// A SearchQuery is compiled once per command from proto::SearchKey trees: `*` in sequence
// and UID sets is resolved, strings are folded (imap/search_match.h), and the keys of each
// AND are ordered cheapest first: flags, keywords, sets, sizes, internal dates and MODSEQ
// (store::Message only), then header keys (the message's header: a prefix of the
// message is read, LoadedMessage::header()), then BODY/TEXT (decoded text of every text
// part: the whole message is read and parsed). AND, OR and NOT short-circuit, so a message's bytes are read
// only when a key that needs them is reached; a search with only metadata keys never calls
// a MessageSource (needs_content() is false and it can run on the I/O thread).
//
// Matching rules:
//   FROM TO CC BCC SUBJECT, HEADER f s: a field of the top-level header with that name
//     (any of several) whose value, unfolded and with RFC 2047 words decoded, contains s
//     (folded, imap/search_match.h). An empty s matches every message having the field.
//   BODY s: the decoded text of the text parts at any depth (mime/search_text.h: charset
//     and transfer encoding removed, HTML reduced to text, nested messages' headers
//     included). TEXT s: BODY or the header text ("Name: decoded value" lines).
//   BEFORE ON SINCE: the internal date's calendar day in UTC (Tern's server time zone).
//   SENTBEFORE SENTON SENTSINCE: the Date: field's day as written, disregarding time and
//     zone; when Date: is missing or unreadable, the internal date's UTC day.
//   LARGER / SMALLER n: RFC822.SIZE > n / < n.  MODSEQ n: modseq >= n.
//   KEYWORD / UNKEYWORD: keywords compare ignoring ASCII case (RFC 9051 2.3.2).
//   NEW = RECENT UNSEEN; OLD = NOT RECENT; RECENT: in the session's \Recent set.
//
// CHARSET: search strings must be UTF-8 or US-ASCII (taken as UTF-8); anything else is
// refused with kBadCharsetText before compiling.
//
// Thread-safety: a SearchQuery is immutable after construction and may be shared; the
// functions are thread-safe. Matching blocks while a MessageSource reads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "imap/message_source.h"
#include "imap/proto/command.h"
#include "imap/proto/search_keys.h"
#include "imap/proto/seqset.h"
#include "store/types.h"

namespace tern::imap {

// RFC 9051 6.4.4: the CHARSETs SEARCH accepts (none given means US-ASCII).
bool search_charset_supported(const std::optional<std::string>& charset);
// The tagged NO text for any other charset, with its response code.
inline constexpr std::string_view kBadCharsetText = "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset";

// What `*` means for this search (RFC 9051 9 seq-number).
struct SearchScope {
  std::uint32_t message_count = 0;  // `*` in message sequence sets
  std::uint32_t highest_uid = 0;    // `*` in UID sets: the UID of the last message, 0 if none
};

// The scope of a mailbox whose messages (in UID order) are `messages`.
inline SearchScope scope_of(std::span<const store::Message> messages) {
  return {static_cast<std::uint32_t>(messages.size()), messages.empty() ? 0 : messages.back().uid};
}

// One message as the session knows it.
struct SearchMessage {
  const store::Message* message = nullptr;
  std::uint32_t seq = 0;
  bool recent = false;  // in this session's \Recent set
};

class SearchQuery {
 public:
  // `keys` must all match (the command's top-level list). Strings are UTF-8.
  SearchQuery(const std::vector<proto::SearchKey>& keys, const SearchScope& scope);

  // True when some key needs the message's bytes (header, BODY, TEXT, SENT*).
  bool needs_content() const { return root_.cost > 0; }
  // True when a MODSEQ key appears anywhere: responses carry the highest modseq
  // (RFC 7162 3.1.5).
  bool uses_modseq() const { return uses_modseq_; }

  // Whether the message matches. `source` may be null when !needs_content(); it is read
  // only when a key that needs content is evaluated. Errors are the source's.
  Result<bool> matches(const SearchMessage& message, MessageSource* source) const;

  // A compiled key. Internal; public only so that the implementation can name it.
  struct Node {
    proto::SearchKey::Kind kind = proto::SearchKey::Kind::kAll;
    std::string field;   // header keys: the field name
    std::string needle;  // string keys: folded; keywords: as given
    std::int64_t day = 0;
    std::uint64_t number = 0;
    proto::RangeSet set;  // resolved UID or sequence set
    std::vector<Node> children;
    int cost = 0;  // 0: store::Message only; 1: the header; 2: the decoded text
  };

 private:
  Node root_;  // kAnd of the keys
  bool uses_modseq_ = false;
};

struct SearchHit {
  std::uint32_t seq = 0;
  std::uint32_t uid = 0;
  std::uint64_t modseq = 0;
  friend bool operator==(const SearchHit&, const SearchHit&) = default;
};

struct SearchResult {
  std::vector<SearchHit> hits;  // ascending sequence numbers (so ascending UIDs too)
  bool with_modseq = false;     // the query had a MODSEQ key
};

// Opens the content of one message. Called only for messages whose evaluation reaches a
// key that needs content, at most once per message.
using SourceOpener = std::function<Result<std::unique_ptr<MessageSource>>(const store::Message&)>;

// Runs the query over the selected mailbox: messages[i] has sequence number i + 1, in UID
// order; `recent_uids` is the session's \Recent set. Stops at the first source error.
Result<SearchResult> run_search(const SearchQuery& query, std::span<const store::Message> messages,
                                const proto::RangeSet& recent_uids, const SourceOpener& open);

// "* SEARCH 2 5 7\r\n" (UIDs for UID SEARCH), with " (MODSEQ n)" before the CRLF when
// with_modseq and something matched, n the highest modseq of the hits (RFC 7162 3.1.5).
std::string format_search(const SearchResult& result, bool uid);

// "* ESEARCH (TAG \"A1\") UID MIN 2 MAX 7 ALL 2,5,7 COUNT 3 MODSEQ 9\r\n" (RFC 4731 3.1):
// MIN, MAX and ALL are left out when nothing matched, COUNT is always given when asked;
// a return with nothing set means ALL. MODSEQ (RFC 7162 3.1.5) is the highest modseq of
// the messages returned: all hits for ALL or COUNT, else the MIN / MAX messages.
std::string format_esearch(const SearchResult& result, const proto::SearchReturn& ret, std::string_view tag,
                           bool uid);

}  // namespace tern::imap
