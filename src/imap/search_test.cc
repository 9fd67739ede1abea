// Tests for imap/search.h: every key with matching and non-matching messages, nesting,
// sets with `*`, decoded and case-folded strings, laziness, and the response formats.
#include "imap/search.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "imap/test_support.h"

namespace tern::imap {
namespace {

using testing::search_command;
using testing::StringSource;

constexpr std::int64_t kJan1 = 1704067200;  // 2024-01-01 00:00:00 UTC
constexpr std::int64_t kDay = 86400;

struct Fixture {
  std::vector<store::Message> messages;
  std::vector<std::string> bytes;
  proto::RangeSet recent;
};

// Five messages, sequence numbers 1-5, UIDs 10 11 12 15 20.
Fixture mailbox() {
  Fixture f;
  auto add = [&](std::uint32_t uid, std::uint32_t flags, std::vector<std::string> keywords, std::int64_t date,
                 std::uint64_t modseq, std::string bytes) {
    store::Message m;
    m.uid = uid;
    m.flags = flags;
    m.keywords = std::move(keywords);
    m.internal_date = date;
    m.modseq = modseq;
    m.size = bytes.size();
    f.messages.push_back(m);
    f.bytes.push_back(std::move(bytes));
  };
  add(10, store::kFlagSeen | store::kFlagAnswered, {"$Work", "Urgent"}, kJan1 + 10 * 3600, 5,
      "From: =?UTF-8?B?Sm9zw6kgR2FyY8OtYQ==?= <jose@example.com>\r\n"
      "To: Bob <bob@example.org>\r\n"
      "Cc: carol@example.net\r\n"
      "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?=\r\n"
      "Date: Sun, 31 Dec 2023 23:30:00 -0500\r\n"
      "\r\n"
      "The quarterly report is attached.\r\n");
  add(11, store::kFlagFlagged | store::kFlagDeleted, {}, kJan1 + kDay + 60, 6,
      "From: Frank <frank@example.org>\r\n"
      "To: team@example.org\r\n"
      "Subject: Lunch tomorrow?\r\n"
      "X-Priority: 1\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
      "\r\n"
      "--alt\r\n"
      "Content-Type: text/plain; charset=us-ascii\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "UGxhaW4gdGV4dCBpbiBiYXNlNjQ6IHRoZSBxdWFydGVybHkgbnVtYmVycy4NCg==\r\n"
      "--alt\r\n"
      "Content-Type: text/html; charset=utf-8\r\n"
      "\r\n"
      "<html><body><b>Bold</b> statement &amp; more</body></html>\r\n"
      "--alt--\r\n");
  add(12, store::kFlagDraft, {}, kJan1 + 2 * kDay, 7,
      "From: Dave <dave@example.com>\r\n"
      "Bcc: eve@example.com\r\n"
      "Subject: Re: Meeting\r\n"
      " notes\r\n"
      "Date: 2 Jan 24 09:00 GMT\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n"
      "\r\n"
      "Meet me in the Stra=C3=9Fe.\r\n");
  add(15, 0, {}, kJan1 + 4 * kDay, 8,
      "From: Grace <grace@example.com>\r\n"
      "Subject: GR\xc3\x9c" "SSE\r\n"
      "Date: yesterday\r\n"
      "\r\n" +
          std::string(2000, 'z') + "\r\n");
  add(20, store::kFlagSeen, {"$Junk"}, kJan1 + 5 * kDay, 9,
      "From: Heidi <heidi@example.com>\r\n"
      "Subject: Offer\r\n"
      "Date: Fri, 5 Jan 2024 08:00:00 +0100\r\n"
      "\r\n"
      "nothing\r\n");
  f.recent.add(15);
  f.recent.add(20);
  return f;
}

struct Outcome {
  std::vector<std::uint32_t> seqs;
  int opens = 0;
};

Outcome search(const Fixture& f, const std::string& args, bool uid = false) {
  const proto::Search cmd = search_command(args, uid);
  const SearchQuery q(cmd.keys, scope_of(f.messages));
  Outcome o;
  auto result = run_search(q, f.messages, f.recent,
                           [&](const store::Message& m) -> Result<std::unique_ptr<MessageSource>> {
                             ++o.opens;
                             for (std::size_t i = 0; i < f.messages.size(); ++i) {
                               if (f.messages[i].uid == m.uid) {
                                 return std::make_unique<StringSource>(f.bytes[i]);
                               }
                             }
                             return make_error(ErrorCode::kNotFound, "no such message");
                           });
  EXPECT_TRUE(result.has_value()) << args;
  if (!result) return o;
  for (const auto& h : result->hits) o.seqs.push_back(h.seq);
  return o;
}

std::vector<std::uint32_t> seqs(const Fixture& f, const std::string& args) { return search(f, args).seqs; }

using V = std::vector<std::uint32_t>;

TEST(Search, FlagKeys) {
  const Fixture f = mailbox();
  const std::map<std::string, V> cases = {
      {"ALL", {1, 2, 3, 4, 5}},  {"ANSWERED", {1}},       {"UNANSWERED", {2, 3, 4, 5}},
      {"DELETED", {2}},          {"UNDELETED", {1, 3, 4, 5}}, {"DRAFT", {3}},
      {"UNDRAFT", {1, 2, 4, 5}}, {"FLAGGED", {2}},        {"UNFLAGGED", {1, 3, 4, 5}},
      {"SEEN", {1, 5}},          {"UNSEEN", {2, 3, 4}},   {"RECENT", {4, 5}},
      {"NEW", {4}},              {"OLD", {1, 2, 3}},      {"KEYWORD urgent", {1}},
      {"KEYWORD $JUNK", {5}},    {"KEYWORD $Other", {}},  {"UNKEYWORD $work", {2, 3, 4, 5}},
  };
  for (const auto& [args, want] : cases) EXPECT_EQ(seqs(f, args), want) << args;
}

TEST(Search, SizeModSeqAndSets) {
  const Fixture f = mailbox();
  const std::string big = std::to_string(f.messages[3].size);
  const std::map<std::string, V> cases = {
      {"LARGER 1500", {4}},
      {"SMALLER 1500", {1, 2, 3, 5}},
      {"LARGER " + big, {}},                       // strictly larger
      {"SMALLER " + big, {1, 2, 3, 5}},
      {"MODSEQ 7", {3, 4, 5}},
      {"MODSEQ 10", {}},
      {"UID 11:15", {2, 3, 4}},
      {"UID 16:*", {5}},
      {"UID *", {5}},
      {"UID 25:*", {5}},                           // "*" is the highest UID, 20: 20:25
      {"UID 1:9", {}},
      {"UID 10,12,20", {1, 3, 5}},
      {"2:*", {2, 3, 4, 5}},
      {"*", {5}},
      {"1,3", {1, 3}},
      {"4:2", {2, 3, 4}},
      {"9", {}},
  };
  for (const auto& [args, want] : cases) EXPECT_EQ(seqs(f, args), want) << args;
}

TEST(Search, InternalAndSentDates) {
  const Fixture f = mailbox();
  // Internal dates (UTC days): 1-Jan, 2-Jan, 3-Jan, 5-Jan, 6-Jan.
  // Date: as written: 31-Dec-2023 (-0500), none (2-Jan), 2-Jan-2024, unreadable (5-Jan), 5-Jan.
  const std::map<std::string, V> cases = {
      {"BEFORE 2-Jan-2024", {1}},
      {"ON 2-Jan-2024", {2}},
      {"SINCE 3-Jan-2024", {3, 4, 5}},
      {"ON 4-Jan-2024", {}},
      {"SENTON 31-Dec-2023", {1}},
      {"SENTON 1-Jan-2024", {}},                  // the zone is disregarded
      {"SENTON 2-Jan-2024", {2, 3}},              // 2: no Date, internal date; 3: "2 Jan 24"
      {"SENTBEFORE 1-Jan-2024", {1}},
      {"SENTSINCE 5-Jan-2024", {4, 5}},           // 4: unreadable Date, internal date
      {"SENTSINCE 6-Jan-2024", {}},
  };
  for (const auto& [args, want] : cases) EXPECT_EQ(seqs(f, args), want) << args;
}

std::string literal(const std::string& s) { return "{" + std::to_string(s.size()) + "}\r\n" + s; }

TEST(Search, HeaderKeysMatchDecodedText) {
  const Fixture f = mailbox();
  const std::map<std::string, V> cases = {
      {"FROM jose", {1}},
      {"FROM \"JOSE@EXAMPLE\"", {1}},
      {"CHARSET UTF-8 FROM " + literal("garc\xc3\xad" "a"), {1}},      // decoded encoded-word
      {"CHARSET UTF-8 FROM " + literal("GARC\xc3\x8d" "A"), {1}},      // non-ASCII case
      {"FROM example.com", {1, 3, 4, 5}},
      {"FROM nobody", {}},
      {"TO bob", {1}},
      {"TO team", {2}},
      {"CC carol", {1}},
      {"CC bob", {}},
      {"BCC eve", {3}},
      {"SUBJECT lunch", {2}},
      {"SUBJECT \"meeting notes\"", {3}},                              // unfolded
      {"CHARSET UTF-8 SUBJECT " + literal("m\xc3\xbcnchen"), {1}},
      {"CHARSET UTF-8 SUBJECT " + literal("M\xc3\x9c" "NCHEN"), {1}},
      // Full case folding: "Grüße" (1, encoded word) and "GRÜSSE" (4, raw UTF-8).
      {"CHARSET UTF-8 SUBJECT " + literal("gr\xc3\xbc\xc3\x9f" "e"), {1, 4}},
      {"CHARSET UTF-8 SUBJECT " + literal("gr\xc3\xbcsse"), {1, 4}},
      {"SUBJECT \"\"", {1, 2, 3, 4, 5}},
      {"HEADER X-Priority \"\"", {2}},                               // the field exists
      {"HEADER x-priority 1", {2}},
      {"HEADER X-Priority 2", {}},
      {"HEADER Bcc \"\"", {3}},
      {"HEADER Date 2024", {5}},
  };
  for (const auto& [args, want] : cases) EXPECT_EQ(seqs(f, args), want) << args;
}

TEST(Search, BodyAndText) {
  const Fixture f = mailbox();
  const std::map<std::string, V> cases = {
      {"BODY quarterly", {1, 2}},                       // 2: base64 text/plain
      {"BODY \"bold statement & more\"", {2}},          // HTML reduced to text
      {"BODY \"<b>\"", {}},
      {"CHARSET UTF-8 BODY " + literal("stra\xc3\x9f" "e"), {3}},  // quoted-printable UTF-8
      {"BODY STRASSE", {3}},
      {"BODY meeting", {}},                             // only in the header
      {"TEXT meeting", {3}},
      {"TEXT BOLD", {2}},
      {"TEXT \"Subject: Offer\"", {5}},
      {"BODY zzzzzzzzzz", {4}},
  };
  for (const auto& [args, want] : cases) EXPECT_EQ(seqs(f, args), want) << args;
}

TEST(Search, Nesting) {
  const Fixture f = mailbox();
  const std::map<std::string, V> cases = {
      {"OR SEEN FLAGGED", {1, 2, 5}},
      {"NOT SEEN", {2, 3, 4}},
      {"NOT NOT SEEN", {1, 5}},
      {"OR (SEEN KEYWORD $junk) DRAFT", {3, 5}},
      {"NOT (OR SEEN DRAFT)", {2, 4}},
      {"SEEN UID 10:15", {1}},
      {"(SUBJECT lunch)", {2}},
      {"OR SUBJECT lunch OR BODY quarterly FROM heidi", {1, 2, 5}},
      {"NOT OR SUBJECT lunch FROM dave UNSEEN", {4}},
      {"OR NEW DELETED LARGER 10", {2, 4}},
  };
  for (const auto& [args, want] : cases) EXPECT_EQ(seqs(f, args), want) << args;
}

TEST(Search, UidSearchReturnsUids) {
  const Fixture f = mailbox();
  const proto::Search cmd = search_command("UID 12:* UNSEEN", true);
  const SearchQuery q(cmd.keys, SearchScope{5, 20});
  auto r = run_search(q, f.messages, f.recent, nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(format_search(*r, true), "* SEARCH 12 15\r\n");
  EXPECT_EQ(format_search(*r, false), "* SEARCH 3 4\r\n");
}

TEST(Search, ContentIsReadOnlyWhenNeeded) {
  const Fixture f = mailbox();
  EXPECT_EQ(search(f, "SEEN UNDELETED OR FLAGGED ANSWERED").opens, 0);
  // Cheap keys first: only the two \Seen messages are opened, whatever the order written.
  EXPECT_EQ(search(f, "SUBJECT offer SEEN").opens, 2);
  EXPECT_EQ(search(f, "SUBJECT offer SEEN").seqs, V{5});
  EXPECT_EQ(search(f, "OR SUBJECT x ANSWERED").opens, 4);  // not for the \Answered one
  EXPECT_EQ(search(f, "NOT (SUBJECT x UNSEEN)").opens, 3);
}

TEST(Search, ContentIsReadOncePerMessage) {
  const Fixture f = mailbox();
  const proto::Search cmd = search_command("FROM a SUBJECT b TO c HEADER X-Y d SENTON 1-Jan-2024 OR BODY e TEXT f");
  const SearchQuery q(cmd.keys, SearchScope{5, 20});
  EXPECT_TRUE(q.needs_content());
  for (std::size_t i = 0; i < f.messages.size(); ++i) {
    StringSource source(f.bytes[i]);
    auto r = q.matches(SearchMessage{&f.messages[i], static_cast<std::uint32_t>(i + 1), false}, &source);
    ASSERT_TRUE(r);
    EXPECT_LE(source.byte_reads + source.prefix_reads, 1);
  }
}

TEST(Search, HeaderKeysReadOnlyTheHeadOfALargeMessage) {
  const std::string m = "From: Big <big@example.com>\r\nSubject: Large attachment\r\nDate: 3 Jan 2024 10:00 +0000\r\n\r\n" +
                        std::string(500 * 1024, 'x') + "\r\n";
  store::Message meta;
  meta.uid = 1;
  meta.size = m.size();
  for (const std::string args : {"SUBJECT attachment", "FROM nobody", "HEADER X-Absent \"\"", "SENTON 3-Jan-2024"}) {
    const SearchQuery q(search_command(args).keys, SearchScope{1, 1});
    StringSource source(m);
    auto r = q.matches(SearchMessage{&meta, 1, false}, &source);
    ASSERT_TRUE(r) << args;
    EXPECT_EQ(source.byte_reads, 0) << args;
    EXPECT_EQ(source.prefix_reads, 1) << args;
  }
  const SearchQuery body(search_command("BODY xxx").keys, SearchScope{1, 1});
  StringSource source(m);
  auto r = body.matches(SearchMessage{&meta, 1, false}, &source);
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r);
  EXPECT_EQ(source.byte_reads, 1);
}

TEST(Search, TenThousandMessagesWithFlagKeysTouchNoBlob) {
  std::vector<store::Message> messages(10000);
  for (std::uint32_t i = 0; i < messages.size(); ++i) {
    messages[i].uid = 2 * i + 1;
    messages[i].modseq = i + 1;
    messages[i].flags = i % 3 == 0 ? std::uint32_t{store::kFlagSeen} : 0u;
    messages[i].keywords = i % 7 == 0 ? std::vector<std::string>{"$Label1"} : std::vector<std::string>{};
    messages[i].size = 1000 + i;
    messages[i].internal_date = kJan1 + i * 600;
  }
  const proto::Search cmd = search_command(
      "UNSEEN UNDELETED OR FLAGGED NOT KEYWORD $label1 UID 1:* LARGER 5 SINCE 1-Jan-2024 MODSEQ 1 NOT RECENT 1:*");
  EXPECT_EQ(scope_of(messages).message_count, 10000u);
  EXPECT_EQ(scope_of(messages).highest_uid, 19999u);
  const SearchQuery q(cmd.keys, scope_of(messages));
  EXPECT_FALSE(q.needs_content());
  int opens = 0;
  auto r = run_search(q, messages, proto::RangeSet(), [&](const store::Message&) -> Result<std::unique_ptr<MessageSource>> {
    ++opens;
    return make_error(ErrorCode::kIo, "must not be called");
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(opens, 0);
  std::size_t want = 0;
  for (std::uint32_t i = 0; i < messages.size(); ++i) want += (i % 3 != 0 && i % 7 != 0) ? 1 : 0;
  EXPECT_EQ(r->hits.size(), want);
  EXPECT_TRUE(r->with_modseq);
}

TEST(Search, SourceErrorsStopTheSearch) {
  const Fixture f = mailbox();
  const proto::Search cmd = search_command("SUBJECT x");
  const SearchQuery q(cmd.keys, SearchScope{5, 20});
  auto r = run_search(q, f.messages, f.recent, [](const store::Message&) -> Result<std::unique_ptr<MessageSource>> {
    return make_error(ErrorCode::kIo, "disk");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
}

// A blob removed between the listing and the search (a concurrent expunge): that message
// matches nothing, the others are still searched.
TEST(Search, MessageExpungedDuringTheSearchMatchesNothing) {
  const Fixture f = mailbox();
  const proto::Search cmd = search_command("TEXT example");
  const SearchQuery q(cmd.keys, scope_of(f.messages));
  auto r = run_search(q, f.messages, f.recent,
                      [&](const store::Message& m) -> Result<std::unique_ptr<MessageSource>> {
                        if (m.uid == 11) return make_error(ErrorCode::kNotFound, "no blob 7");
                        for (std::size_t i = 0; i < f.messages.size(); ++i) {
                          if (f.messages[i].uid == m.uid) return std::make_unique<StringSource>(f.bytes[i]);
                        }
                        return make_error(ErrorCode::kInternal, "unknown message");
                      });
  ASSERT_TRUE(r) << r.error().to_string();
  std::vector<std::uint32_t> got;
  for (const auto& h : r->hits) got.push_back(h.seq);
  EXPECT_EQ(got, (std::vector<std::uint32_t>{1, 3, 4, 5}));
}

SearchResult result_of(std::vector<SearchHit> hits, bool modseq) {
  SearchResult r;
  r.hits = std::move(hits);
  r.with_modseq = modseq;
  return r;
}

TEST(Search, ResponseFormats) {
  const SearchResult r = result_of({{2, 20, 7}, {5, 50, 9}, {6, 60, 3}, {7, 70, 1}}, false);
  EXPECT_EQ(format_search(r, false), "* SEARCH 2 5 6 7\r\n");
  EXPECT_EQ(format_search(r, true), "* SEARCH 20 50 60 70\r\n");
  EXPECT_EQ(format_search(result_of(r.hits, true), false), "* SEARCH 2 5 6 7 (MODSEQ 9)\r\n");
  EXPECT_EQ(format_search(result_of({}, true), false), "* SEARCH\r\n");  // RFC 7162 3.1.5

  proto::SearchReturn all;
  all.all = true;
  EXPECT_EQ(format_esearch(r, all, "A1", false), "* ESEARCH (TAG \"A1\") ALL 2,5:7\r\n");
  EXPECT_EQ(format_esearch(r, proto::SearchReturn{}, "A1", true), "* ESEARCH (TAG \"A1\") UID ALL 20,50,60,70\r\n");
  proto::SearchReturn mmc;
  mmc.min = mmc.max = mmc.count = true;
  EXPECT_EQ(format_esearch(r, mmc, "t", false), "* ESEARCH (TAG \"t\") MIN 2 MAX 7 COUNT 4\r\n");
  EXPECT_EQ(format_esearch(result_of({}, false), mmc, "t", false), "* ESEARCH (TAG \"t\") COUNT 0\r\n");
  EXPECT_EQ(format_esearch(result_of({}, false), all, "t", true), "* ESEARCH (TAG \"t\") UID\r\n");
  EXPECT_EQ(format_esearch(result_of(r.hits, true), mmc, "t", false),
            "* ESEARCH (TAG \"t\") MIN 2 MAX 7 COUNT 4 MODSEQ 9\r\n");
  proto::SearchReturn min_only;
  min_only.min = true;
  EXPECT_EQ(format_esearch(result_of(r.hits, true), min_only, "t", false), "* ESEARCH (TAG \"t\") MIN 2 MODSEQ 7\r\n");
  proto::SearchReturn max_only;
  max_only.max = true;
  EXPECT_EQ(format_esearch(result_of(r.hits, true), max_only, "t", false), "* ESEARCH (TAG \"t\") MAX 7 MODSEQ 1\r\n");
}

TEST(Search, ModSeqKeyAnywhereAsksForModSeq) {
  for (const std::string args : {"MODSEQ 5", "NOT MODSEQ 5", "OR SEEN (MODSEQ \"/flags/\\\\Seen\" all 3)"}) {
    const SearchQuery q(search_command(args).keys, SearchScope{1, 1});
    EXPECT_TRUE(q.uses_modseq()) << args;
  }
  EXPECT_FALSE(SearchQuery(search_command("SEEN").keys, SearchScope{1, 1}).uses_modseq());
}

TEST(Search, Charsets) {
  EXPECT_TRUE(search_charset_supported(std::nullopt));
  EXPECT_TRUE(search_charset_supported(std::string("UTF-8")));
  EXPECT_TRUE(search_charset_supported(std::string("us-ascii")));
  EXPECT_FALSE(search_charset_supported(std::string("ISO-8859-1")));
  EXPECT_FALSE(search_charset_supported(std::string("UTF8")));
  EXPECT_EQ(kBadCharsetText.substr(0, 30), "[BADCHARSET (UTF-8 US-ASCII)] ");
  EXPECT_EQ(search_command("CHARSET iso-8859-1 ALL").charset, std::optional<std::string>("ISO-8859-1"));
}

TEST(Search, EmptyMailbox) {
  const SearchQuery q(search_command("OR 1:* UID *").keys, SearchScope{0, 0});
  auto r = run_search(q, {}, proto::RangeSet(), nullptr);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->hits.empty());
}

}  // namespace
}  // namespace tern::imap
