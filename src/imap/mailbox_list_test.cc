#include "imap/mailbox_list.h"

#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tern::imap {
namespace {

using Lines = std::vector<std::string>;

store::Mailbox mb(std::string name, bool subscribed = false, store::SpecialUse use = store::SpecialUse::kNone) {
  store::Mailbox m;
  m.name = std::move(name);
  m.subscribed = subscribed;
  m.special_use = use;
  return m;
}

proto::List list(std::string reference, std::vector<std::string> patterns) {
  proto::List cmd;
  cmd.reference = std::move(reference);
  cmd.patterns = std::move(patterns);
  return cmd;
}

Lines format(const std::vector<ListEntry>& entries, bool lsub = false) {
  Lines out;
  for (const auto& e : entries) {
    std::string line = lsub ? format_lsub_line(e, false) : format_list_line(e, false);
    EXPECT_TRUE(line.ends_with("\r\n")) << line;
    line.resize(line.size() - 2);
    out.push_back(line);
  }
  return out;
}

// ---- Patterns

TEST(ListPattern, JoinsReferenceAndPattern) {
  // RFC 3501 6.3.8 / RFC 9051 6.3.9 examples (with '/' as the delimiter where it matters).
  const std::vector<std::array<std::string, 3>> cases = {
      {"~smith/Mail/", "foo.*", "~smith/Mail/foo.*"},
      {"archive/", "%", "archive/%"},
      {"#news.", "comp.mail.*", "#news.comp.mail.*"},
      {"~smith/Mail/", "/usr/doc/foo", "/usr/doc/foo"},
      {"archive/", "~fred/Mail/*", "archive/~fred/Mail/*"},  // only the delimiter makes a pattern absolute
      {"", "*", "*"},
      {"Fruit", "/x", "/x"},
      {"Fruit/", "", "Fruit/"},
  };
  for (const auto& c : cases) EXPECT_EQ(list_pattern(c[0], c[1]), c[2]) << c[0] << " + " << c[1];
}

struct MatchCase {
  std::string pattern;
  std::string name;
  bool match;
};

TEST(ListMatch, WildcardsAndInbox) {
  const std::vector<MatchCase> cases = {
      {"*", "a", true},
      {"*", "a/b/c", true},
      {"%", "a", true},
      {"%", "a/b", false},
      {"%/%", "a/b", true},
      {"%/%", "a/b/c", false},
      {"a/*", "a/b/c", true},
      {"a/*", "a", false},
      {"a*", "a", true},
      {"a*", "ab/c", true},
      {"a%", "ab/c", false},
      {"*c", "a/b/c", true},
      {"%c", "a/b/c", false},
      {"a%c", "abbc", true},
      {"a%c", "ab/c", false},
      {"a*c", "ab/c", true},
      {"a*b*c", "aXbYbZc", true},
      {"a*b*c", "aXbYbZ", false},
      {"", "", true},
      {"", "a", false},
      {"a", "", false},
      {"Sent", "Sent", true},
      {"sent", "Sent", false},  // case-sensitive ...
      {"inbox", "INBOX", true},  // ... except INBOX (RFC 9051 5.1)
      {"Inbox/%", "INBOX/Sub", true},
      {"inbox/Sub", "INBOX/Sub", true},
      {"inbox/sub", "INBOX/Sub", false},
      {"inbox/SUB", "INBOX/Sub", false},  // only the INBOX level ignores case
      {"i*", "INBOX", true},
      {"inb%", "INBOX", true},
      {"INBOX", "INBOXES", false},
      {"inbox*", "INBOXES", false},  // "INBOXES" is not INBOX: case-sensitive
      {"INBOX*", "INBOXES", true},
      {"%", "Entw\xc3\xbcrfe", true},  // UTF-8 passes through byte for byte
      {"Entw%rfe", "Entw\xc3\xbcrfe", true},
      {"Entw\xc3\xbc*", "Entw\xc3\xbcrfe/x", true},
      {"**%%**", "a/b", true},
      {"%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", false},
  };
  for (const auto& c : cases) EXPECT_EQ(list_match(c.pattern, c.name), c.match) << c.pattern << " ~ " << c.name;
}

// ---- The RFC 5258 section 5 examples. RFC 5258 4 lets a server give \HasChildren and
// \HasNoChildren unasked, and Tern always does, so those attributes appear where the RFC's
// lines have none; everything else is as in the RFC (order of lines and attributes aside).

std::vector<store::Mailbox> rfc5258_mailboxes() {
  return {mb("INBOX", true),         mb("Fruit"),          mb("Fruit/Apple"),
          mb("Fruit/Banana", true),  mb("Tofu"),           mb("Vegetable", true),
          mb("Vegetable/Broccoli", true), mb("Vegetable/Corn")};
}
const std::vector<std::string> kLost = {"Fruit/Peach"};  // subscribed, no such mailbox

TEST(ListRfc5258, Example1PlainListOfEverything) {
  auto entries = list_mailboxes(list("", {"*"}), rfc5258_mailboxes(), kLost);
  EXPECT_EQ(format(entries), (Lines{
                                 R"(* LIST (\HasNoChildren) "/" "INBOX")",
                                 R"(* LIST (\HasChildren) "/" "Fruit")",
                                 R"(* LIST (\HasNoChildren) "/" "Fruit/Apple")",
                                 R"(* LIST (\HasNoChildren) "/" "Fruit/Banana")",
                                 R"(* LIST (\HasNoChildren) "/" "Tofu")",
                                 R"(* LIST (\HasChildren) "/" "Vegetable")",
                                 R"(* LIST (\HasNoChildren) "/" "Vegetable/Broccoli")",
                                 R"(* LIST (\HasNoChildren) "/" "Vegetable/Corn")",
                             }));
  for (const auto& e : entries) EXPECT_TRUE(e.exists) << e.name;
}

TEST(ListRfc5258, Example2SubscribedSelection) {
  proto::List cmd = list("", {"*"});
  cmd.select.subscribed = true;
  cmd.extended = true;
  auto entries = list_mailboxes(cmd, rfc5258_mailboxes(), kLost);
  EXPECT_EQ(format(entries), (Lines{
                                 R"(* LIST (\Subscribed \HasNoChildren) "/" "INBOX")",
                                 R"(* LIST (\Subscribed \HasNoChildren) "/" "Fruit/Banana")",
                                 R"(* LIST (\Subscribed \NonExistent) "/" "Fruit/Peach")",
                                 R"(* LIST (\Subscribed \HasChildren) "/" "Vegetable")",
                                 R"(* LIST (\Subscribed \HasNoChildren) "/" "Vegetable/Broccoli")",
                             }));
  EXPECT_FALSE(entries[2].exists);
}

TEST(ListRfc5258, Example3ReturnChildren) {
  proto::List cmd = list("", {"%"});
  cmd.returns.children = true;
  cmd.extended = true;
  EXPECT_EQ(format(list_mailboxes(cmd, rfc5258_mailboxes(), kLost)), (Lines{
                                                                          R"(* LIST (\HasNoChildren) "/" "INBOX")",
                                                                          R"(* LIST (\HasChildren) "/" "Fruit")",
                                                                          R"(* LIST (\HasNoChildren) "/" "Tofu")",
                                                                          R"(* LIST (\HasChildren) "/" "Vegetable")",
                                                                      }));
}

TEST(ListRfc5258, Example6ReturnSubscribed) {
  proto::List cmd = list("", {"*"});
  cmd.returns.subscribed = true;
  cmd.extended = true;
  EXPECT_EQ(format(list_mailboxes(cmd, rfc5258_mailboxes(), kLost)),
            (Lines{
                R"(* LIST (\Subscribed \HasNoChildren) "/" "INBOX")",
                R"(* LIST (\HasChildren) "/" "Fruit")",
                R"(* LIST (\HasNoChildren) "/" "Fruit/Apple")",
                R"(* LIST (\Subscribed \HasNoChildren) "/" "Fruit/Banana")",
                R"(* LIST (\HasNoChildren) "/" "Tofu")",
                R"(* LIST (\Subscribed \HasChildren) "/" "Vegetable")",
                R"(* LIST (\Subscribed \HasNoChildren) "/" "Vegetable/Broccoli")",
                R"(* LIST (\HasNoChildren) "/" "Vegetable/Corn")",
            }));
}

TEST(ListRfc5258, Example7SeveralPatterns) {
  // A mailbox matching two patterns is listed once.
  proto::List cmd = list("", {"INBOX", "Drafts", "Sent/%", "Fruit/*", "Fruit/B%"});
  cmd.extended = true;
  EXPECT_EQ(format(list_mailboxes(cmd, rfc5258_mailboxes(), kLost)),
            (Lines{
                R"(* LIST (\HasNoChildren) "/" "INBOX")",
                R"(* LIST (\HasNoChildren) "/" "Fruit/Apple")",
                R"(* LIST (\HasNoChildren) "/" "Fruit/Banana")",
            }));
}

TEST(ListRfc5258, Example8RecursiveMatchWithPercent) {
  proto::List cmd = list("", {"%"});
  cmd.select.subscribed = true;
  cmd.select.recursive_match = true;
  cmd.extended = true;
  EXPECT_EQ(format(list_mailboxes(cmd, rfc5258_mailboxes(), kLost)),
            (Lines{
                R"(* LIST (\Subscribed \HasNoChildren) "/" "INBOX")",
                R"(* LIST (\HasChildren) "/" "Fruit" ("CHILDINFO" ("SUBSCRIBED")))",
                R"(* LIST (\Subscribed \HasChildren) "/" "Vegetable" ("CHILDINFO" ("SUBSCRIBED")))",
            }));
  // Without RECURSIVEMATCH only the subscribed names that match come back.
  cmd.select.recursive_match = false;
  EXPECT_EQ(format(list_mailboxes(cmd, rfc5258_mailboxes(), kLost)),
            (Lines{
                R"(* LIST (\Subscribed \HasNoChildren) "/" "INBOX")",
                R"(* LIST (\Subscribed \HasChildren) "/" "Vegetable")",
            }));
}

TEST(ListRfc5258, Example10RecursiveMatchWithStarPattern) {
  std::vector<store::Mailbox> boxes = {
      mb("foo2"),         mb("foo2/bar1", true),   mb("foo2/bar2", true),   mb("baz2"),
      mb("baz2/bar2", true), mb("baz2/bar22", true), mb("baz2/bar222", true), mb("eps2", true),
      mb("eps2/mamba", true), mb("qux2/bar2", true)};
  proto::List cmd = list("", {"*2"});
  cmd.select.subscribed = true;
  cmd.select.recursive_match = true;
  cmd.extended = true;
  // baz2 is left out: every subscribed child of it matches "*2" and is listed itself.
  EXPECT_EQ(format(list_mailboxes(cmd, boxes)),
            (Lines{
                R"(* LIST (\Subscribed \HasNoChildren) "/" "baz2/bar2")",
                R"(* LIST (\Subscribed \HasNoChildren) "/" "baz2/bar22")",
                R"(* LIST (\Subscribed \HasNoChildren) "/" "baz2/bar222")",
                R"(* LIST (\Subscribed \HasChildren) "/" "eps2" ("CHILDINFO" ("SUBSCRIBED")))",
                R"(* LIST (\HasChildren) "/" "foo2" ("CHILDINFO" ("SUBSCRIBED")))",
                R"(* LIST (\Subscribed \HasNoChildren) "/" "foo2/bar2")",
                R"(* LIST (\Subscribed \HasNoChildren) "/" "qux2/bar2")",
            }));
}

TEST(ListRfc5258, NonExistentParentWithRecursiveMatch) {
  std::vector<store::Mailbox> boxes = {mb("a/b/c", true)};
  proto::List cmd = list("", {"%"});
  cmd.select.subscribed = true;
  cmd.select.recursive_match = true;
  cmd.extended = true;
  EXPECT_EQ(format(list_mailboxes(cmd, boxes)),
            (Lines{R"(* LIST (\NonExistent \HasChildren) "/" "a" ("CHILDINFO" ("SUBSCRIBED")))"}));
}

// ---- Plain LIST (RFC 3501 6.3.8, RFC 9051 6.3.9)

TEST(List, EmptyPatternAsksForTheDelimiterAndRoot) {
  EXPECT_EQ(format(list_mailboxes(list("", {""}), rfc5258_mailboxes())), (Lines{R"(* LIST (\Noselect) "/" "")"}));
  EXPECT_EQ(format(list_mailboxes(list("Fruit/", {""}), rfc5258_mailboxes())),
            (Lines{R"(* LIST (\Noselect) "/" "")"}));
}

TEST(List, PercentShowsLevelsThatAreNoMailbox) {
  std::vector<store::Mailbox> boxes = {mb("INBOX"), mb("a/b/c"), mb("music/rock"), mb("x")};
  EXPECT_EQ(format(list_mailboxes(list("", {"%"}), boxes)), (Lines{
                                                                R"(* LIST (\HasNoChildren) "/" "INBOX")",
                                                                R"(* LIST (\Noselect \HasChildren) "/" "a")",
                                                                R"(* LIST (\Noselect \HasChildren) "/" "music")",
                                                                R"(* LIST (\HasNoChildren) "/" "x")",
                                                            }));
  EXPECT_EQ(format(list_mailboxes(list("a/", {"%"}), boxes)),
            (Lines{R"(* LIST (\Noselect \HasChildren) "/" "a/b")"}));
  EXPECT_EQ(format(list_mailboxes(list("", {"a/%/%"}), boxes)), (Lines{R"(* LIST (\HasNoChildren) "/" "a/b/c")"}));
  // With * the descendants match too: only real mailboxes.
  EXPECT_EQ(format(list_mailboxes(list("", {"*"}), boxes)), (Lines{
                                                                R"(* LIST (\HasNoChildren) "/" "INBOX")",
                                                                R"(* LIST (\HasNoChildren) "/" "a/b/c")",
                                                                R"(* LIST (\HasNoChildren) "/" "music/rock")",
                                                                R"(* LIST (\HasNoChildren) "/" "x")",
                                                            }));
  // LIST-EXTENDED and IMAP4rev2 say \NonExistent (RFC 5258 example: "music").
  proto::List ext = list("", {"%"});
  ext.extended = true;
  EXPECT_EQ(format(list_mailboxes(ext, boxes))[2], R"(* LIST (\NonExistent \HasChildren) "/" "music")");
}

TEST(List, ReferenceIsPrefixed) {
  EXPECT_EQ(format(list_mailboxes(list("Fruit/", {"%"}), rfc5258_mailboxes())),
            (Lines{
                R"(* LIST (\HasNoChildren) "/" "Fruit/Apple")",
                R"(* LIST (\HasNoChildren) "/" "Fruit/Banana")",
            }));
  EXPECT_EQ(format(list_mailboxes(list("Fruit", {"%"}), rfc5258_mailboxes())),
            (Lines{R"(* LIST (\HasChildren) "/" "Fruit")"}));
}

TEST(List, InboxMatchesIgnoringCaseAndComesFirst) {
  std::vector<store::Mailbox> boxes = {mb("Archive"), mb("INBOX/Sub"), mb("INBOX"), mb("Inboxes")};
  EXPECT_EQ(format(list_mailboxes(list("", {"*"}), boxes)), (Lines{
                                                                R"(* LIST (\HasChildren) "/" "INBOX")",
                                                                R"(* LIST (\HasNoChildren) "/" "INBOX/Sub")",
                                                                R"(* LIST (\HasNoChildren) "/" "Archive")",
                                                                R"(* LIST (\HasNoChildren) "/" "Inboxes")",
                                                            }));
  EXPECT_EQ(format(list_mailboxes(list("", {"inbox"}), boxes)), (Lines{R"(* LIST (\HasChildren) "/" "INBOX")"}));
  EXPECT_EQ(format(list_mailboxes(list("inbox/", {"%"}), boxes)),
            (Lines{R"(* LIST (\HasNoChildren) "/" "INBOX/Sub")"}));
  EXPECT_TRUE(list_mailboxes(list("", {"inboxes"}), boxes).empty());
}

TEST(List, HierarchyOrderKeepsChildrenAfterTheirParent) {
  std::vector<store::Mailbox> boxes = {mb("a-b"), mb("a/z"), mb("a"), mb("a0"), mb("B")};
  EXPECT_EQ(format(list_mailboxes(list("", {"*"}), boxes)), (Lines{
                                                                R"(* LIST (\HasNoChildren) "/" "B")",
                                                                R"(* LIST (\HasChildren) "/" "a")",
                                                                R"(* LIST (\HasNoChildren) "/" "a/z")",
                                                                R"(* LIST (\HasNoChildren) "/" "a-b")",
                                                                R"(* LIST (\HasNoChildren) "/" "a0")",
                                                            }));
}

TEST(List, SpecialUseAttributesAndSelection) {
  using store::SpecialUse;
  std::vector<store::Mailbox> boxes = {mb("INBOX", true),
                                       mb("Drafts", true, SpecialUse::kDrafts),
                                       mb("Sent", true, SpecialUse::kSent),
                                       mb("Trash", false, SpecialUse::kTrash),
                                       mb("Junk", true, SpecialUse::kJunk),
                                       mb("Archive", true, SpecialUse::kArchive),
                                       mb("Archive/2023"),
                                       mb("All", false, SpecialUse::kAll),
                                       mb("Starred", false, SpecialUse::kFlagged)};
  EXPECT_EQ(format(list_mailboxes(list("", {"*"}), boxes)), (Lines{
                                                                R"(* LIST (\HasNoChildren) "/" "INBOX")",
                                                                R"(* LIST (\HasNoChildren \All) "/" "All")",
                                                                R"(* LIST (\HasChildren \Archive) "/" "Archive")",
                                                                R"(* LIST (\HasNoChildren) "/" "Archive/2023")",
                                                                R"(* LIST (\HasNoChildren \Drafts) "/" "Drafts")",
                                                                R"(* LIST (\HasNoChildren \Junk) "/" "Junk")",
                                                                R"(* LIST (\HasNoChildren \Sent) "/" "Sent")",
                                                                R"(* LIST (\HasNoChildren \Flagged) "/" "Starred")",
                                                                R"(* LIST (\HasNoChildren \Trash) "/" "Trash")",
                                                            }));
  // RFC 6154 LIST (SPECIAL-USE): only mailboxes with a special use.
  proto::List cmd = list("", {"*"});
  cmd.select.special_use = true;
  cmd.extended = true;
  EXPECT_EQ(format(list_mailboxes(cmd, boxes)).size(), 7u);
  // With SUBSCRIBED too: both.
  cmd.select.subscribed = true;
  EXPECT_EQ(format(list_mailboxes(cmd, boxes)), (Lines{
                                                    R"(* LIST (\Subscribed \HasChildren \Archive) "/" "Archive")",
                                                    R"(* LIST (\Subscribed \HasNoChildren \Drafts) "/" "Drafts")",
                                                    R"(* LIST (\Subscribed \HasNoChildren \Junk) "/" "Junk")",
                                                    R"(* LIST (\Subscribed \HasNoChildren \Sent) "/" "Sent")",
                                                }));
}

TEST(List, FormatsNamesInModifiedUtf7UnlessUtf8) {
  ListEntry e{"Entw\xc3\xbcrfe/&Co", {"\\HasNoChildren", "\\Drafts"}, {}, true};
  EXPECT_EQ(format_list_line(e, false), "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Entw&APw-rfe/&-Co\"\r\n");
  EXPECT_EQ(format_list_line(e, true), "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Entw\xc3\xbcrfe/&Co\"\r\n");
  ListEntry sent{"Sent", {"\\HasNoChildren", "\\Sent"}, {}, true};
  EXPECT_EQ(format_list_line(sent, false), "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"\r\n");
  EXPECT_EQ(format_lsub_line(sent, false), "* LSUB (\\HasNoChildren \\Sent) \"/\" \"Sent\"\r\n");
  ListEntry quote{"a\"b", {}, {"SUBSCRIBED"}, true};
  EXPECT_EQ(format_list_line(quote, false), "* LIST () \"/\" \"a\\\"b\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n");
}

TEST(List, ManyMailboxes) {
  // 3 levels of 20: 8420 names (with the levels above). Linear work per name and pattern.
  std::vector<store::Mailbox> boxes;
  for (int a = 0; a < 20; ++a) {
    for (int b = 0; b < 20; ++b) {
      for (int c = 0; c < 20; ++c) {
        boxes.push_back(mb("a" + std::to_string(a) + "/b" + std::to_string(b) + "/c" + std::to_string(c), c == 0));
      }
    }
  }
  EXPECT_EQ(list_mailboxes(list("", {"*"}), boxes).size(), 8000u);
  auto top = list_mailboxes(list("", {"%"}), boxes);
  ASSERT_EQ(top.size(), 20u);
  EXPECT_EQ(format({top[0]}), (Lines{R"(* LIST (\Noselect \HasChildren) "/" "a0")"}));
  proto::List cmd = list("", {"%/%"});
  cmd.select.subscribed = true;
  cmd.select.recursive_match = true;
  EXPECT_EQ(list_mailboxes(cmd, boxes).size(), 400u);
}

// ---- LSUB (RFC 3501 6.3.9)

TEST(Lsub, UnsubscribedParentOfASubscribedChildIsNoselect) {
  std::vector<store::Mailbox> boxes = {mb("INBOX", true), mb("foo"), mb("foo/bar", true), mb("news/comp/mail", true),
                                       mb("other")};
  EXPECT_EQ(format(lsub_mailboxes(proto::Lsub{"", "%"}, boxes), true), (Lines{
                                                                            R"(* LSUB () "/" "INBOX")",
                                                                            R"(* LSUB (\Noselect) "/" "foo")",
                                                                            R"(* LSUB (\Noselect) "/" "news")",
                                                                        }));
  EXPECT_EQ(format(lsub_mailboxes(proto::Lsub{"", "*"}, boxes), true), (Lines{
                                                                            R"(* LSUB () "/" "INBOX")",
                                                                            R"(* LSUB () "/" "foo/bar")",
                                                                            R"(* LSUB () "/" "news/comp/mail")",
                                                                        }));
  EXPECT_EQ(format(lsub_mailboxes(proto::Lsub{"news/", "comp/*"}, boxes), true),
            (Lines{R"(* LSUB () "/" "news/comp/mail")"}));
  const std::vector<std::string> lost = {"gone"};
  EXPECT_EQ(format(lsub_mailboxes(proto::Lsub{"", "gone"}, boxes, lost), true),
            (Lines{R"(* LSUB (\Noselect) "/" "gone")"}));
}

// ---- Names for CREATE and RENAME

struct NameCase {
  std::string name;
  bool create;
  std::string result;  // the canonical name, or the error text
  bool ok;
};

TEST(MailboxName, Normalizes) {
  const std::string level255(255, 'x');
  const std::string level256(256, 'x');
  std::string long_name;
  while (long_name.size() < 1000) long_name += "abcdefghi/";
  long_name += "x";  // 1001 bytes
  const std::vector<NameCase> cases = {
      {"Work", false, "Work", true},
      {"a/b/c", false, "a/b/c", true},
      {"inbox", false, "INBOX", true},
      {"Inbox/Sub", false, "INBOX/Sub", true},
      {"sub/inbox", false, "sub/inbox", true},  // only the first level is INBOX
      {"inboxes", false, "inboxes", true},
      {"a/b/", true, "a/b", true},  // RFC 9051 6.3.4
      {"Entw\xc3\xbcrfe", false, "Entw\xc3\xbcrfe", true},
      {level255 + "/" + level255, false, level255 + "/" + level255, true},
      {"a/b/", false, "Mailbox name ends with the hierarchy delimiter", false},
      {"a//", true, "Mailbox name ends with the hierarchy delimiter", false},
      {"", false, "Mailbox name is empty", false},
      {"/", true, "Mailbox name is empty", false},
      {"/a", false, "Mailbox name begins with the hierarchy delimiter", false},
      {"a//b", false, "Mailbox name has an empty level", false},
      {"a*", false, "Mailbox name holds a wildcard (* or %)", false},
      {"a%b", false, "Mailbox name holds a wildcard (* or %)", false},
      {"a\tb", false, "Mailbox name holds a control character", false},
      {"a\x7f", false, "Mailbox name holds a control character", false},
      {std::string("a\0b", 3), false, "Mailbox name holds a control character", false},
      {"\xff", false, "Mailbox name is not valid UTF-8", false},
      {level256, false, "Mailbox name level is too long", false},
      {long_name, false, "Mailbox name is too long", false},
  };
  for (const auto& c : cases) {
    auto got = normalize_mailbox_name(c.name, c.create);
    ASSERT_EQ(got.has_value(), c.ok) << c.name;
    EXPECT_EQ(c.ok ? *got : got.error(), c.result) << c.name;
  }
}

TEST(MailboxName, IsBelow) {
  EXPECT_TRUE(is_below("a/b", "a"));
  EXPECT_TRUE(is_below("a/b/c", "a/b"));
  EXPECT_FALSE(is_below("ab", "a"));
  EXPECT_FALSE(is_below("a", "a"));
  EXPECT_FALSE(is_below("a", "a/b"));
  EXPECT_FALSE(is_below("a", ""));
}

}  // namespace
}  // namespace tern::imap
