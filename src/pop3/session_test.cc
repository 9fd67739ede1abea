// End-to-end behaviour of one POP3 session over loopback TCP, with the real Stream,
// Authenticator and TLS, and an in-memory store.
#include "pop3/session.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "auth/password.h"
#include "base/strings.h"
#include "net/testing/loopback.h"
#include "store/sqlite/sqlite_store.h"

namespace tern::pop3 {
namespace {

constexpr config::Protocol kProtocol = config::Protocol::kPop3;

// A real session on a loopback connection, driven by a blocking client (net/testing).
using net::testing::Client;

std::string b64(std::string_view s) { return base64_encode(s); }

class SessionTest : public net::testing::LoopbackSessionTest {
 protected:
  SessionTest() : LoopbackSessionTest(kProtocol, &run_session) {}
};

bool dot(const std::string& l) { return l == "."; }

TEST_F(SessionTest, GreetsListsCapabilitiesAndQuits) {
  run([](Client& c) {
    EXPECT_EQ(c.line(), "+OK Tern POP3 ready");
    c.send("CAPA\r\n");
    auto lines = c.lines_until(dot);
    std::vector<std::string> want = {"+OK Capability list follows", "TOP", "UIDL", "USER",
                                     "SASL PLAIN LOGIN", "RESP-CODES", "AUTH-RESP-CODE",
                                     "PIPELINING", "EXPIRE NEVER", "IMPLEMENTATION Tern", "."};
    EXPECT_EQ(lines, want);
    c.send("STLS\r\n");
    EXPECT_EQ(c.line(), "-ERR TLS not available");
    c.send("QUIT\r\n");
    EXPECT_EQ(c.line(), "+OK Tern POP3 server signing off");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

TEST_F(SessionTest, UserPass) {
  run([](Client& c) {
    c.line();
    c.send("PASS secret\r\n");
    EXPECT_EQ(c.line(), "-ERR Send USER first");
    c.send("USER alice@example.com\r\n");
    EXPECT_EQ(c.line(), "+OK Send PASS");
    c.send("PASS wrong\r\n");
    EXPECT_EQ(c.line(), "-ERR [AUTH] Authentication failed");
    c.send("PASS secret\r\n");
    EXPECT_EQ(c.line(), "-ERR Send USER first");
    c.send("STAT\r\n");
    EXPECT_EQ(c.line(), "-ERR Not logged in");
    c.send("USER alice@example.com\r\n");
    EXPECT_EQ(c.line(), "+OK Send PASS");
    c.send("PASS secret\r\n");
    EXPECT_EQ(c.line(), "+OK Logged in, 0 messages (0 octets)");
    c.send("STAT\r\n");
    EXPECT_EQ(c.line(), "+OK 0 0");
    c.send("RETR 1\r\n");
    EXPECT_EQ(c.line(), "-ERR No such message");
    c.send("NOOP\r\n");
    EXPECT_EQ(c.line(), "+OK");
    c.send("USER alice@example.com\r\n");
    EXPECT_EQ(c.line(), "-ERR Already logged in");
    c.send("CAPA\r\n");
    auto lines = c.lines_until(dot);
    std::vector<std::string> want = {"+OK Capability list follows", "TOP", "UIDL", "RESP-CODES",
                                     "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER",
                                     "IMPLEMENTATION Tern", "."};
    EXPECT_EQ(lines, want);
    c.send("QUIT\r\n");
    EXPECT_EQ(c.line(), "+OK Tern POP3 server signing off (0 messages deleted)");
  });
}

TEST_F(SessionTest, AuthPlainAndLogin) {
  run([](Client& c) {
    c.line();
    c.send("AUTH PLAIN\r\n");
    EXPECT_EQ(c.line(), "+ ");
    c.send("*\r\n");
    EXPECT_EQ(c.line(), "-ERR Authentication cancelled");
    c.send("AUTH LOGIN\r\n");
    EXPECT_EQ(c.line(), "+ VXNlcm5hbWU6");
    c.send(b64("alice@example.com") + "\r\n");
    EXPECT_EQ(c.line(), "+ UGFzc3dvcmQ6");
    c.send(b64("wrong") + "\r\n");
    EXPECT_EQ(c.line(), "-ERR [AUTH] Authentication failed");
    c.send("AUTH KERBEROS_V4\r\n");
    EXPECT_EQ(c.line(), "-ERR Unsupported authentication mechanism");
    c.send("AUTH PLAIN " + b64(std::string("\0alice@example.com\0app-pass-1", 29)) + "\r\n");
    EXPECT_EQ(c.line(), "+OK Logged in, 0 messages (0 octets)");
  });
}

TEST_F(SessionTest, ErrorsAreCountedAndEndTheSession) {
  config_.limits.max_errors = 3;
  config_.limits.max_line_length = 100;
  run([](Client& c) {
    c.line();
    c.send("HELO\r\n");
    EXPECT_EQ(c.line(), "-ERR Unknown command");
    c.send("RETR x\r\n");
    EXPECT_EQ(c.line(), "-ERR Invalid message number");
    c.send("NOOP " + std::string(200, 'x') + "\r\n");
    EXPECT_EQ(c.line(), "-ERR Line too long");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

TEST_F(SessionTest, RefusesPlaintextLoginUnlessAllowed) {
  config_.auth.allow_plaintext = false;
  run([](Client& c) {
    c.line();
    c.send("CAPA\r\n");
    auto lines = c.lines_until(dot);
    std::vector<std::string> want = {"+OK Capability list follows", "TOP", "UIDL", "RESP-CODES",
                                     "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER",
                                     "IMPLEMENTATION Tern", "."};
    EXPECT_EQ(lines, want);
    c.send("USER alice@example.com\r\n");
    EXPECT_EQ(c.line(), "-ERR [AUTH] Plaintext authentication not allowed; use STLS");
    c.send("AUTH PLAIN " + b64(std::string("\0alice@example.com\0secret", 25)) + "\r\n");
    EXPECT_EQ(c.line(), "-ERR [AUTH] Plaintext authentication not allowed; use STLS");
  });
}

TEST_F(SessionTest, StlsThenLogin) {
  config_.auth.allow_plaintext = false;
  use_tls();
  run([](Client& c) {
    c.line();
    c.send("CAPA\r\n");
    auto lines = c.lines_until(dot);
    EXPECT_NE(std::find(lines.begin(), lines.end(), "STLS"), lines.end());
    c.send("STLS\r\nUSER mallory\r\n");
    EXPECT_EQ(c.line(), "+OK Begin TLS negotiation");
    ASSERT_TRUE(c.start_tls());
    // The pipelined plaintext USER was discarded.
    c.send("PASS secret\r\n");
    EXPECT_EQ(c.line(), "-ERR Send USER first");
    c.send("CAPA\r\n");
    lines = c.lines_until(dot);
    std::vector<std::string> want = {"+OK Capability list follows", "TOP", "UIDL", "USER",
                                     "SASL PLAIN LOGIN", "RESP-CODES", "AUTH-RESP-CODE",
                                     "PIPELINING", "EXPIRE NEVER", "IMPLEMENTATION Tern", "."};
    EXPECT_EQ(lines, want);
    c.send("STLS\r\n");
    EXPECT_EQ(c.line(), "-ERR TLS already active");
    c.send("USER alice@example.com\r\nPASS secret\r\n");
    EXPECT_EQ(c.line(), "+OK Send PASS");
    EXPECT_EQ(c.line(), "+OK Logged in, 0 messages (0 octets)");
  });
}

TEST_F(SessionTest, ClosesOnTimeout) {
  config_.timeouts.pre_auth = std::chrono::seconds(1);
  run([](Client& c) {
    c.line();
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

TEST_F(SessionTest, ClosesAfterLoginOnThePop3Timeout) {
  config_.timeouts.pop3 = std::chrono::seconds(1);
  run([](Client& c) {
    c.line();
    c.send("USER alice@example.com\r\nPASS secret\r\n");
    EXPECT_EQ(c.line(), "+OK Send PASS");
    EXPECT_EQ(c.line(), "+OK Logged in, 0 messages (0 octets)");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

// ---- The maildrop, against a real (SQLite, temporary) store.

class MaildropTest : public SessionTest {
 protected:
  void SetUp() override {
    auto opened = store::open_sqlite_store({(dir_.path() / "tern.db").string(), 2}, &feed_);
    ASSERT_TRUE(opened) << opened.error().to_string();
    db_ = std::move(*opened);
    ASSERT_TRUE(db_->add_domain("example.com"));
    auto alice = db_->add_account("alice@example.com", auth::hash_password("secret").value());
    ASSERT_TRUE(alice);
    alice_ = alice->id;
    auto box = db_->find_mailbox(alice_, "INBOX");
    ASSERT_TRUE(box && *box);
    inbox_ = (*box)->id;
    uidvalidity_ = (*box)->uidvalidity;
    store_override_ = db_.get();
  }

  uint32_t append(const std::string& bytes, uint32_t flags = 0) {
    store::AppendTarget t{inbox_, flags, {}};
    auto r = db_->append(bytes, 1700000000, std::span(&t, 1));
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? (*r)[0].uid : 0;
  }

  std::vector<store::Message> messages() {
    auto r = db_->list_messages(inbox_);
    EXPECT_TRUE(r);
    return r ? *r : std::vector<store::Message>{};
  }

  std::string uidl(uint32_t uid) const { return std::to_string(uidvalidity_) + "." + std::to_string(uid); }

  store::ChangeFeed feed_;  // what IMAP sessions on the INBOX would hear
  std::unique_ptr<store::MailStore> db_;
  store::Id alice_ = 0;
  store::Id inbox_ = 0;
  uint32_t uidvalidity_ = 0;
};

void login(Client& c) {
  c.line();
  c.send("USER alice@example.com\r\nPASS secret\r\n");
  EXPECT_EQ(c.line(), "+OK Send PASS");
}

// The body of a multi-line response up to its "." line, un-stuffed, lines ended by CRLF.
std::string multiline(Client& c) {
  std::string out;
  for (;;) {
    std::string l = c.line();
    if (l == "." || l == "<EOF>") break;
    if (!l.empty() && l[0] == '.') l.erase(0, 1);
    out += l + "\r\n";
  }
  return out;
}

const std::string kFirst = "Subject: one\r\nFrom: a@example.org\r\n\r\nline 1\r\n.line 2\r\n..\r\n.\r\nlast\r\n";

TEST_F(MaildropTest, StatListUidlRetrAndTop) {
  const std::string second = "Subject: two\r\n\r\n" + std::string(20000, 'x') + "\r\nno final line end";
  const uint32_t u1 = append(kFirst);
  append("Subject: gone\r\n\r\nflagged deleted by IMAP\r\n", store::kFlagDeleted);
  const uint32_t u3 = append(second);
  const std::string s1 = std::to_string(kFirst.size());
  const std::string s2 = std::to_string(second.size());
  const std::string total = std::to_string(kFirst.size() + second.size());
  run([&](Client& c) {
    login(c);
    EXPECT_EQ(c.line(), "+OK Logged in, 2 messages (" + total + " octets)");
    c.send("STAT\r\n");
    EXPECT_EQ(c.line(), "+OK 2 " + total);
    c.send("LIST\r\n");
    EXPECT_EQ(c.lines_until(dot), (std::vector<std::string>{"+OK 2 messages (" + total + " octets)", "1 " + s1,
                                                            "2 " + s2, "."}));
    c.send("LIST 2\r\n");
    EXPECT_EQ(c.line(), "+OK 2 " + s2);
    c.send("LIST 3\r\n");
    EXPECT_EQ(c.line(), "-ERR No such message");
    c.send("UIDL\r\n");
    EXPECT_EQ(c.lines_until(dot), (std::vector<std::string>{"+OK", "1 " + uidl(u1), "2 " + uidl(u3), "."}));
    c.send("UIDL 1\r\n");
    EXPECT_EQ(c.line(), "+OK 1 " + uidl(u1));
    c.send("RETR 1\r\n");
    EXPECT_EQ(c.line(), "+OK " + s1 + " octets");
    EXPECT_EQ(multiline(c), kFirst);
    c.send("RETR 2\r\n");
    EXPECT_EQ(c.line(), "+OK " + s2 + " octets");
    EXPECT_EQ(multiline(c), second + "\r\n");
    c.send("TOP 1 0\r\n");
    EXPECT_EQ(c.line(), "+OK Top of message follows");
    EXPECT_EQ(multiline(c), "Subject: one\r\nFrom: a@example.org\r\n\r\n");
    c.send("TOP 1 2\r\n");
    EXPECT_EQ(c.line(), "+OK Top of message follows");
    EXPECT_EQ(multiline(c), "Subject: one\r\nFrom: a@example.org\r\n\r\nline 1\r\n.line 2\r\n");
    c.send("TOP 9 1\r\n");
    EXPECT_EQ(c.line(), "-ERR No such message");
    c.send("QUIT\r\n");
    EXPECT_EQ(c.line(), "+OK Tern POP3 server signing off (0 messages deleted)");
  });
  // RETR made them \Seen (TOP does not count); the \Deleted one was left alone.
  auto ms = messages();
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_NE(ms[0].flags & store::kFlagSeen, 0u);
  EXPECT_EQ(ms[1].flags & store::kFlagSeen, 0u);
  EXPECT_NE(ms[2].flags & store::kFlagSeen, 0u);
}

TEST_F(MaildropTest, DeleMarksRsetUnmarksAndQuitDeletes) {
  const uint32_t u1 = append(kFirst);
  const uint32_t u2 = append("Subject: 2\r\n\r\nb\r\n");
  const uint32_t u3 = append("Subject: 3\r\n\r\nc\r\n");
  std::mutex mu;
  std::vector<store::MailboxChange> heard;
  store::Subscription sub = feed_.subscribe(inbox_, [&](const store::MailboxChange& ch) {
    std::lock_guard lock(mu);
    heard.push_back(ch);
  });
  run([&](Client& c) {
    login(c);
    c.line();
    c.send("DELE 1\r\n");
    EXPECT_EQ(c.line(), "+OK Message 1 deleted");
    c.send("DELE 1\r\n");
    EXPECT_EQ(c.line(), "-ERR Message 1 already deleted");
    c.send("RETR 1\r\n");
    EXPECT_EQ(c.line(), "-ERR Message 1 already deleted");
    c.send("STAT\r\n");
    EXPECT_EQ(c.line(), "+OK 2 " + std::to_string(2 * 17));
    c.send("RSET\r\n");
    EXPECT_EQ(c.line(), "+OK 3 messages (" + std::to_string(kFirst.size() + 2 * 17) + " octets)");
    c.send("DELE 2\r\n");
    EXPECT_EQ(c.line(), "+OK Message 2 deleted");
    c.send("DELE 3\r\n");
    EXPECT_EQ(c.line(), "+OK Message 3 deleted");
    c.send("UIDL\r\n");
    EXPECT_EQ(c.lines_until(dot), (std::vector<std::string>{"+OK", "1 " + uidl(u1), "."}));
    // Still there until QUIT.
    EXPECT_EQ(messages().size(), 3u);
    c.send("QUIT\r\n");
    EXPECT_EQ(c.line(), "+OK Tern POP3 server signing off (2 messages deleted)");
    // +OK came after the deletion was committed.
    EXPECT_EQ(messages().size(), 1u);
    EXPECT_EQ(c.line(), "<EOF>");
  });
  auto ms = messages();
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].uid, u1);
  auto gone = db_->expunged_since(inbox_, 0);
  ASSERT_TRUE(gone);
  EXPECT_EQ(*gone, (std::vector<uint32_t>{u2, u3}));
  // One expunge, published for the INBOX's IMAP sessions (the store publishes just after it
  // wakes the committer, so give it a moment).
  std::vector<store::MailboxChange> expunges;
  for (int i = 0; i < 500 && expunges.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::lock_guard lock(mu);
    for (const auto& ch : heard) {
      if (ch.kind == store::MailboxChange::Kind::kExpunge) expunges.push_back(ch);
    }
  }
  ASSERT_EQ(expunges.size(), 1u);
  EXPECT_EQ(expunges[0].uids, (std::vector<uint32_t>{u2, u3}));
  // The next session numbers what is left from 1 and keeps its UIDL.
  run([&](Client& c) {
    login(c);
    EXPECT_EQ(c.line(), "+OK Logged in, 1 messages (" + std::to_string(kFirst.size()) + " octets)");
    c.send("UIDL 1\r\n");
    EXPECT_EQ(c.line(), "+OK 1 " + uidl(u1));
  });
}

TEST_F(MaildropTest, DroppedConnectionDeletesNothingAndReleasesTheLock) {
  append(kFirst);
  append(kFirst);
  run([&](Client& c) {
    login(c);
    c.line();
    c.send("DELE 1\r\nDELE 2\r\n");
    EXPECT_EQ(c.line(), "+OK Message 1 deleted");
    EXPECT_EQ(c.line(), "+OK Message 2 deleted");
  });  // the client hangs up without QUIT
  EXPECT_EQ(messages().size(), 2u);
  auto lock = db_->lock_maildrop(alice_);
  EXPECT_TRUE(lock) << lock.error().to_string();
}

TEST_F(MaildropTest, SecondSessionGetsInUse) {
  append(kFirst);
  auto held = db_->lock_maildrop(alice_);  // another POP3 session, here or on another node
  ASSERT_TRUE(held);
  run([&](Client& c) {
    login(c);
    EXPECT_EQ(c.line(), "-ERR [IN-USE] Maildrop is locked by another POP3 session, try again later");
    c.send("STAT\r\n");
    EXPECT_EQ(c.line(), "-ERR Not logged in");
    held->reset();
    c.send("USER alice@example.com\r\nPASS secret\r\n");
    EXPECT_EQ(c.line(), "+OK Send PASS");
    EXPECT_EQ(c.line(), "+OK Logged in, 1 messages (" + std::to_string(kFirst.size()) + " octets)");
    // While this session holds it, nobody else gets it.
    auto other = db_->lock_maildrop(alice_);
    EXPECT_FALSE(other);
    c.send("QUIT\r\n");
    c.line();
  });
  EXPECT_TRUE(db_->lock_maildrop(alice_));
}

TEST_F(MaildropTest, SnapshotKeepsNumbersWhileOthersChangeTheInbox) {
  const uint32_t u1 = append("Subject: 1\r\n\r\none\r\n");
  const uint32_t u2 = append("Subject: 2\r\n\r\ntwo\r\n");
  run([&](Client& c) {
    login(c);
    EXPECT_EQ(c.line(), "+OK Logged in, 2 messages (38 octets)");
    // A delivery and an IMAP expunge while the session runs.
    append("Subject: 3\r\n\r\nthree\r\n");
    std::vector<uint32_t> uids = {u1};
    ASSERT_TRUE(db_->expunge(inbox_, uids));
    c.send("STAT\r\n");
    EXPECT_EQ(c.line(), "+OK 2 38");
    c.send("RETR 1\r\n");
    EXPECT_EQ(c.line(), "-ERR Message 1 was removed by another session");
    c.send("RETR 2\r\n");
    EXPECT_EQ(c.line(), "+OK 19 octets");
    EXPECT_EQ(multiline(c), "Subject: 2\r\n\r\ntwo\r\n");
    c.send("DELE 1\r\n");  // deleting what is already gone is harmless
    EXPECT_EQ(c.line(), "+OK Message 1 deleted");
    c.send("QUIT\r\n");
    EXPECT_EQ(c.line(), "+OK Tern POP3 server signing off (1 messages deleted)");
  });
  auto ms = messages();
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].uid, u2);
}

TEST_F(MaildropTest, PipelinedCommandsAreAnsweredInOrder) {
  append(kFirst);
  append("Subject: 2\r\n\r\ntwo\r\n");
  run([&](Client& c) {
    c.line();
    c.send("CAPA\r\nUSER alice@example.com\r\nPASS secret\r\nSTAT\r\nRETR 1\r\nRETR 2\r\nDELE 2\r\n"
           "NOOP\r\nLIST\r\nQUIT\r\n");
    auto capa = c.lines_until(dot);
    EXPECT_NE(std::find(capa.begin(), capa.end(), "PIPELINING"), capa.end());
    EXPECT_EQ(c.line(), "+OK Send PASS");
    EXPECT_EQ(c.line().substr(0, 15), "+OK Logged in, ");
    EXPECT_EQ(c.line().substr(0, 6), "+OK 2 ");
    EXPECT_EQ(c.line(), "+OK " + std::to_string(kFirst.size()) + " octets");
    EXPECT_EQ(multiline(c), kFirst);
    EXPECT_EQ(c.line(), "+OK 19 octets");
    EXPECT_EQ(multiline(c), "Subject: 2\r\n\r\ntwo\r\n");
    EXPECT_EQ(c.line(), "+OK Message 2 deleted");
    EXPECT_EQ(c.line(), "+OK");
    EXPECT_EQ(c.lines_until(dot).size(), 3u);
    EXPECT_EQ(c.line(), "+OK Tern POP3 server signing off (1 messages deleted)");
    EXPECT_EQ(c.line(), "<EOF>");
  });
  EXPECT_EQ(messages().size(), 1u);
}

TEST_F(MaildropTest, LargeMessageIsStreamedByteExact) {
  // Over the whole-read threshold: read from the store in chunks, dots across their edges.
  std::string big = "Subject: big\r\n\r\n";
  for (int i = 0; big.size() < (3u << 20); ++i) {
    big += std::string(static_cast<std::size_t>(i % 3), '.') + std::string(static_cast<std::size_t>(i * 37 % 5000), 'y') + "\r\n";
  }
  big += ".";
  append(big);
  run([&](Client& c) {
    login(c);
    c.line();
    c.send("RETR 1\r\n");
    EXPECT_EQ(c.line(), "+OK " + std::to_string(big.size()) + " octets");
    std::string got = multiline(c);
    EXPECT_EQ(got.size(), big.size() + 2);
    EXPECT_TRUE(got == big + "\r\n");
    c.send("TOP 1 3\r\n");
    c.line();
    EXPECT_EQ(multiline(c), "Subject: big\r\n\r\n\r\n." + std::string(37, 'y') + "\r\n.." + std::string(74, 'y') + "\r\n");
  });
}

// ---- Store failures: the client gets [SYS/TEMP], nothing is lost, the lock goes.

// The in-memory store with switches that make single calls fail as a broken disk would.
class FlakyStore final : public store::testing::FakeMailStore {
 public:
  std::atomic<bool> fail_list{false};  // set from the client thread while the session runs
  std::atomic<bool> fail_read{false};
  std::atomic<bool> fail_expunge{false};

  Result<std::vector<store::Message>> list_messages(store::Id mailbox, uint32_t first, uint32_t last) override {
    if (fail_list) return make_error(ErrorCode::kIo, "disk on fire (test)");
    return FakeMailStore::list_messages(mailbox, first, last);
  }
  Result<std::string> read_blob(store::Id blob) override {
    if (fail_read) return make_error(ErrorCode::kIo, "disk on fire (test)");
    return FakeMailStore::read_blob(blob);
  }
  Result<store::Expunged> expunge(store::Id mailbox, std::span<const uint32_t> uids) override {
    if (fail_expunge) return make_error(ErrorCode::kIo, "disk on fire (test)");
    return FakeMailStore::expunge(mailbox, uids);
  }
};

class StoreFailureTest : public SessionTest {
 protected:
  void SetUp() override {
    alice_ = flaky_.add_account_with_hash("alice@example.com", auth::hash_password("secret").value());
    inbox_ = (*flaky_.find_mailbox(alice_, "INBOX"))->id;
    store::AppendTarget t{inbox_, 0, {}};
    ASSERT_TRUE(flaky_.append("Subject: 1\r\n\r\none\r\n", 1700000000, std::span(&t, 1)));
    store_override_ = &flaky_;
  }
  std::size_t count() { return flaky_.list_messages(inbox_, 1, UINT32_MAX)->size(); }

  FlakyStore flaky_;
  store::Id alice_ = 0;
  store::Id inbox_ = 0;
};

TEST_F(StoreFailureTest, LoginWhenTheInboxCannotBeListed) {
  flaky_.fail_list = true;
  run([&](Client& c) {
    login(c);
    EXPECT_EQ(c.line(), "-ERR [SYS/TEMP] Cannot open the maildrop, try again later");
    EXPECT_TRUE(flaky_.lock_maildrop(alice_));  // not left locked
    flaky_.fail_list = false;
    c.send("USER alice@example.com\r\nPASS secret\r\n");
    EXPECT_EQ(c.line(), "+OK Send PASS");
    EXPECT_EQ(c.line(), "+OK Logged in, 1 messages (19 octets)");
  });
}

TEST_F(StoreFailureTest, RetrWhenTheMessageCannotBeRead) {
  run([&](Client& c) {
    login(c);
    c.line();
    flaky_.fail_read = true;
    c.send("RETR 1\r\n");
    EXPECT_EQ(c.line(), "-ERR [SYS/TEMP] Cannot read the message, try again later");
    flaky_.fail_read = false;
    c.send("RETR 1\r\n");
    EXPECT_EQ(c.line(), "+OK 19 octets");
    EXPECT_EQ(multiline(c), "Subject: 1\r\n\r\none\r\n");
  });
}

TEST_F(StoreFailureTest, QuitKeepsTheMessagesWhenTheDeletionFails) {
  flaky_.fail_expunge = true;
  run([&](Client& c) {
    login(c);
    c.line();
    c.send("DELE 1\r\nQUIT\r\n");
    EXPECT_EQ(c.line(), "+OK Message 1 deleted");
    EXPECT_EQ(c.line(), "-ERR [SYS/TEMP] Could not delete the messages marked deleted; they are kept");
    EXPECT_EQ(c.line(), "<EOF>");
  });
  EXPECT_EQ(count(), 1u);
  EXPECT_TRUE(flaky_.lock_maildrop(alice_));
}

}  // namespace
}  // namespace tern::pop3
