// End-to-end behaviour of one IMAP session over loopback TCP, with the real Stream,
// Authenticator and TLS, and an in-memory store.
#include "imap/session.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "auth/password.h"
#include "base/strings.h"
#include "net/testing/loopback.h"
#include "store/sqlite/sqlite_store.h"

namespace tern::imap {
namespace {

constexpr config::Protocol kProtocol = config::Protocol::kImap;

// A real session on a loopback connection, driven by a blocking client (net/testing).
using net::testing::Client;

// The capabilities after login (APPENDLIMIT is the default max_message_size).
constexpr std::string_view kAuthCaps =
    "IMAP4rev1 LITERAL+ IDLE NAMESPACE ID ENABLE UNSELECT MOVE UIDPLUS MULTIAPPEND BINARY CHILDREN SPECIAL-USE "
    "LIST-EXTENDED CONDSTORE ESEARCH STATUS=SIZE APPENDLIMIT=52428800";
std::string logged_in(std::string_view tag) {
  return std::string(tag) + " OK [CAPABILITY " + std::string(kAuthCaps) + "] Logged in";
}

std::string b64(std::string_view s) { return base64_encode(s); }

class SessionTest : public net::testing::LoopbackSessionTest {
 protected:
  SessionTest() : LoopbackSessionTest(kProtocol, &run_session) {}
};

auto tagged(std::string tag) {
  return [tag = tag + " "](const std::string& l) { return l.rfind(tag, 0) == 0; };
}

TEST_F(SessionTest, GreetsWithCapabilitiesAndLogsOut) {
  run([](Client& c) {
    EXPECT_EQ(c.line(), "* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN AUTH=LOGIN SASL-IR] Tern ready");
    c.send("a1 CAPABILITY\r\n");
    EXPECT_EQ(c.line(), "* CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN AUTH=LOGIN SASL-IR");
    EXPECT_EQ(c.line(), "a1 OK CAPABILITY completed");
    c.send("a2 noop\r\n");
    EXPECT_EQ(c.line(), "a2 OK NOOP completed");
    c.send("a3 STARTTLS\r\n");
    EXPECT_EQ(c.line(), "a3 NO [UNAVAILABLE] TLS not available");
    c.send("a4 LOGOUT\r\n");
    EXPECT_EQ(c.line(), "* BYE Tern logging out");
    EXPECT_EQ(c.line(), "a4 OK LOGOUT completed");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

TEST_F(SessionTest, LoginWithAtomsQuotedStringsAndLiterals) {
  run([](Client& c) {
    c.line();
    c.send("a1 LOGIN alice@example.com wrong\r\n");
    EXPECT_EQ(c.line(), "a1 NO [AUTHENTICATIONFAILED] Authentication failed");
    c.send("a2 LOGIN {17}\r\n");
    EXPECT_EQ(c.line(), "+ Ready for literal data");
    c.send("alice@example.com {6}\r\n");
    EXPECT_EQ(c.line(), "+ Ready for literal data");
    c.send("secret\r\n");
    EXPECT_EQ(c.line(), logged_in("a2"));
    c.send("a3 NAMESPACE\r\n");
    EXPECT_EQ(c.line(), R"(* NAMESPACE (("" "/")) NIL NIL)");
    EXPECT_EQ(c.line(), "a3 OK NAMESPACE completed");
    c.send("a4 LOGIN alice@example.com secret\r\n");
    EXPECT_EQ(c.line(), "a4 BAD Already authenticated");
    c.send("a5 CAPABILITY\r\n");
    EXPECT_EQ(c.line(), "* CAPABILITY " + std::string(kAuthCaps));
    EXPECT_EQ(c.line(), "a5 OK CAPABILITY completed");
  });
}

TEST_F(SessionTest, LoginWithQuotedAppPassword) {
  run([](Client& c) {
    c.line();
    c.send("a1 LOGIN \"alice@example.com\" \"app-pass-1\"\r\n");
    EXPECT_EQ(c.line(), logged_in("a1"));
  });
}

TEST_F(SessionTest, AuthenticatePlainAndLogin) {
  run([](Client& c) {
    c.line();
    c.send("a1 AUTHENTICATE PLAIN\r\n");
    EXPECT_EQ(c.line(), "+ ");
    c.send("*\r\n");
    EXPECT_EQ(c.line(), "a1 BAD Authentication cancelled");
    c.send("a2 AUTHENTICATE LOGIN\r\n");
    EXPECT_EQ(c.line(), "+ VXNlcm5hbWU6");
    c.send(b64("alice@example.com") + "\r\n");
    EXPECT_EQ(c.line(), "+ UGFzc3dvcmQ6");
    c.send(b64("nope") + "\r\n");
    EXPECT_EQ(c.line(), "a2 NO [AUTHENTICATIONFAILED] Authentication failed");
    c.send("a3 AUTHENTICATE DIGEST-MD5\r\n");
    EXPECT_EQ(c.line(), "a3 NO [CANNOT] Unsupported authentication mechanism");
    c.send("a4 AUTHENTICATE PLAIN " + b64(std::string("\0alice@example.com\0secret", 25)) +
           "\r\n");
    EXPECT_EQ(c.line(), logged_in("a4"));
  });
}

TEST_F(SessionTest, AnswersBadCommandsAndGoesOn) {
  config_.limits.max_line_length = 100;
  run([](Client& c) {
    c.line();
    c.send("a1 FROB\r\n");
    EXPECT_EQ(c.line(), "a1 BAD Unknown command");
    c.send("a2 SELECT INBOX\r\n");
    EXPECT_EQ(c.line(), "a2 BAD Please log in first");
    c.send("+bad NOOP\r\n");
    EXPECT_EQ(c.line(), "* BAD Invalid tag");
    c.send("a3 LOGIN onlyone\r\n");
    EXPECT_EQ(c.line(), "a3 BAD Syntax: LOGIN user password");
    c.send("a4 LOGIN \"unterminated\r\n");
    EXPECT_EQ(c.line(), "a4 BAD Unterminated quoted string");
    c.send("a5 NOOP " + std::string(200, 'x') + "\r\n");
    EXPECT_EQ(c.line(), "* BAD Command line too long");
    c.send("a6 LOGIN {5000}\r\n");
    EXPECT_EQ(c.line(), "a6 BAD [TOOBIG] Literal too large");
    c.send("a7 NOOP\r\n");
    EXPECT_EQ(c.line(), "a7 OK NOOP completed");
  });
}

TEST_F(SessionTest, NonSynchronizingLiteralsNeedNoContinuation) {
  // RFC 7888: "{n+}" literals follow at once; the server sends no "+".
  run([](Client& c) {
    c.line();
    c.send("a1 LOGIN {17+}\r\nalice@example.com {6+}\r\nsecret\r\n");
    EXPECT_EQ(c.line(), logged_in("a1"));
    c.send("a2 NOOP\r\n");
    EXPECT_EQ(c.line(), "a2 OK NOOP completed");
  });
}

TEST_F(SessionTest, NonSynchronizingLiteralOverTheLimitEndsTheSession) {
  // RFC 7888 4: its bytes are already on their way and cannot be told from commands, so
  // the server answers BAD [TOOBIG] and closes rather than read them as commands.
  run([](Client& c) {
    c.line();
    c.send("a1 LOGIN alice@example.com {5000+}\r\n");
    EXPECT_EQ(c.line(), "a1 BAD [TOOBIG] Literal too large");
    EXPECT_EQ(c.line(), "* BYE Cannot continue after this error");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

TEST_F(SessionTest, ByeAfterTooManyErrors) {
  config_.limits.max_errors = 2;
  run([](Client& c) {
    c.line();
    c.send("a1 FROB\r\na2 FROB\r\na3 NOOP\r\n");
    EXPECT_EQ(c.line(), "a1 BAD Unknown command");
    EXPECT_EQ(c.line(), "a2 BAD Unknown command");
    EXPECT_EQ(c.line(), "* BYE Too many errors");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

TEST_F(SessionTest, LoginDisabledWithoutTls) {
  config_.auth.allow_plaintext = false;
  run([](Client& c) {
    EXPECT_EQ(c.line(), "* OK [CAPABILITY IMAP4rev1 LITERAL+ LOGINDISABLED] Tern ready");
    c.send("a1 LOGIN alice@example.com secret\r\n");
    EXPECT_EQ(c.line(), "a1 NO [PRIVACYREQUIRED] Plaintext login not allowed; use STARTTLS");
    c.send("a2 AUTHENTICATE PLAIN\r\n");
    EXPECT_EQ(c.line().substr(0, 22), "a2 NO [PRIVACYREQUIRED");
  });
}

TEST_F(SessionTest, StartTlsThenLogin) {
  config_.auth.allow_plaintext = false;
  use_tls();
  run([](Client& c) {
    EXPECT_EQ(c.line(), "* OK [CAPABILITY IMAP4rev1 LITERAL+ STARTTLS LOGINDISABLED] Tern ready");
    c.send("a1 STARTTLS\r\na2 LOGIN alice@example.com secret\r\n");
    EXPECT_EQ(c.line(), "a1 OK Begin TLS negotiation now");
    ASSERT_TRUE(c.start_tls());
    c.send("a3 CAPABILITY\r\n");
    // The pipelined plaintext LOGIN was discarded, not answered.
    EXPECT_EQ(c.line(), "* CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN AUTH=LOGIN SASL-IR");
    EXPECT_EQ(c.line(), "a3 OK CAPABILITY completed");
    c.send("a4 STARTTLS\r\n");
    EXPECT_EQ(c.line(), "a4 BAD TLS already active");
    c.send("a5 LOGIN alice@example.com secret\r\n");
    EXPECT_EQ(c.line(), logged_in("a5"));
    c.send("a6 LOGOUT\r\n");
    auto lines = c.lines_until(tagged("a6"));
    EXPECT_EQ(lines.back(), "a6 OK LOGOUT completed");
  });
}

TEST_F(SessionTest, ByeOnTimeout) {
  config_.timeouts.pre_auth = std::chrono::seconds(1);
  run([](Client& c) {
    c.line();
    EXPECT_EQ(c.line(), "* BYE Autologout; idle for too long");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

TEST_F(SessionTest, ByeWhenStopping) {
  run([this](Client& c) {
    c.line();
    stopping_ = true;
    c.send("a1 NOOP\r\n");
    EXPECT_EQ(c.line(), "a1 OK NOOP completed");
    EXPECT_EQ(c.line(), "* BYE Server shutting down");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

// ---- The authenticated and selected states, against a real (SQLite, temporary) store.

class MailboxTest : public SessionTest {
 protected:
  void SetUp() override {
    auto opened = store::open_sqlite_store({(dir_.path() / "tern.db").string(), 2}, nullptr);
    ASSERT_TRUE(opened) << opened.error().to_string();
    db_ = std::move(*opened);
    ASSERT_TRUE(db_->add_domain("example.com"));
    ASSERT_TRUE(db_->add_account("alice@example.com", auth::hash_password("secret").value()));
    store_override_ = db_.get();
  }
  std::unique_ptr<store::MailStore> db_;
};

bool has(const std::vector<std::string>& lines, std::string_view text) {
  for (const std::string& l : lines) {
    if (l == text) return true;
  }
  return false;
}
bool has_prefix(const std::vector<std::string>& lines, std::string_view text) {
  for (const std::string& l : lines) {
    if (l.rfind(text, 0) == 0) return true;
  }
  return false;
}

// Logs in and sends `cmd` with tag `tag`; returns every line up to the tagged one.
std::vector<std::string> cmd(Client& c, const std::string& tag, const std::string& text) {
  c.send(tag + " " + text + "\r\n");
  return c.lines_until(tagged(tag));
}

void login(Client& c) {
  c.line();
  c.send("l1 LOGIN alice@example.com secret\r\n");
  EXPECT_EQ(c.line(), logged_in("l1"));
}

// Appends `msg` to `box` with a synchronizing literal; returns the tagged reply.
std::string append(Client& c, const std::string& tag, const std::string& box, const std::string& msg,
                   const std::string& flags = "") {
  c.send(tag + " APPEND " + box + (flags.empty() ? "" : " " + flags) + " {" + std::to_string(msg.size()) + "}\r\n");
  EXPECT_EQ(c.line(), "+ Ready for literal data");
  c.send(msg + "\r\n");
  return c.lines_until(tagged(tag)).back();
}

const std::string kMessage =
    "From: bob@example.com\r\nTo: alice@example.com\r\nSubject: hello\r\n\r\nHello Alice\r\n";

TEST_F(MailboxTest, ListCreateRenameDeleteSubscribeStatus) {
  run([](Client& c) {
    login(c);
    auto lines = cmd(c, "a1", R"(LIST "" "*")");
    EXPECT_TRUE(has(lines, R"(* LIST (\HasNoChildren) "/" "INBOX")")) << lines[0];
    EXPECT_TRUE(has(lines, R"(* LIST (\HasNoChildren \Sent) "/" "Sent")"));
    EXPECT_EQ(lines.back(), "a1 OK LIST completed");
    EXPECT_EQ(cmd(c, "a2", "CREATE a/b").back(), "a2 OK CREATE completed");
    EXPECT_EQ(cmd(c, "a3", "CREATE a/b").back(), "a3 NO [ALREADYEXISTS] Mailbox exists");
    lines = cmd(c, "a4", R"(LIST "" "a%")");
    EXPECT_TRUE(has(lines, R"(* LIST (\Noselect \HasChildren) "/" "a")")) << lines[0];
    lines = cmd(c, "a4b", R"(LIST "" "a/*")");
    EXPECT_TRUE(has(lines, R"(* LIST (\HasNoChildren) "/" "a/b")"));
    EXPECT_EQ(cmd(c, "a5", "RENAME a/b c").back(), "a5 OK RENAME completed");
    EXPECT_EQ(cmd(c, "a6", "RENAME nope d").back(), "a6 NO [NONEXISTENT] Mailbox does not exist");
    EXPECT_EQ(cmd(c, "a7", "DELETE c").back(), "a7 OK DELETE completed");
    EXPECT_EQ(cmd(c, "a8", "DELETE INBOX").back(), "a8 NO [CANNOT] INBOX cannot be deleted");
    EXPECT_EQ(cmd(c, "a9", "CREATE x (USE (\\Flagged))").back(), "a9 OK CREATE completed");
    lines = cmd(c, "b1", R"(LIST (SPECIAL-USE) "" "*")");
    EXPECT_TRUE(has(lines, R"(* LIST (\HasNoChildren \Flagged) "/" "x")")) << lines[0];
    EXPECT_EQ(cmd(c, "b2", "UNSUBSCRIBE Junk").back(), "b2 OK UNSUBSCRIBE completed");
    lines = cmd(c, "b3", R"(LSUB "" "J*")");
    EXPECT_EQ(lines.size(), 1u);
    EXPECT_EQ(cmd(c, "b4", "SUBSCRIBE Junk").back(), "b4 OK SUBSCRIBE completed");
    lines = cmd(c, "b5", R"(LSUB "" "J*")");
    EXPECT_TRUE(has(lines, R"(* LSUB () "/" "Junk")")) << lines[0];
    EXPECT_EQ(append(c, "b6", "INBOX", kMessage, "(\\Seen)").substr(0, 17), "b6 OK [APPENDUID ");
    append(c, "b7", "INBOX", kMessage);
    lines = cmd(c, "b8", "STATUS INBOX (MESSAGES UIDNEXT UNSEEN SIZE)");
    EXPECT_EQ(lines[0], "* STATUS \"INBOX\" (MESSAGES 2 UIDNEXT 3 UNSEEN 1 SIZE " +
                            std::to_string(2 * kMessage.size()) + ")");
    EXPECT_EQ(cmd(c, "b9", "STATUS nope (MESSAGES)").back(), "b9 NO [NONEXISTENT] Mailbox does not exist");
    lines = cmd(c, "c1", "ID NIL");
    EXPECT_EQ(lines[0], R"(* ID ("name" "Tern"))");
    lines = cmd(c, "c2", "ENABLE CONDSTORE");
    EXPECT_EQ(lines[0], "* ENABLED CONDSTORE");
    EXPECT_EQ(cmd(c, "c3", "FETCH 1 FLAGS").back(), "c3 BAD No mailbox selected");
  });
}

TEST_F(MailboxTest, SelectFetchStoreSearchExpunge) {
  run([](Client& c) {
    login(c);
    EXPECT_EQ(append(c, "a1", "INBOX", kMessage, "(\\Flagged)").substr(0, 17), "a1 OK [APPENDUID ");
    EXPECT_EQ(append(c, "a2", "nope", kMessage), "a2 NO [TRYCREATE] Mailbox does not exist");
    append(c, "a3", "INBOX", kMessage);
    auto lines = cmd(c, "a4", "SELECT INBOX");
    EXPECT_TRUE(has(lines, "* 2 EXISTS"));
    EXPECT_TRUE(has(lines, "* 2 RECENT"));
    EXPECT_TRUE(has_prefix(lines, "* OK [UIDVALIDITY "));
    EXPECT_TRUE(has(lines, "* OK [UIDNEXT 3] Predicted next UID")) << lines[5];
    EXPECT_EQ(lines.back(), "a4 OK [READ-WRITE] SELECT completed");
    lines = cmd(c, "a5", "FETCH 1:* (UID FLAGS RFC822.SIZE)");
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent) RFC822.SIZE " +
                            std::to_string(kMessage.size()) + ")");
    c.send("a6 FETCH 2 BODY[]\r\n");
    EXPECT_EQ(c.line(), "* 2 FETCH (BODY[] {" + std::to_string(kMessage.size()) + "}");
    std::string body;
    for (int i = 0; i < 5; ++i) body += c.line() + "\r\n";
    EXPECT_EQ(body, kMessage);
    EXPECT_EQ(c.line(), " FLAGS (\\Seen \\Recent))");
    EXPECT_EQ(c.line(), "a6 OK FETCH completed");
    lines = cmd(c, "a7", "FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT)]");
    EXPECT_EQ(lines[0], "* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}");
    EXPECT_EQ(cmd(c, "a8", "FETCH 3 FLAGS").back(), "a8 BAD Invalid message number");
    lines = cmd(c, "a9", "SEARCH SUBJECT hello UNSEEN");
    EXPECT_EQ(lines[0], "* SEARCH 1");
    lines = cmd(c, "b1", "UID SEARCH RETURN (COUNT) ALL");
    EXPECT_EQ(lines[0], R"(* ESEARCH (TAG "b1") UID COUNT 2)");
    lines = cmd(c, "b2", "STORE 1 +FLAGS (\\Deleted)");
    EXPECT_EQ(lines[0], "* 1 FETCH (FLAGS (\\Flagged \\Deleted \\Recent))");
    EXPECT_EQ(lines.back(), "b2 OK STORE completed");
    lines = cmd(c, "b3", "UID STORE 2 +FLAGS.SILENT (\\Answered)");
    EXPECT_EQ(lines.size(), 1u);
    lines = cmd(c, "b4", "EXPUNGE");
    EXPECT_EQ(lines[0], "* 1 EXPUNGE");
    EXPECT_EQ(lines.back(), "b4 OK EXPUNGE completed");
    lines = cmd(c, "b5", "UID FETCH 1:* FLAGS");
    EXPECT_EQ(lines[0], "* 1 FETCH (UID 2 FLAGS (\\Seen \\Answered \\Recent))");
    EXPECT_EQ(cmd(c, "b6", "STORE 1 +FLAGS (\\Deleted)").back(), "b6 OK STORE completed");
    EXPECT_EQ(cmd(c, "b7", "UID EXPUNGE 1").size(), 1u);  // UID 1 is gone; UID 2 is not in the set
    lines = cmd(c, "b8", "UID EXPUNGE 2");
    EXPECT_EQ(lines[0], "* 1 EXPUNGE");
    lines = cmd(c, "b9", "EXAMINE INBOX");
    EXPECT_TRUE(has(lines, "* 0 EXISTS"));
    EXPECT_EQ(lines.back(), "b9 OK [READ-ONLY] EXAMINE completed");
    EXPECT_EQ(cmd(c, "c1", "STORE 1 +FLAGS (\\Seen)").back(), "c1 NO [READ-ONLY] Mailbox is read-only");
    EXPECT_EQ(cmd(c, "c2", "UNSELECT").back(), "c2 OK UNSELECT completed");
    EXPECT_EQ(cmd(c, "c3", "CHECK").back(), "c3 BAD No mailbox selected");
  });
}

TEST_F(MailboxTest, FetchLeavesOutAMessageWhoseBytesVanished) {
  // What a concurrent expunge does between our listing and the read: the blob is gone. The
  // row is removed underneath the store, with a connection of our own.
  const std::string db_path = (dir_.path() / "tern.db").string();
  run([&](Client& c) {
    login(c);
    append(c, "a1", "INBOX", kMessage);
    append(c, "a2", "INBOX", kMessage + "second\r\n");
    EXPECT_EQ(cmd(c, "a3", "SELECT INBOX").back(), "a3 OK [READ-WRITE] SELECT completed");
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw,
                           "PRAGMA foreign_keys=OFF; DELETE FROM blobs WHERE id = "
                           "(SELECT blob_id FROM messages WHERE uid = 1)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
    auto lines = cmd(c, "a4", "FETCH 1:2 BODY.PEEK[HEADER.FIELDS (SUBJECT)]");
    // Message 1 is left out; message 2 comes whole (its literal is two lines).
    ASSERT_EQ(lines.size(), 5u) << lines[0];
    EXPECT_EQ(lines[0], "* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}");
    EXPECT_EQ(lines[1], "Subject: hello");
    EXPECT_EQ(lines.back(), "a4 OK FETCH completed");
  });
}

TEST_F(MailboxTest, AppendOverTheLimitIsRefusedBeforeItsBytes) {
  config_.limits.max_message_size = 1000;
  run([](Client& c) {
    c.line();
    c.send("l1 LOGIN alice@example.com secret\r\n");
    EXPECT_NE(c.line().find("APPENDLIMIT=1000]"), std::string::npos);
    // RFC 7889 4: NO [TOOBIG] at once, no "+" continuation; the session goes on.
    c.send("a1 APPEND INBOX {1001}\r\n");
    EXPECT_EQ(c.line(), "a1 NO [TOOBIG] Message too large");
    EXPECT_EQ(cmd(c, "a2", "NOOP").back(), "a2 OK NOOP completed");
    // MULTIAPPEND: the second message is too large; nothing is appended.
    c.send("a3 APPEND INBOX {" + std::to_string(kMessage.size()) + "}\r\n");
    EXPECT_EQ(c.line(), "+ Ready for literal data");
    c.send(kMessage + " {5000}\r\n");
    EXPECT_EQ(c.line(), "a3 NO [TOOBIG] Message too large");
    // Other commands get BAD for a literal over the limit, also with no "+".
    c.send("a4 SELECT {5000}\r\n");
    EXPECT_EQ(c.line(), "a4 BAD [TOOBIG] Literal too large");
    auto lines = cmd(c, "a5", "STATUS INBOX (MESSAGES)");
    EXPECT_EQ(lines[0], "* STATUS \"INBOX\" (MESSAGES 0)");
    // A non-synchronizing literal within the limit is read without a continuation.
    c.send("a6 APPEND INBOX {" + std::to_string(kMessage.size()) + "+}\r\n" + kMessage + "\r\n");
    EXPECT_EQ(c.line().substr(0, 17), "a6 OK [APPENDUID ");
    lines = cmd(c, "a7", "STATUS INBOX (MESSAGES)");
    EXPECT_EQ(lines[0], "* STATUS \"INBOX\" (MESSAGES 1)");
  });
}

TEST_F(MailboxTest, CopyMoveAndClose) {
  run([](Client& c) {
    login(c);
    append(c, "a1", "INBOX", kMessage);
    append(c, "a2", "INBOX", kMessage);
    append(c, "a3", "INBOX", kMessage);
    cmd(c, "a4", "SELECT INBOX");
    auto lines = cmd(c, "a5", "COPY 1:2 Trash");
    EXPECT_EQ(lines.back().substr(0, 15), "a5 OK [COPYUID ");
    EXPECT_NE(lines.back().find(" 1:2 1:2] COPY completed"), std::string::npos) << lines.back();
    EXPECT_EQ(cmd(c, "a6", "COPY 1 Nope").back(), "a6 NO [TRYCREATE] Mailbox does not exist");
    lines = cmd(c, "a7", "MOVE 2 Archive");
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].substr(0, 14), "* OK [COPYUID ");
    EXPECT_EQ(lines[1], "* 2 EXPUNGE");
    EXPECT_EQ(lines[2], "a7 OK MOVE completed");
    lines = cmd(c, "a8", "UID MOVE 3 Archive");
    EXPECT_EQ(lines[1], "* 2 EXPUNGE");
    cmd(c, "a9", "STORE 1 +FLAGS.SILENT (\\Deleted)");
    lines = cmd(c, "b1", "CLOSE");
    EXPECT_EQ(lines.size(), 1u);  // CLOSE expunges silently
    lines = cmd(c, "b2", "STATUS INBOX (MESSAGES)");
    EXPECT_EQ(lines[0], "* STATUS \"INBOX\" (MESSAGES 0)");
    lines = cmd(c, "b3", "STATUS Archive (MESSAGES)");
    EXPECT_EQ(lines[0], "* STATUS \"Archive\" (MESSAGES 2)");
  });
}

TEST_F(MailboxTest, IdleEndsWithDone) {
  run([](Client& c) {
    login(c);
    cmd(c, "a1", "SELECT INBOX");
    c.send("a2 IDLE\r\n");
    EXPECT_EQ(c.line(), "+ idling");
    c.send("DONE\r\n");
    EXPECT_EQ(c.line(), "a2 OK IDLE terminated");
    c.send("a3 IDLE\r\n");
    EXPECT_EQ(c.line(), "+ idling");
    c.send("NOPE\r\n");
    EXPECT_EQ(c.line(), "a3 BAD Expected DONE");
  });
}

TEST_F(MailboxTest, IdleIsNotActivity) {
  // RFC 2177 3: the server may log out an idling client after its inactivity timeout; a
  // client must re-issue IDLE to stay connected.
  config_.timeouts.post_auth = std::chrono::seconds(1);
  run([](Client& c) {
    login(c);
    cmd(c, "a1", "SELECT INBOX");
    c.send("a2 IDLE\r\n");
    EXPECT_EQ(c.line(), "+ idling");
    EXPECT_EQ(c.line(), "* BYE Autologout; idle for too long");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

}  // namespace
}  // namespace tern::imap
