#include "imap/proto/command.h"

#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "imap/proto/receiver.h"
#include "imap/proto/writer.h"

namespace tern::imap::proto {
namespace {

// Runs wire text (CRLF-terminated lines; literal bytes after their "{n}" line) through a
// receiver and interpret().
tl::expected<Command, std::string> parse(const std::string& wire_in, InterpretOptions options = {}) {
  std::string wire = wire_in;
  if (!wire.ends_with("\r\n")) wire += "\r\n";
  Receiver receiver(ReceiverLimits{1 << 20, 1 << 22, 8, 1000});
  std::size_t pos = 0;
  for (;;) {
    std::size_t crlf = wire.find("\r\n", pos);
    if (crlf == std::string::npos) return tl::unexpected(std::string("(incomplete)"));
    Step s = receiver.feed_line(std::string_view(wire).substr(pos, crlf - pos));
    pos = crlf + 2;
    if (auto* need = std::get_if<NeedLiteral>(&s)) {
      receiver.feed_literal(wire.substr(pos, need->size));
      pos += need->size;
      continue;
    }
    if (auto* err = std::get_if<ParseError>(&s)) return tl::unexpected("(receiver) " + err->message);
    return interpret(std::move(std::get<Request>(s)), options);
  }
}

template <typename T>
std::size_t index_of() {
  return Command(std::in_place_type<T>).index();
}

template <typename T>
T get(const std::string& wire, InterpretOptions options = {}) {
  auto c = parse(wire, options);
  if (!c) {
    ADD_FAILURE() << wire << ": " << c.error();
    return T{};
  }
  if (!std::holds_alternative<T>(*c)) {
    ADD_FAILURE() << wire << ": wrong command type " << c->index();
    return T{};
  }
  return std::get<T>(std::move(*c));
}

TEST(ImapCommand, AcceptsEveryCommand) {
  const std::vector<std::pair<std::string, std::size_t>> cases = {
      {"a CAPABILITY", index_of<Capability>()},
      {"a noop", index_of<Noop>()},
      {"a LOGOUT", index_of<Logout>()},
      {"a STARTTLS", index_of<StartTls>()},
      {"a AUTHENTICATE PLAIN", index_of<Authenticate>()},
      {"a LOGIN alice secret", index_of<Login>()},
      {"a ENABLE CONDSTORE", index_of<Enable>()},
      {"a ID NIL", index_of<Id>()},
      {"a NAMESPACE", index_of<Namespace>()},
      {"a IDLE", index_of<Idle>()},
      {"a SELECT INBOX", index_of<Select>()},
      {"a EXAMINE INBOX", index_of<Select>()},
      {"a CREATE foo", index_of<Create>()},
      {"a DELETE foo", index_of<Delete>()},
      {"a RENAME foo bar", index_of<Rename>()},
      {"a SUBSCRIBE foo", index_of<Subscribe>()},
      {"a UNSUBSCRIBE foo", index_of<Unsubscribe>()},
      {"a LIST \"\" *", index_of<List>()},
      {"a LSUB \"\" *", index_of<Lsub>()},
      {"a STATUS INBOX (MESSAGES)", index_of<Status>()},
      {"a APPEND INBOX {1}\r\nx", index_of<Append>()},
      {"a CHECK", index_of<Check>()},
      {"a CLOSE", index_of<Close>()},
      {"a UNSELECT", index_of<Unselect>()},
      {"a EXPUNGE", index_of<Expunge>()},
      {"a UID EXPUNGE 1:3", index_of<UidExpunge>()},
      {"a SEARCH ALL", index_of<Search>()},
      {"a UID SEARCH ALL", index_of<Search>()},
      {"a FETCH 1 FLAGS", index_of<Fetch>()},
      {"a UID FETCH 1 FLAGS", index_of<Fetch>()},
      {"a STORE 1 FLAGS ()", index_of<Store>()},
      {"a UID STORE 1 FLAGS ()", index_of<Store>()},
      {"a COPY 1 foo", index_of<Copy>()},
      {"a UID COPY 1 foo", index_of<Copy>()},
      {"a MOVE 1 foo", index_of<Move>()},
      {"a uid move 1 foo", index_of<Move>()},
      {"a GETQUOTA \"\"", index_of<GetQuota>()},
      {"a GETQUOTAROOT INBOX", index_of<GetQuotaRoot>()},
  };
  for (const auto& [wire, index] : cases) {
    auto c = parse(wire);
    ASSERT_TRUE(c) << wire << ": " << c.error();
    EXPECT_EQ(c->index(), index) << wire;
  }
}

TEST(ImapCommand, RejectsWithClearTexts) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a XYZZY", "Unknown command XYZZY"},
      {"a NOOP x", "Unexpected argument x"},
      {"a CAPABILITY \"x\"", "Unexpected extra argument"},
      {"a LOGIN alice", "Missing password"},
      {"a LOGIN alice secret more", "Unexpected argument more"},
      {"a LOGIN (alice) secret", "Expected a string for user name"},
      {"a LOGIN al%ce secret", "Invalid character in user name al%ce"},
      {"a AUTHENTICATE", "Missing authentication mechanism"},
      {"a AUTHENTICATE PLAIN a!b", "Invalid initial response"},
      {"a AUTHENTICATE \"PLAIN\"", "Expected authentication mechanism"},
      {"a ENABLE", "Missing capability"},
      {"a SELECT", "Missing mailbox name"},
      {"a SELECT &AGE-", "Mailbox name is not valid modified UTF-7"},
      {"a SELECT \"Entw\xc3\xbcrfe\"", "Mailbox name is not valid modified UTF-7"},
      {"a SELECT INBOX (FOO)", "Unknown SELECT parameter FOO"},
      {"a SELECT INBOX (QRESYNC (0 1))", "Invalid UIDVALIDITY"},
      {"a SELECT INBOX (QRESYNC (1 1 1:*))", "* is not allowed here"},
      {"a SELECT INBOX (QRESYNC (1 1 1:5 (1:2)))", "Missing sequence set"},
      {"a SELECT INBOX (QRESYNC (1 1) QRESYNC (1 1))", "Duplicate QRESYNC parameter"},
      {"a CREATE foo (USE (Sent))", "Invalid special-use attribute"},
      {"a CREATE foo (BAR)", "Unknown CREATE parameter BAR"},
      {"a RENAME foo", "Missing mailbox name"},
      {"a LIST (FOO) \"\" *", "Unknown LIST selection option FOO"},
      {"a LIST (RECURSIVEMATCH) \"\" *", "RECURSIVEMATCH needs SUBSCRIBED or SPECIAL-USE"},
      {"a LIST \"\" () ", "(receiver) Trailing space after the arguments"},
      {"a LIST \"\" ()", "Missing mailbox pattern"},
      {"a LIST \"\" * RETURN (FOO)", "Unknown LIST return option FOO"},
      {"a LIST \"\" * RETURN (STATUS (FOO))", "Unknown STATUS item FOO"},
      {"a LIST \"\" * RETURN", "Missing LIST return options"},
      {"a LIST \"\" a(b", "(receiver) Expected space between arguments"},
      {"a STATUS INBOX ()", "Missing STATUS items"},
      {"a STATUS INBOX (MESSAGES BOGUS)", "Unknown STATUS item BOGUS"},
      {"a STATUS INBOX MESSAGES", "Expected a parenthesized STATUS items"},
      {"a APPEND INBOX", "Missing message"},
      {"a APPEND INBOX \"text\"", "Invalid date-time text"},
      {"a APPEND INBOX (\\Seen) \"01-Feb-1994 21:49:07 +0100\"", "Missing message literal"},
      {"a APPEND INBOX (\\Recent) {1}\r\nx", "\\Recent cannot be set by a client"},
      {"a APPEND INBOX (\\Foo) {1}\r\nx", "Invalid system flag \\Foo"},
      {"a APPEND INBOX (fo%o) {1}\r\nx", "Invalid flag fo%o"},
      {"a APPEND INBOX msg", "Expected the message as a literal"},
      {"a APPEND INBOX UTF8 (~{1}\r\nx)", "Expected the message as a literal"},
      {"a SEARCH", "Missing search criteria"},
      {"a SEARCH FOO", "Unknown search key FOO"},
      {"a SEARCH $", "$ (SEARCHRES) is not supported"},
      {"a SEARCH 1:0", "Invalid sequence set"},
      {"a SEARCH BEFORE 1-Feb", "Invalid date 1-Feb"},
      {"a SEARCH LARGER x", "Invalid size"},
      {"a SEARCH LARGER 9223372036854775808", "Invalid size"},
      {"a SEARCH NOT", "Missing search key"},
      {"a SEARCH OR SEEN", "Missing search key"},
      {"a SEARCH ()", "Empty search key list"},
      {"a SEARCH HEADER \"X:Y\" z", "Invalid header field name X:Y"},
      {"a SEARCH KEYWORD \\Seen", "Invalid keyword"},
      {"a SEARCH RETURN (SAVE) ALL", "SAVE (SEARCHRES) is not supported"},
      {"a SEARCH RETURN (FOO) ALL", "Unknown SEARCH return option FOO"},
      {"a SEARCH CHARSET", "Missing charset"},
      {"a SEARCH MODSEQ \"/flags/\\\\Seen\" bogus 5", "Invalid MODSEQ entry"},
      {"a FETCH 1", "Missing FETCH attributes"},
      {"a FETCH x FLAGS", "Invalid sequence set"},
      {"a FETCH 1 FOO", "Unknown FETCH attribute FOO"},
      {"a FETCH 1 (FLAGS FOO)", "Unknown FETCH attribute FOO"},
      {"a FETCH 1 (ALL)", "Unknown FETCH attribute ALL"},
      {"a FETCH 1 ()", "Empty FETCH attribute list"},
      {"a FETCH 1 BODY[FOO]", "Invalid section FOO"},
      {"a FETCH 1 BODY[MIME]", "Invalid section MIME"},
      {"a FETCH 1 BODY[1.]", "Invalid section 1."},
      {"a FETCH 1 BODY[0]", "Invalid section 0"},
      {"a FETCH 1 BODY[HEADER.FIELDS]", "Invalid section HEADER.FIELDS"},
      {"a FETCH 1 BODY[HEADER.FIELDS ()]", "Invalid section HEADER.FIELDS ()"},
      {"a FETCH 1 BODY[HEADER.FIELDS (From  To)]", "Invalid section HEADER.FIELDS (From  To)"},
      {"a FETCH 1 BODY[HEADER (From)]", "Invalid section HEADER (From)"},
      {"a FETCH 1 BODY[]<0>", "Invalid partial <0>"},
      {"a FETCH 1 BODY[]<0.0>", "Invalid partial <0.0>"},
      {"a FETCH 1 BODY[]<1.2>x", "Invalid partial <1.2>x"},
      {"a FETCH 1 BODY.PEEK", "Unknown FETCH attribute BODY.PEEK"},
      {"a FETCH 1 BINARY[TEXT]", "Invalid BINARY section TEXT"},
      {"a FETCH 1 BINARY.SIZE[1]<0.5>", "Invalid partial <0.5>"},
      {"a FETCH 1 FLAGS (FOO)", "Unknown FETCH modifier FOO"},
      {"a FETCH 1 FLAGS (CHANGEDSINCE x)", "Invalid mod-sequence"},
      {"a FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)", "VANISHED needs UID FETCH and CHANGEDSINCE"},
      {"a UID FETCH 1 FLAGS (VANISHED)", "VANISHED needs UID FETCH and CHANGEDSINCE"},
      {"a UID FETCH 1 FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)", "Duplicate CHANGEDSINCE"},
      {"a STORE 1 FLAGS", "Missing flags"},
      {"a STORE 1 FLAG (\\Seen)", "Unknown STORE data item FLAG"},
      {"a STORE 1 +FLAGS (\\Recent)", "\\Recent cannot be set by a client"},
      {"a STORE 1 +FLAGS (\\*)", "Invalid system flag \\*"},
      {"a STORE 1 +FLAGS ((\\Seen))", "Invalid flag"},
      {"a STORE 1 (UNCHANGEDSINCE) FLAGS ()", "Missing mod-sequence"},
      {"a STORE 1 (FOO 1) FLAGS ()", "Unknown STORE modifier FOO"},
      {"a COPY 1", "Missing mailbox name"},
      {"a COPY 1:* ", "(receiver) Trailing space after the arguments"},
      {"a UID", "Missing UID command"},
      {"a UID FOO 1", "Unknown UID command FOO"},
      {"a UID EXPUNGE", "Missing sequence set"},
      {"a ID", "Missing ID parameters"},
      {"a ID \"x\"", "Expected a parenthesized ID parameters"},
      {"a ID (\"name\")", "Missing ID value"},
      {"a ID (\"a-very-long-field-name-over-30-octets\" \"x\")", "ID parameters exceed the RFC 2971 limits"},
  };
  for (const auto& [wire, message] : cases) {
    auto c = parse(wire);
    ASSERT_FALSE(c) << wire;
    EXPECT_EQ(c.error(), message) << wire;
    for (char ch : c.error()) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << wire;
  }
}

TEST(ImapCommand, EchoedTokensAreSafeAndShort) {
  auto c = parse("a FETCH 1 X" + std::string(100, 'y') + "\xc3\xa4");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), "Unknown FETCH attribute X" + std::string(39, 'y') + "...");
  c = parse("a XYZ\xc3\xa4");
  ASSERT_FALSE(c);
}

TEST(ImapCommand, LoginAndAuthenticate) {
  auto l = get<Login>("a LOGIN {5}\r\nalice \"p a\\\"ss\"");
  EXPECT_EQ(l.user, "alice");
  EXPECT_EQ(l.password, "p a\"ss");
  l = get<Login>("a LOGIN \xc3\xa4lice pass]");  // 8-bit atoms are tolerated
  EXPECT_EQ(l.user, "\xc3\xa4lice");
  EXPECT_EQ(l.password, "pass]");
  auto a = get<Authenticate>("a authenticate plain");
  EXPECT_EQ(a.mechanism, "PLAIN");
  EXPECT_FALSE(a.initial_response);
  a = get<Authenticate>("a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==");
  EXPECT_EQ(a.initial_response, "AGFsaWNlAHNlY3JldA==");
  a = get<Authenticate>("a AUTHENTICATE XOAUTH2 =");
  EXPECT_EQ(a.initial_response, "=");
}

TEST(ImapCommand, EnableAndId) {
  auto e = get<Enable>("a ENABLE condstore qresync UTF8=ACCEPT");
  EXPECT_EQ(e.capabilities, (std::vector<std::string>{"CONDSTORE", "QRESYNC", "UTF8=ACCEPT"}));
  auto id = get<Id>("a ID NIL");
  EXPECT_FALSE(id.params);
  id = get<Id>("a ID (\"name\" \"Mail\" \"version\" NIL \"os\" {5}\r\nmacOS)");
  ASSERT_TRUE(id.params);
  ASSERT_EQ(id.params->size(), 3u);
  EXPECT_EQ((*id.params)[0].first, "name");
  EXPECT_EQ((*id.params)[0].second, "Mail");
  EXPECT_FALSE((*id.params)[1].second);
  EXPECT_EQ((*id.params)[2].second, "macOS");
  id = get<Id>("a ID ()");
  ASSERT_TRUE(id.params);
  EXPECT_TRUE(id.params->empty());
}

TEST(ImapCommand, MailboxNames) {
  EXPECT_EQ(get<Select>("a SELECT inbox").mailbox, "INBOX");
  EXPECT_EQ(get<Select>("a SELECT \"InBoX\"").mailbox, "INBOX");
  EXPECT_EQ(get<Select>("a SELECT INBOX/Sub").mailbox, "INBOX/Sub");
  EXPECT_EQ(get<Select>("a SELECT inbox.sub").mailbox, "inbox.sub");
  EXPECT_EQ(get<Select>("a SELECT Entw&APw-rfe").mailbox, "Entw\xc3\xbcrfe");
  EXPECT_EQ(get<Select>("a SELECT \"A&-B\"").mailbox, "A&B");
  EXPECT_EQ(get<Select>("a SELECT {3}\r\na b").mailbox, "a b");
  EXPECT_EQ(get<Select>("a SELECT \"\"").mailbox, "");
  // With UTF8=ACCEPT (RFC 6855) names are UTF-8 and "&" is an ordinary character.
  InterpretOptions utf8{true};
  EXPECT_EQ(get<Select>("a SELECT \"Entw\xc3\xbcrfe\"", utf8).mailbox, "Entw\xc3\xbcrfe");
  EXPECT_EQ(get<Select>("a SELECT A&B", utf8).mailbox, "A&B");
  EXPECT_EQ(get<Select>("a SELECT Entw&APw-rfe", utf8).mailbox, "Entw&APw-rfe");
  auto bad = parse("a SELECT \"\xff\"", utf8);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "Mailbox name is not valid UTF-8");
  auto r = get<Rename>("a RENAME &AOQ- \"&APY-\"");
  EXPECT_EQ(r.from, "\xc3\xa4");
  EXPECT_EQ(r.to, "\xc3\xb6");
  auto cp = get<Copy>("a COPY 1:3 Trash");
  EXPECT_EQ(cp.mailbox, "Trash");
  EXPECT_EQ(cp.set.to_string(), "1:3");
  EXPECT_FALSE(cp.uid);
  auto mv = get<Move>("a UID MOVE 4,2 \"Junk\"");
  EXPECT_TRUE(mv.uid);
  EXPECT_EQ(mv.set.to_string(), "2,4");
  EXPECT_EQ(mv.mailbox, "Junk");
}

TEST(ImapCommand, SelectParameters) {
  auto s = get<Select>("a EXAMINE INBOX");
  EXPECT_TRUE(s.readonly);
  EXPECT_FALSE(s.condstore);
  EXPECT_FALSE(s.qresync);
  s = get<Select>("a SELECT INBOX (CONDSTORE)");
  EXPECT_FALSE(s.readonly);
  EXPECT_TRUE(s.condstore);
  // RFC 7162 3.2.5.2 example
  s = get<Select>("A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))");
  ASSERT_TRUE(s.qresync);
  EXPECT_EQ(s.qresync->uidvalidity, 67890007u);
  EXPECT_EQ(s.qresync->modseq, 20050715194045000u);
  ASSERT_TRUE(s.qresync->known_uids);
  EXPECT_EQ(s.qresync->known_uids->to_string(), "41,43:211,214:541");
  EXPECT_FALSE(s.qresync->seq_match);
  s = get<Select>(
      "B02 SELECT INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541 (1:15,19,31 1:15,19,31)))");
  ASSERT_TRUE(s.qresync && s.qresync->seq_match);
  EXPECT_EQ(s.qresync->seq_match->seqs.to_string(), "1:15,19,31");
  EXPECT_EQ(s.qresync->seq_match->uids.to_string(), "1:15,19,31");
  s = get<Select>("a SELECT INBOX (QRESYNC (1 2 (1,3 5,9)) CONDSTORE)");
  ASSERT_TRUE(s.qresync && s.qresync->seq_match);
  EXPECT_FALSE(s.qresync->known_uids);
  EXPECT_TRUE(s.condstore);
}

TEST(ImapCommand, CreateWithSpecialUse) {
  auto c = get<Create>("a CREATE MySpecialArchive (USE (\\Archive))");
  EXPECT_EQ(c.mailbox, "MySpecialArchive");
  EXPECT_EQ(c.special_use, (std::vector<std::string>{"\\Archive"}));
  c = get<Create>("a CREATE x (USE (\\drafts \\X-Custom))");
  EXPECT_EQ(c.special_use, (std::vector<std::string>{"\\Drafts", "\\X-Custom"}));
  EXPECT_TRUE(get<Create>("a CREATE x").special_use.empty());
}

TEST(ImapCommand, ListPlainAndExtended) {
  auto l = get<List>("a LIST \"\" *");
  EXPECT_EQ(l.reference, "");
  EXPECT_EQ(l.patterns, (std::vector<std::string>{"*"}));
  EXPECT_FALSE(l.extended);
  l = get<List>("a LIST \"\" \"\"");
  EXPECT_EQ(l.patterns, (std::vector<std::string>{""}));
  l = get<List>("a LIST ~/Mail/ %");
  EXPECT_EQ(l.reference, "~/Mail/");
  EXPECT_EQ(l.patterns, (std::vector<std::string>{"%"}));
  l = get<List>("a list \"\" Entw&APw-rfe/%");
  EXPECT_EQ(l.patterns, (std::vector<std::string>{"Entw\xc3\xbcrfe/%"}));
  l = get<List>("a LIST \"\" inbox");
  EXPECT_EQ(l.patterns, (std::vector<std::string>{"inbox"}));  // patterns keep their case
  // RFC 5258 / 5819 / 6154 examples
  l = get<List>("A01 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (CHILDREN)");
  EXPECT_TRUE(l.extended);
  EXPECT_TRUE(l.select.subscribed);
  EXPECT_TRUE(l.select.recursive_match);
  EXPECT_FALSE(l.select.remote);
  EXPECT_TRUE(l.returns.children);
  l = get<List>("A02 LIST (REMOTE) \"\" (\"foo\" bar/%) RETURN (SUBSCRIBED SPECIAL-USE)");
  EXPECT_TRUE(l.select.remote);
  EXPECT_EQ(l.patterns, (std::vector<std::string>{"foo", "bar/%"}));
  EXPECT_TRUE(l.returns.subscribed);
  EXPECT_TRUE(l.returns.special_use);
  l = get<List>("A03 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))");
  ASSERT_TRUE(l.returns.status);
  EXPECT_EQ(*l.returns.status, (std::vector<StatusItem>{StatusItem::kMessages, StatusItem::kUnseen}));
  EXPECT_TRUE(l.extended);
  l = get<List>("A04 LIST (SPECIAL-USE) \"\" *");
  EXPECT_TRUE(l.select.special_use);
  l = get<List>("A05 LIST () \"\" * RETURN ()");
  EXPECT_TRUE(l.extended);
  auto s = get<Lsub>("a LSUB \"#news.\" comp.mail.*");
  EXPECT_EQ(s.reference, "#news.");
  EXPECT_EQ(s.pattern, "comp.mail.*");
}

TEST(ImapCommand, Status) {
  auto s = get<Status>("a STATUS blurdybloop (UIDNEXT MESSAGES unseen DELETED SIZE HIGHESTMODSEQ APPENDLIMIT "
                       "RECENT UIDVALIDITY)");
  EXPECT_EQ(s.mailbox, "blurdybloop");
  const std::vector<StatusItem> want = {StatusItem::kUidNext,  StatusItem::kMessages,      StatusItem::kUnseen,
                                        StatusItem::kDeleted,  StatusItem::kSize,          StatusItem::kHighestModSeq,
                                        StatusItem::kAppendLimit, StatusItem::kRecent, StatusItem::kUidValidity};
  EXPECT_EQ(s.items, want);
  std::string names;
  for (auto item : s.items) names += std::string(status_item_name(item)) + " ";
  EXPECT_EQ(names, "UIDNEXT MESSAGES UNSEEN DELETED SIZE HIGHESTMODSEQ APPENDLIMIT RECENT UIDVALIDITY ");
}

TEST(ImapCommand, AppendAndMultiappend) {
  auto a = get<Append>("A003 APPEND saved-messages (\\Seen) {10}\r\nHello Joe!");
  EXPECT_EQ(a.mailbox, "saved-messages");
  ASSERT_EQ(a.messages.size(), 1u);
  EXPECT_EQ(a.messages[0].flags.system, kFlagSeen);
  EXPECT_FALSE(a.messages[0].internal_date);
  EXPECT_EQ(a.messages[0].bytes, "Hello Joe!");
  EXPECT_FALSE(a.messages[0].binary);
  // RFC 3502 MULTIAPPEND, with a date-time, keywords, an empty flag list and LITERAL+.
  a = get<Append>(
      "A004 APPEND INBOX (\\Seen $Forwarded \\seen $forwarded) \"01-Feb-1994 21:49:07 +0100\" {3+}\r\none"
      " () {3}\r\ntwo \" 7-Feb-1994 21:52:25 -0800\" ~{3}\r\n" + std::string("t\0o", 3));
  ASSERT_EQ(a.messages.size(), 3u);
  EXPECT_EQ(a.messages[0].flags.system, kFlagSeen);
  EXPECT_EQ(a.messages[0].flags.keywords, (std::vector<std::string>{"$Forwarded"}));
  ASSERT_TRUE(a.messages[0].internal_date);
  EXPECT_EQ(a.messages[0].internal_date->unix_time, 760135747);
  EXPECT_EQ(a.messages[0].bytes, "one");
  EXPECT_EQ(a.messages[1].flags, Flags{});
  EXPECT_EQ(a.messages[1].bytes, "two");
  EXPECT_EQ(a.messages[2].internal_date->zone_minutes, -480);
  EXPECT_TRUE(a.messages[2].binary);
  EXPECT_EQ(a.messages[2].bytes, std::string("t\0o", 3));
}

TEST(ImapCommand, SearchKeysAsATree) {
  using K = SearchKey::Kind;
  auto s = get<Search>("A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"");
  EXPECT_FALSE(s.uid);
  EXPECT_FALSE(s.charset);
  EXPECT_FALSE(s.returns);
  ASSERT_EQ(s.keys.size(), 3u);
  EXPECT_EQ(s.keys[0].kind, K::kFlagged);
  EXPECT_EQ(s.keys[1].kind, K::kSince);
  EXPECT_EQ(s.keys[1].date, (Date{1994, 2, 1}));
  EXPECT_EQ(s.keys[2].kind, K::kNot);
  ASSERT_EQ(s.keys[2].children.size(), 1u);
  EXPECT_EQ(s.keys[2].children[0].kind, K::kFrom);
  EXPECT_EQ(s.keys[2].children[0].value, "Smith");

  s = get<Search>("a UID SEARCH CHARSET utf-8 OR (SUBJECT {4}\r\n\xc3\xa4\xc3\xb6 UID 1:*) 2,4:5 HEADER Message-ID <x@y>");
  EXPECT_TRUE(s.uid);
  EXPECT_EQ(s.charset, "UTF-8");
  ASSERT_EQ(s.keys.size(), 2u);
  const SearchKey& orkey = s.keys[0];
  EXPECT_EQ(orkey.kind, K::kOr);
  ASSERT_EQ(orkey.children.size(), 2u);
  EXPECT_EQ(orkey.children[0].kind, K::kAnd);
  ASSERT_EQ(orkey.children[0].children.size(), 2u);
  EXPECT_EQ(orkey.children[0].children[0].value, "\xc3\xa4\xc3\xb6");
  EXPECT_EQ(orkey.children[0].children[1].kind, K::kUid);
  EXPECT_EQ(orkey.children[0].children[1].set.to_string(), "1:*");
  EXPECT_EQ(orkey.children[1].kind, K::kSequenceSet);
  EXPECT_EQ(orkey.children[1].set.to_string(), "2,4:5");
  EXPECT_EQ(s.keys[1].kind, K::kHeader);
  EXPECT_EQ(s.keys[1].header, "Message-ID");
  EXPECT_EQ(s.keys[1].value, "<x@y>");
}

TEST(ImapCommand, EverySearchKey) {
  using K = SearchKey::Kind;
  const std::vector<std::pair<std::string, K>> cases = {
      {"ALL", K::kAll},           {"ANSWERED", K::kAnswered},       {"BCC x", K::kBcc},
      {"BEFORE 1-Jan-2000", K::kBefore}, {"BODY x", K::kBody},       {"CC x", K::kCc},
      {"DELETED", K::kDeleted},   {"DRAFT", K::kDraft},             {"FLAGGED", K::kFlagged},
      {"FROM x", K::kFrom},       {"HEADER X-Y \"\"", K::kHeader},  {"KEYWORD $Junk", K::kKeyword},
      {"LARGER 100", K::kLarger}, {"NEW", K::kNew},                 {"NOT SEEN", K::kNot},
      {"OLD", K::kOld},           {"ON \"1-Jan-2000\"", K::kOn},    {"OR SEEN DRAFT", K::kOr},
      {"RECENT", K::kRecent},     {"SEEN", K::kSeen},               {"SENTBEFORE 1-Jan-2000", K::kSentBefore},
      {"SENTON 1-Jan-2000", K::kSentOn}, {"SENTSINCE 1-Jan-2000", K::kSentSince},
      {"SINCE 1-Jan-2000", K::kSince}, {"SMALLER 5", K::kSmaller}, {"SUBJECT x", K::kSubject},
      {"TEXT x", K::kText},       {"TO x", K::kTo},                 {"UID 5", K::kUid},
      {"UNANSWERED", K::kUnanswered}, {"UNDELETED", K::kUndeleted}, {"UNDRAFT", K::kUndraft},
      {"UNFLAGGED", K::kUnflagged}, {"UNKEYWORD foo", K::kUnkeyword}, {"UNSEEN", K::kUnseen},
      {"1:*", K::kSequenceSet},   {"*", K::kSequenceSet},           {"(SEEN)", K::kAnd},
      {"MODSEQ 620162338", K::kModSeq}, {"MODSEQ \"/flags/\\\\draft\" all 620162338", K::kModSeq},
      {"seen", K::kSeen},
  };
  for (const auto& [criteria, kind] : cases) {
    auto s = get<Search>("a SEARCH " + criteria);
    ASSERT_EQ(s.keys.size(), 1u) << criteria;
    EXPECT_EQ(s.keys[0].kind, kind) << criteria;
  }
  EXPECT_EQ(get<Search>("a SEARCH LARGER 9223372036854775807").keys[0].number, 9223372036854775807u);
  EXPECT_EQ(get<Search>("a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338").keys[0].number, 620162338u);
}

TEST(ImapCommand, SearchNestingIsBounded) {
  std::string deep = "a SEARCH";
  for (int i = 0; i < kMaxSearchDepth; ++i) deep += " NOT";
  EXPECT_TRUE(parse(deep + " SEEN"));
  auto c = parse(deep + " NOT SEEN");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), "Search criteria nested too deeply");
  std::string ors = "a SEARCH";
  for (int i = 0; i < 400; ++i) ors += " OR SEEN";
  c = parse(ors + " SEEN");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), "Search criteria nested too deeply");
}

TEST(ImapCommand, SearchReturnOptions) {
  auto s = get<Search>("a SEARCH RETURN (MIN COUNT) UNSEEN");
  ASSERT_TRUE(s.returns);
  EXPECT_TRUE(s.returns->min);
  EXPECT_TRUE(s.returns->count);
  EXPECT_FALSE(s.returns->max);
  EXPECT_FALSE(s.returns->all);
  s = get<Search>("a UID SEARCH RETURN () CHARSET US-ASCII ALL");
  ASSERT_TRUE(s.returns);
  EXPECT_TRUE(s.returns->all);
  EXPECT_EQ(s.charset, "US-ASCII");
  s = get<Search>("a SEARCH RETURN (MAX ALL) ALL");
  EXPECT_TRUE(s.returns->max && s.returns->all);
}

TEST(ImapCommand, FetchAttributes) {
  using K = FetchAttr::Kind;
  auto f = get<Fetch>("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])");
  EXPECT_EQ(f.set.to_string(), "2:4");
  ASSERT_EQ(f.items.size(), 2u);
  EXPECT_EQ(f.items[0].kind, K::kFlags);
  EXPECT_EQ(f.items[1].kind, K::kBodySection);
  EXPECT_FALSE(f.items[1].peek);
  EXPECT_EQ(f.items[1].section.kind, mime::Section::Kind::kHeaderFields);
  EXPECT_EQ(f.items[1].section.fields, (std::vector<std::string>{"DATE", "FROM"}));
  EXPECT_EQ(fetch_att_name(f.items[1]), "BODY[HEADER.FIELDS (DATE FROM)]");

  f = get<Fetch>("a FETCH 1:* ALL");
  ASSERT_EQ(f.items.size(), 4u);
  EXPECT_EQ(f.items[3].kind, K::kEnvelope);
  EXPECT_EQ(get<Fetch>("a FETCH 1 fast").items.size(), 3u);
  f = get<Fetch>("a FETCH 1 FULL");
  ASSERT_EQ(f.items.size(), 5u);
  EXPECT_EQ(f.items[4].kind, K::kBody);

  struct Case {
    std::string att;
    K kind;
    bool peek;
    std::string name;  // in the response
  };
  const std::vector<Case> cases = {
      {"FLAGS", K::kFlags, false, "FLAGS"},
      {"internaldate", K::kInternalDate, false, "INTERNALDATE"},
      {"RFC822.SIZE", K::kRfc822Size, false, "RFC822.SIZE"},
      {"ENVELOPE", K::kEnvelope, false, "ENVELOPE"},
      {"BODY", K::kBody, false, "BODY"},
      {"BODYSTRUCTURE", K::kBodyStructure, false, "BODYSTRUCTURE"},
      {"UID", K::kUid, false, "UID"},
      {"MODSEQ", K::kModSeq, false, "MODSEQ"},
      {"RFC822", K::kRfc822, false, "RFC822"},
      {"RFC822.HEADER", K::kRfc822Header, false, "RFC822.HEADER"},
      {"RFC822.TEXT", K::kRfc822Text, false, "RFC822.TEXT"},
      {"BODY[]", K::kBodySection, false, "BODY[]"},
      {"BODY.PEEK[]", K::kBodySection, true, "BODY[]"},
      {"body.peek[]<0.2048>", K::kBodySection, true, "BODY[]<0>"},
      {"BODY[]<100.5>", K::kBodySection, false, "BODY[]<100>"},
      {"BODY[1]", K::kBodySection, false, "BODY[1]"},
      {"BODY[1.2.3]", K::kBodySection, false, "BODY[1.2.3]"},
      {"BODY[HEADER]", K::kBodySection, false, "BODY[HEADER]"},
      {"BODY[header]", K::kBodySection, false, "BODY[HEADER]"},
      {"BODY[TEXT]", K::kBodySection, false, "BODY[TEXT]"},
      {"BODY[1.MIME]", K::kBodySection, false, "BODY[1.MIME]"},
      {"BODY[4.2.HEADER]", K::kBodySection, false, "BODY[4.2.HEADER]"},
      {"BODY[3.TEXT]<0.10>", K::kBodySection, false, "BODY[3.TEXT]<0>"},
      // Apple Mail and Outlook: mixed-case field names, echoed as sent.
      {"BODY.PEEK[HEADER.FIELDS (From To Cc Subject Date Message-ID)]", K::kBodySection, true,
       "BODY[HEADER.FIELDS (From To Cc Subject Date Message-ID)]"},
      {"BODY.PEEK[header.fields.not (\"Received\" X-Spam)]", K::kBodySection, true,
       "BODY[HEADER.FIELDS.NOT (Received X-Spam)]"},
      {"BODY[2.HEADER.FIELDS (\"a(b\")]", K::kBodySection, false, "BODY[2.HEADER.FIELDS (\"a(b\")]"},
      {"BINARY[]", K::kBinary, false, "BINARY[]"},
      {"BINARY.PEEK[1.2]<0.100>", K::kBinary, true, "BINARY[1.2]<0>"},
      {"BINARY.SIZE[1]", K::kBinarySize, false, "BINARY.SIZE[1]"},
  };
  for (const auto& c : cases) {
    auto att = parse_fetch_att(c.att);
    ASSERT_TRUE(att) << c.att << ": " << att.error();
    EXPECT_EQ(att->kind, c.kind) << c.att;
    EXPECT_EQ(att->peek, c.peek) << c.att;
    EXPECT_EQ(fetch_att_name(*att), c.name) << c.att;
    // The same inside a FETCH command's attribute list.
    auto f1 = get<Fetch>("a FETCH 1 (" + c.att + ")");
    ASSERT_EQ(f1.items.size(), 1u) << c.att;
    EXPECT_EQ(f1.items[0], *att) << c.att;
  }
  auto att = parse_fetch_att("BODY.PEEK[1.2.HEADER.FIELDS (From)]<5.10>");
  ASSERT_TRUE(att);
  EXPECT_EQ(att->section.part, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(att->section.kind, mime::Section::Kind::kHeaderFields);
  EXPECT_EQ(att->partial, (Partial{5, 10}));
}

TEST(ImapCommand, FetchModifiers) {
  auto f = get<Fetch>("s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)");
  EXPECT_TRUE(f.uid);
  EXPECT_EQ(f.changed_since, 12345u);
  EXPECT_TRUE(f.vanished);
  f = get<Fetch>("s100 FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)");
  EXPECT_FALSE(f.uid);
  EXPECT_EQ(f.changed_since, 12345u);
  EXPECT_FALSE(f.vanished);
  f = get<Fetch>("s100 FETCH 1 UID");
  EXPECT_FALSE(f.changed_since);
}

TEST(ImapCommand, Store) {
  auto s = get<Store>("A003 STORE 2:4 +FLAGS (\\Deleted)");
  EXPECT_EQ(s.mode, Store::Mode::kAdd);
  EXPECT_FALSE(s.silent);
  EXPECT_EQ(s.flags.system, kFlagDeleted);
  s = get<Store>("a UID STORE 1 -flags.silent \\Seen \\Flagged work");
  EXPECT_TRUE(s.uid);
  EXPECT_EQ(s.mode, Store::Mode::kRemove);
  EXPECT_TRUE(s.silent);
  EXPECT_EQ(s.flags.system, kFlagSeen | kFlagFlagged);
  EXPECT_EQ(s.flags.keywords, (std::vector<std::string>{"work"}));
  s = get<Store>("a STORE 1:* FLAGS ()");
  EXPECT_EQ(s.mode, Store::Mode::kReplace);
  EXPECT_EQ(s.flags, Flags{});
  s = get<Store>("d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted $Label1)");
  EXPECT_EQ(s.unchanged_since, 320162338u);
  EXPECT_EQ(s.set.to_string(), "5,7,9");
  EXPECT_TRUE(s.silent);
  EXPECT_EQ(s.flags.keywords, (std::vector<std::string>{"$Label1"}));
  s = get<Store>("a STORE 1 (UNCHANGEDSINCE 0) FLAGS (\\Answered \\Draft)");
  EXPECT_EQ(s.unchanged_since, 0u);
  EXPECT_EQ(s.flags.system, kFlagAnswered | kFlagDraft);
}

TEST(ImapCommand, IdleEndsWithDone) {
  EXPECT_TRUE(is_idle_done("DONE"));
  EXPECT_TRUE(is_idle_done("done"));
  EXPECT_FALSE(is_idle_done("DONE "));
  EXPECT_FALSE(is_idle_done("a NOOP"));
  EXPECT_FALSE(is_idle_done(""));
}

TEST(ImapCommand, UidExpunge) {
  auto e = get<UidExpunge>("A202 UID EXPUNGE 3000:3002");
  EXPECT_EQ(e.uids.to_string(), "3000:3002");
}

// The wire form of every command in the table above can be written back with the writer's
// quoting and still mean the same thing.
TEST(ImapCommand, WriterQuotingSurvivesInterpretation) {
  for (const std::string name : {"x", "a b", "quote\"d", "back\\slash", "Entw\xc3\xbcrfe", "&", "NIL", "INBOX"}) {
    std::string wire = "a SELECT ";
    append_mailbox(wire, name, false);
    EXPECT_EQ(get<Select>(wire).mailbox, name) << wire;
    wire = "a SELECT ";
    append_mailbox(wire, name, true);
    EXPECT_EQ(get<Select>(wire, InterpretOptions{true}).mailbox, name) << wire;
  }
}

}  // namespace
}  // namespace tern::imap::proto
