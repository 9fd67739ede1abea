// imap/mailbox_list.h: LIST and LSUB answers, and mailbox names, without the store.
//
// Mailbox names are UTF-8, levels separated by '/'; "INBOX" is spelled so. The session
// reads the account's mailboxes from the store, passes them in with the parsed command
// (imap/proto/command.h), and formats the entries it gets back with format_list_line().
//
// LIST follows RFC 9051 6.3.9 with LIST-EXTENDED (RFC 5258) and SPECIAL-USE (RFC 6154):
//   - `*` matches anything, `%` anything but the delimiter; names are compared byte for byte
//     except that the INBOX level matches ignoring case ("inbox/%" lists "INBOX/x").
//   - The reference is prefixed to the pattern, unless the pattern starts with the delimiter.
//   - A name the selection criteria do not pick (a level that is no mailbox, for plain LIST;
//     an unsubscribed one, for LSUB) is still listed when it matches the pattern and hides a
//     descendant that is picked but does not match: LIST "" "%" shows "a" for "a/b/c" as
//     (\Noselect \HasChildren) (\NonExistent under LIST-EXTENDED), LSUB "" "%" shows an
//     unsubscribed "a" of a subscribed "a/b" as (\Noselect) (RFC 3501 6.3.9). With `*` the
//     descendants match too, so only real mailboxes come back. LIST (SUBSCRIBED) lists only
//     subscribed names, unless RECURSIVEMATCH asks for such parents, which then carry
//     CHILDINFO ("SUBSCRIBED") (RFC 5258 3.5, RFC 9051 7.3.1 \NonExistent rule 2).
//   - Attributes, in this order: \Subscribed (when selected or returned), \NonExistent or
//     \Noselect, \HasChildren / \HasNoChildren (always: RFC 5258 4 lets a server give them
//     unasked), the special-use attribute. Entries come INBOX first, then in hierarchy
//     order (a parent right before its children).
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "imap/proto/command.h"
#include "store/types.h"

namespace tern::imap {

inline constexpr char kHierarchyDelimiter = '/';
inline constexpr std::size_t kMaxMailboxLevel = 255;   // bytes per level
inline constexpr std::size_t kMaxMailboxName = 1000;   // bytes in all

// One LIST / LSUB response.
struct ListEntry {
  std::string name;                          // UTF-8; "" for LIST "" "" (the root)
  std::vector<std::string_view> attributes;  // static strings: "\\HasNoChildren", "\\Sent", ...
  std::vector<std::string_view> childinfo;   // RFC 5258 CHILDINFO: "SUBSCRIBED", "SPECIAL-USE"
  bool exists = false;  // a mailbox (only these get STATUS under LIST-STATUS, RFC 5819)
  friend bool operator==(const ListEntry&, const ListEntry&) = default;
};

// The pattern a reference and a mailbox argument make together (RFC 9051 6.3.9).
std::string list_pattern(std::string_view reference, std::string_view pattern);
// True when the whole of `name` matches `pattern`. O(|pattern| * |name|), no backtracking.
bool list_match(std::string_view pattern, std::string_view name);

// LIST: `mailboxes` are the account's mailboxes (names, special_use, subscribed);
// `lost_subscriptions` names subscribed to that are no mailbox (they show as \NonExistent
// under LIST (SUBSCRIBED) and \Noselect under LSUB). An empty pattern asks for the
// delimiter and root: one entry "" (\Noselect). `cmd.extended` picks \NonExistent over
// \Noselect for levels that are no mailbox (set it for IMAP4rev2 sessions too).
std::vector<ListEntry> list_mailboxes(const proto::List& cmd, std::span<const store::Mailbox> mailboxes,
                                      std::span<const std::string> lost_subscriptions = {});
// LSUB (RFC 3501 6.3.9): subscribed names; attributes only \Noselect (not subscribed, or not
// a mailbox).
std::vector<ListEntry> lsub_mailboxes(const proto::Lsub& cmd, std::span<const store::Mailbox> mailboxes,
                                      std::span<const std::string> lost_subscriptions = {});

// `* LIST (\HasNoChildren \Sent) "/" "Sent"` [ ("CHILDINFO" ("SUBSCRIBED"))] CRLF; the name in
// modified UTF-7 unless the client enabled UTF8=ACCEPT.
std::string format_list_line(const ListEntry& entry, bool utf8);
// The same as `* LSUB ...`.
std::string format_lsub_line(const ListEntry& entry, bool utf8);

// A name for CREATE or RENAME, checked and made canonical: the first level INBOX in any case
// becomes "INBOX"; with `create`, one trailing delimiter is dropped ("a/b/" creates "a/b",
// RFC 9051 6.3.4). Refused, with a text for the NO reply: an empty name or level, a leading
// or trailing delimiter, "*" or "%", control characters, invalid UTF-8, a level over
// kMaxMailboxLevel bytes or a name over kMaxMailboxName.
tl::expected<std::string, std::string> normalize_mailbox_name(std::string_view name, bool create = false);

// True when `name` lies below `ancestor` ("a/b/c" below "a" and "a/b", not "ab").
bool is_below(std::string_view name, std::string_view ancestor);

}  // namespace tern::imap
