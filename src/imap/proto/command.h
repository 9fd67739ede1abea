// imap/proto/command.h: typed IMAP commands from the receiver's tokenized requests.
//
// interpret() checks a Request against the grammar of its command (RFC 9051 / RFC 3501 and
// the extensions Tern serves: LITERAL+, IDLE, NAMESPACE, ID, ENABLE, UNSELECT, MOVE,
// UIDPLUS, MULTIAPPEND, BINARY, LIST-EXTENDED, LIST-STATUS, SPECIAL-USE, CONDSTORE,
// QRESYNC, ESEARCH, STATUS=SIZE, APPENDLIMIT, QUOTA) and returns one struct per command, or
// the text of a BAD reply. It checks syntax only: whether the command is allowed in the
// session's state, and whether the mailbox or messages exist, is the session's business.
//
// Mailbox names come out in UTF-8: decoded from modified UTF-7, or, once the client
// ENABLEd UTF8=ACCEPT (RFC 6855), checked as UTF-8. A name equal to INBOX in any case
// becomes "INBOX". LIST patterns and references are decoded the same way but keep their
// wildcards and case.
//
// interpret() takes the request by value and moves strings out of it (an APPEND literal is
// not copied). Pure; no I/O, no globals; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <tl/expected.hpp>

#include "imap/proto/args.h"
#include "imap/proto/datetime.h"
#include "imap/proto/fetch_items.h"
#include "imap/proto/receiver.h"
#include "imap/proto/search_keys.h"
#include "imap/proto/seqset.h"

namespace tern::imap::proto {

// Session state that changes the grammar.
struct InterpretOptions {
  bool utf8_accept = false;  // ENABLE UTF8=ACCEPT: mailbox names are UTF-8, not mUTF-7
};

// STATUS data items (RFC 9051 6.3.11, RFC 8438 SIZE, RFC 7162 HIGHESTMODSEQ, RFC 7889).
enum class StatusItem { kMessages, kRecent, kUidNext, kUidValidity, kUnseen, kDeleted, kSize, kHighestModSeq, kAppendLimit };
// The item's name in a STATUS response: "MESSAGES", "UIDNEXT", ...
std::string_view status_item_name(StatusItem item);

struct Capability {};
struct Noop {};
struct Logout {};
struct StartTls {};
struct Authenticate {
  std::string mechanism;                        // upper-cased
  std::optional<std::string> initial_response;  // RFC 4959 SASL-IR, as sent ("=" is empty)
};
struct Login {
  std::string user;
  std::string password;
};
struct Enable {
  std::vector<std::string> capabilities;  // upper-cased, in order
};
struct Id {
  // RFC 2971: nullopt for "ID NIL"; else field/value pairs (value nullopt for NIL).
  std::optional<std::vector<std::pair<std::string, std::optional<std::string>>>> params;
};
struct Namespace {};
struct Idle {};

// RFC 7162 3.2.5: QRESYNC (uidvalidity modseq [known-uids [(seqs uids)]]).
struct Qresync {
  std::uint32_t uidvalidity = 0;
  std::uint64_t modseq = 0;
  std::optional<SequenceSet> known_uids;  // no `*`
  struct SeqMatch {
    SequenceSet seqs;  // known message numbers, no `*`
    SequenceSet uids;  // their UIDs, no `*`
  };
  std::optional<SeqMatch> seq_match;
};
// SELECT (readonly = false) and EXAMINE (readonly = true).
struct Select {
  std::string mailbox;
  bool readonly = false;
  bool condstore = false;          // (CONDSTORE), RFC 7162 3.1.8
  std::optional<Qresync> qresync;  // (QRESYNC (...))
};
struct Create {
  std::string mailbox;
  std::vector<std::string> special_use;  // RFC 6154 CREATE (USE (\Sent)): attributes as sent
};
struct Delete {
  std::string mailbox;
};
struct Rename {
  std::string from;
  std::string to;
};
struct Subscribe {
  std::string mailbox;
};
struct Unsubscribe {
  std::string mailbox;
};

// LIST, plain or extended (RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154).
struct List {
  std::string reference;
  std::vector<std::string> patterns;  // one unless the (pattern ...) form was used
  struct Select {
    bool subscribed = false;
    bool remote = false;
    bool recursive_match = false;  // only with subscribed or special_use
    bool special_use = false;
  } select;
  struct Return {
    bool subscribed = false;
    bool children = false;
    bool special_use = false;
    std::optional<std::vector<StatusItem>> status;  // RETURN (STATUS (...))
  } returns;
  bool extended = false;  // selection options, several patterns or RETURN were given
};
struct Lsub {
  std::string reference;
  std::string pattern;
};
struct Status {
  std::string mailbox;
  std::vector<StatusItem> items;  // at least one, in order
};

struct AppendMessage {
  Flags flags;
  std::optional<DateTime> internal_date;
  std::string bytes;
  bool binary = false;  // sent as literal8 (RFC 3516): may hold NUL
};
// APPEND with one message, or several (RFC 3502 MULTIAPPEND).
struct Append {
  std::string mailbox;
  std::vector<AppendMessage> messages;  // at least one
};

struct Check {};
struct Close {};
struct Unselect {};
struct Expunge {};
struct UidExpunge {  // RFC 4315
  SequenceSet uids;
};

// RFC 4731 ESEARCH: SEARCH RETURN (...). RETURN () means ALL.
struct SearchReturn {
  bool min = false;
  bool max = false;
  bool all = false;
  bool count = false;
};
struct Search {
  bool uid = false;
  std::optional<std::string> charset;  // upper-cased
  std::optional<SearchReturn> returns;  // nullopt: the classic "* SEARCH" response
  std::vector<SearchKey> keys;          // all must match
};

struct Fetch {
  bool uid = false;
  SequenceSet set;
  std::vector<FetchAttr> items;  // as asked, macros expanded
  std::optional<std::uint64_t> changed_since;  // (CHANGEDSINCE n), RFC 7162 3.1.4
  bool vanished = false;                       // (VANISHED), RFC 7162 3.2.6: UID FETCH only
};

struct Store {
  enum class Mode { kReplace, kAdd, kRemove };  // FLAGS, +FLAGS, -FLAGS
  bool uid = false;
  SequenceSet set;
  Mode mode = Mode::kReplace;
  bool silent = false;
  Flags flags;
  std::optional<std::uint64_t> unchanged_since;  // (UNCHANGEDSINCE n), RFC 7162 3.1.3
};
struct Copy {
  bool uid = false;
  SequenceSet set;
  std::string mailbox;
};
struct Move {  // RFC 6851
  bool uid = false;
  SequenceSet set;
  std::string mailbox;
};

struct GetQuota {  // RFC 9208
  std::string root;
};
struct GetQuotaRoot {
  std::string mailbox;
};

using Command = std::variant<Capability, Noop, Logout, StartTls, Authenticate, Login, Enable, Id, Namespace, Idle,
                             Select, Create, Delete, Rename, Subscribe, Unsubscribe, List, Lsub, Status, Append,
                             Check, Close, Unselect, Expunge, UidExpunge, Search, Fetch, Store, Copy, Move,
                             GetQuota, GetQuotaRoot>;

// True when a line read during IDLE ends it: "DONE" in any case (RFC 2177 3). Anything
// else is a protocol error (RFC 9051 6.3.13: the session answers BAD and ends IDLE).
bool is_idle_done(std::string_view line);

// The typed command, or the text of a BAD reply ("Unknown command", "Invalid sequence
// set", "Unknown FETCH attribute FOO", ...). The text is safe to send: printable US-ASCII.
tl::expected<Command, std::string> interpret(Request request, const InterpretOptions& options = {});

}  // namespace tern::imap::proto
