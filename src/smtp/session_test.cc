// End-to-end behaviour of one SMTP session over loopback TCP, with the real Stream,
// Authenticator and TLS, and an in-memory store.
#include "smtp/session.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "auth/password.h"
#include "base/strings.h"
#include "store/sqlite/sqlite_store.h"
#include "net/testing/loopback.h"

namespace tern::smtp {
namespace {

constexpr config::Protocol kProtocol = config::Protocol::kSubmission;

// A real session on a loopback connection, driven by a blocking client (net/testing).
using net::testing::Client;

std::string b64(std::string_view s) { return base64_encode(s); }

class SessionTest : public net::testing::LoopbackSessionTest {
 protected:
  SessionTest() : LoopbackSessionTest(kProtocol, &run_session) {}
};

bool last_reply_line(const std::string& l) { return l.size() < 4 || l[3] != '-'; }

// The EHLO reply for the test config (50 MiB messages), with or without STARTTLS and AUTH.
std::vector<std::string> ehlo_reply(bool starttls, bool auth) {
  std::vector<std::string> lines = {"250-mail.test", "250-PIPELINING", "250-SIZE 52428800",
                                    "250-8BITMIME", "250-SMTPUTF8", "250-ENHANCEDSTATUSCODES"};
  if (starttls) lines.emplace_back("250-STARTTLS");
  if (auth) lines.emplace_back("250-AUTH PLAIN LOGIN");
  lines.emplace_back("250-CHUNKING");
  lines.emplace_back("250 DSN");
  return lines;
}

TEST_F(SessionTest, GreetsAndAnswersEhloWithoutStartTlsWhenNoCertificate) {
  run([](Client& c) {
    EXPECT_EQ(c.line(), "220 mail.test ESMTP Tern");
    c.send("EHLO client.example\r\n");
    auto lines = c.lines_until(last_reply_line);
    EXPECT_EQ(lines, ehlo_reply(false, true));
    c.send("HELO client.example\r\n");
    EXPECT_EQ(c.line(), "250 mail.test");
    c.send("NOOP\r\n");
    EXPECT_EQ(c.line(), "250 2.0.0 OK");
    c.send("RSET\r\n");
    EXPECT_EQ(c.line(), "250 2.0.0 OK");
    c.send("VRFY alice\r\n");
    EXPECT_EQ(c.line().substr(0, 10), "252 2.5.2 ");
    c.send("HELP\r\n");
    EXPECT_EQ(c.line().substr(0, 10), "214 2.0.0 ");
    c.send("STARTTLS\r\n");
    EXPECT_EQ(c.line(), "454 4.7.0 TLS not available");
    c.send("QUIT\r\n");
    EXPECT_EQ(c.line(), "221 2.0.0 mail.test Bye");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

TEST_F(SessionTest, AnswersErrorsAndGoesOn) {
  config_.limits.max_line_length = 100;
  run([](Client& c) {
    c.line();
    c.send("FOO bar\r\n");
    EXPECT_EQ(c.line(), "500 5.5.2 Syntax error, command unrecognized");
    c.send("EHLO\r\n");
    EXPECT_EQ(c.line(), "501 5.5.4 Syntax: EHLO hostname");
    c.send("MAIL FROM:<a@b.example>\r\n");
    EXPECT_EQ(c.line(), "503 5.5.1 Send EHLO or HELO first");
    c.send("DATA\r\n");
    EXPECT_EQ(c.line(), "503 5.5.1 Need MAIL command first");
    c.send("AUTH PLAIN\r\n");
    EXPECT_EQ(c.line(), "503 5.5.1 Send EHLO first");
    c.send("NOOP " + std::string(200, 'x') + "\r\n");
    EXPECT_EQ(c.line(), "500 5.5.2 Line too long");
    c.send("NOOP\r\n");
    EXPECT_EQ(c.line(), "250 2.0.0 OK");
  });
}

TEST_F(SessionTest, ClosesAfterTooManyErrors) {
  config_.smtp.max_errors = 3;
  run([](Client& c) {
    c.line();
    c.send("X\r\nY\r\nZ\r\nNOOP\r\n");
    EXPECT_EQ(c.line().substr(0, 4), "500 ");
    EXPECT_EQ(c.line().substr(0, 4), "500 ");
    EXPECT_EQ(c.line().substr(0, 4), "500 ");
    EXPECT_EQ(c.line(), "421 4.7.0 mail.test Too many errors, closing connection");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

TEST_F(SessionTest, AuthPlainWithInitialResponse) {
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\n");
    c.lines_until(last_reply_line);
    std::string bad = b64(std::string("\0alice@example.com\0wrong", 24));
    c.send("AUTH PLAIN " + bad + "\r\n");
    EXPECT_EQ(c.line(), "535 5.7.8 Authentication credentials invalid");
    std::string good = b64(std::string("\0alice@example.com\0secret", 25));
    c.send("AUTH PLAIN " + good + "\r\n");
    EXPECT_EQ(c.line(), "235 2.7.0 Authentication successful");
    c.send("AUTH PLAIN " + good + "\r\n");
    EXPECT_EQ(c.line(), "503 5.5.1 Already authenticated");
  });
}

TEST_F(SessionTest, AuthPlainChallengeAppPasswordAndCancel) {
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\n");
    c.lines_until(last_reply_line);
    c.send("AUTH PLAIN\r\n");
    EXPECT_EQ(c.line(), "334 ");
    c.send("*\r\n");
    EXPECT_EQ(c.line(), "501 5.0.0 Authentication cancelled");
    c.send("AUTH PLAIN\r\n");
    EXPECT_EQ(c.line(), "334 ");
    c.send("!!!notbase64\r\n");
    EXPECT_EQ(c.line(), "501 5.5.2 Cannot decode response");
    c.send("AUTH CRAM-MD5\r\n");
    EXPECT_EQ(c.line(), "504 5.5.4 Unrecognized authentication type");
    c.send("AUTH PLAIN =\r\n");
    EXPECT_EQ(c.line(), "334 ");
    c.send(b64(std::string("\0alice@example.com\0app-pass-1", 29)) + "\r\n");
    EXPECT_EQ(c.line(), "235 2.7.0 Authentication successful");
  });
}

TEST_F(SessionTest, AuthLogin) {
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\n");
    c.lines_until(last_reply_line);
    c.send("AUTH LOGIN\r\n");
    EXPECT_EQ(c.line(), "334 VXNlcm5hbWU6");
    c.send(b64("alice@example.com") + "\r\n");
    EXPECT_EQ(c.line(), "334 UGFzc3dvcmQ6");
    c.send("*\r\n");
    EXPECT_EQ(c.line(), "501 5.0.0 Authentication cancelled");
    c.send("AUTH LOGIN " + b64("alice@example.com") + "\r\n");
    EXPECT_EQ(c.line(), "334 UGFzc3dvcmQ6");
    c.send(b64("secret") + "\r\n");
    EXPECT_EQ(c.line(), "235 2.7.0 Authentication successful");
  });
}

TEST_F(SessionTest, RefusesPlaintextAuthUnlessAllowed) {
  config_.auth.allow_plaintext = false;
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\n");
    EXPECT_EQ(c.lines_until(last_reply_line), ehlo_reply(false, false));
    c.send("AUTH PLAIN " + b64(std::string("\0alice@example.com\0secret", 25)) + "\r\n");
    EXPECT_EQ(c.line(), "538 5.7.11 Encryption required for requested authentication mechanism");
  });
}

TEST_F(SessionTest, MxListenerOffersNoAuth) {
  listener_.protocol = config::Protocol::kSmtp;
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\n");
    EXPECT_EQ(c.lines_until(last_reply_line), ehlo_reply(false, false));
    c.send("AUTH PLAIN " + b64(std::string("\0alice@example.com\0secret", 25)) + "\r\n");
    EXPECT_EQ(c.line().substr(0, 10), "503 5.5.1 ");
  });
}

TEST_F(SessionTest, StartTlsUpgradesAndResetsState) {
  config_.auth.allow_plaintext = false;
  use_tls();
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\n");
    EXPECT_EQ(c.lines_until(last_reply_line), ehlo_reply(true, false));
    // The NOOP pipelined after STARTTLS is plaintext an attacker could inject: dropped.
    c.send("STARTTLS\r\nNOOP\r\n");
    EXPECT_EQ(c.line(), "220 2.0.0 Ready to start TLS");
    ASSERT_TRUE(c.start_tls());
    c.send("AUTH PLAIN " + b64(std::string("\0alice@example.com\0secret", 25)) + "\r\n");
    EXPECT_EQ(c.line(), "503 5.5.1 Send EHLO first");
    c.send("EHLO c\r\n");
    EXPECT_EQ(c.lines_until(last_reply_line), ehlo_reply(false, true));
    c.send("STARTTLS\r\n");
    EXPECT_EQ(c.line(), "503 5.5.1 TLS already active");
    c.send("AUTH PLAIN " + b64(std::string("\0alice@example.com\0secret", 25)) + "\r\n");
    EXPECT_EQ(c.line(), "235 2.7.0 Authentication successful");
    c.send("QUIT\r\n");
    EXPECT_EQ(c.line(), "221 2.0.0 mail.test Bye");
  });
}

TEST_F(SessionTest, TimesOutIdleClients) {
  config_.timeouts.pre_auth = std::chrono::seconds(1);  // submission before AUTH
  run([](Client& c) {
    c.line();
    EXPECT_EQ(c.line(), "421 4.4.2 mail.test Error: timeout exceeded");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

TEST_F(SessionTest, ClosesAfterTheCommandWhenStopping) {
  run([this](Client& c) {
    c.line();
    stopping_ = true;
    c.send("NOOP\r\n");
    EXPECT_EQ(c.line(), "250 2.0.0 OK");
    EXPECT_EQ(c.line(), "421 4.3.2 mail.test Service shutting down");
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

// ---- The mail transaction, against a real (SQLite, temporary) store.

class TransactionTest : public SessionTest {
 protected:
  void SetUp() override {
    auto opened = store::open_sqlite_store({(dir_.path() / "tern.db").string(), 2}, nullptr);
    ASSERT_TRUE(opened) << opened.error().to_string();
    db_ = std::move(*opened);
    ASSERT_TRUE(db_->add_domain("example.com"));
    auto alice = db_->add_account("alice@example.com", auth::hash_password("secret").value());
    ASSERT_TRUE(alice);
    ASSERT_TRUE(db_->add_account("bob@example.com", auth::hash_password("secret").value()));
    std::vector<std::string> targets = {"alice@example.com"};
    ASSERT_TRUE(db_->add_alias("sales@example.com", targets));
    store_override_ = db_.get();
  }

  // Every message in the account's INBOX, as stored.
  std::vector<std::string> inbox(const std::string& address) {
    std::vector<std::string> out;
    auto account = db_->find_account(address);
    EXPECT_TRUE(account && account->has_value());
    if (!account || !account->has_value()) return out;
    auto box = db_->find_mailbox((*account)->id, "INBOX");
    EXPECT_TRUE(box && box->has_value());
    auto messages = db_->list_messages((*box)->id);
    EXPECT_TRUE(messages);
    for (const store::Message& m : *messages) out.push_back(db_->read_blob(m.blob_id).value());
    return out;
  }

  void use_mx() { listener_.protocol = config::Protocol::kSmtp; }

  std::unique_ptr<store::MailStore> db_;
};

// The stored message without the trace fields Tern put on top (Return-Path, Received).
std::string without_trace(const std::string& stored) {
  std::size_t pos = 0;
  auto starts = [&](std::string_view p) { return stored.compare(pos, p.size(), p) == 0; };
  if (starts("Return-Path: ")) pos = stored.find("\r\n", pos) + 2;
  if (starts("Received: ")) {
    pos = stored.find("\r\n", pos) + 2;
    while (pos < stored.size() && stored[pos] == '\t') pos = stored.find("\r\n", pos) + 2;
  }
  return stored.substr(pos);
}

TEST_F(TransactionTest, MxDeliversTheBytesSentWithTraceHeaders) {
  use_mx();
  run([](Client& c) {
    c.line();
    c.send("EHLO client.example\r\n");
    c.lines_until(last_reply_line);
    c.send("MAIL FROM:<Bob@Remote.Example> BODY=8BITMIME\r\n");
    EXPECT_EQ(c.line(), "250 2.1.0 Sender OK");
    c.send("RCPT TO:<Alice@EXAMPLE.com>\r\n");
    EXPECT_EQ(c.line(), "250 2.1.5 Recipient OK");
    c.send("DATA\r\n");
    EXPECT_EQ(c.line(), "354 End data with <CR><LF>.<CR><LF>");
    c.send("Subject: hi\r\n\r\nline one\r\n..starts with a dot\r\n.\r\n");
    EXPECT_EQ(c.line().substr(0, 19), "250 2.0.0 OK: queue");
    c.send("QUIT\r\n");
    EXPECT_EQ(c.line(), "221 2.0.0 mail.test Bye");
  });
  auto got = inbox("alice@example.com");
  ASSERT_EQ(got.size(), 1u);
  const std::string& m = got[0];
  EXPECT_EQ(m.rfind("Return-Path: <Bob@Remote.Example>\r\nReceived: from client.example ([127.0.0.1])\r\n"
                    "\tby mail.test (Tern) with ESMTP id ", 0), 0u) << m;
  EXPECT_NE(m.find("\tfor <Alice@EXAMPLE.com>; "), std::string::npos) << m;
  EXPECT_EQ(without_trace(m), "Subject: hi\r\n\r\nline one\r\n.starts with a dot\r\n");
  EXPECT_TRUE(inbox("bob@example.com").empty());
}

TEST_F(TransactionTest, PipelinedCommandsAreAnsweredInOrder) {
  use_mx();
  run([](Client& c) {
    c.line();
    c.send("EHLO client.example\r\n");
    c.lines_until(last_reply_line);
    c.send("MAIL FROM:<x@remote.example>\r\nRCPT TO:<nobody@example.com>\r\n"
           "RCPT TO:<someone@elsewhere.org>\r\nRCPT TO:<sales@example.com>\r\n"
           "RCPT TO:<bob+tag@example.com>\r\nDATA\r\n");
    EXPECT_EQ(c.line(), "250 2.1.0 Sender OK");
    EXPECT_EQ(c.line(), "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown");
    EXPECT_EQ(c.line(), "554 5.7.1 <someone@elsewhere.org>: Relay access denied");
    EXPECT_EQ(c.line(), "250 2.1.5 Recipient OK");
    EXPECT_EQ(c.line(), "250 2.1.5 Recipient OK");
    EXPECT_EQ(c.line(), "354 End data with <CR><LF>.<CR><LF>");
    c.send("Subject: two\r\n\r\nbody\r\n.\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n");
    EXPECT_EQ(c.line().substr(0, 12), "250 2.0.0 OK");
    EXPECT_EQ(c.line(), "250 2.0.0 OK");
    EXPECT_EQ(c.line(), "250 2.1.0 Sender OK");
    EXPECT_EQ(c.line(), "250 2.1.5 Recipient OK");
    EXPECT_EQ(c.line(), "354 End data with <CR><LF>.<CR><LF>");
    c.send(".\r\n");
    EXPECT_EQ(c.line().substr(0, 12), "250 2.0.0 OK");
  });
  auto alice = inbox("alice@example.com");
  ASSERT_EQ(alice.size(), 2u);
  EXPECT_EQ(without_trace(alice[0]), "Subject: two\r\n\r\nbody\r\n");
  EXPECT_EQ(alice[1].rfind("Return-Path: <>\r\n", 0), 0u);
  EXPECT_EQ(without_trace(alice[1]), "");
  auto bob = inbox("bob@example.com");
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_EQ(without_trace(bob[0]), "Subject: two\r\n\r\nbody\r\n");
}

TEST_F(TransactionTest, SmugglingWithBareLineEndsDoesNotSplitTheMessage) {
  use_mx();
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\nMAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n");
    c.lines_until([](const std::string& l) { return l.rfind("354", 0) == 0 || l == "<EOF>"; });
    // Three would-be ends of data that other servers honour; only CRLF.CRLF counts.
    c.send("Subject: a\r\n\r\none\n.\nMAIL FROM:<evil@x>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n"
           "two\n.\r\nRCPT TO:<bob@example.com>\r\nthree\r\n.\nDATA\r\nend\r\n.\r\nNOOP\r\n");
    EXPECT_EQ(c.line().substr(0, 12), "250 2.0.0 OK");
    EXPECT_EQ(c.line(), "250 2.0.0 OK");  // the NOOP, not a smuggled command
  });
  auto alice = inbox("alice@example.com");
  ASSERT_EQ(alice.size(), 1u);
  // Bare LFs are stored as CRLF (smtp.bare_lf = normalize), the dots unstuffed as lines.
  EXPECT_EQ(without_trace(alice[0]),
            "Subject: a\r\n\r\none\r\n\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<bob@example.com>\r\n"
            "DATA\r\ntwo\r\n\r\nRCPT TO:<bob@example.com>\r\nthree\r\n\r\nDATA\r\nend\r\n");
  EXPECT_TRUE(inbox("bob@example.com").empty());
}

TEST_F(TransactionTest, BareCrAndNulAreRefusedAndNothingIsStored) {
  use_mx();
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\n");
    c.lines_until(last_reply_line);
    c.send("MAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n");
    c.line();
    c.line();
    EXPECT_EQ(c.line().substr(0, 3), "354");
    c.send("Subject: a\r\n\r\none\r.\rMAIL FROM:<evil@x>\r\n.\r\n");
    EXPECT_EQ(c.line().substr(0, 10), "550 5.6.0 ");
    c.send("MAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n");
    c.line();
    c.line();
    EXPECT_EQ(c.line().substr(0, 3), "354");
    c.send(std::string("Subject: a\r\n\r\nnul \0 here\r\n.\r\n", 29));
    EXPECT_EQ(c.line().substr(0, 10), "550 5.6.0 ");
    c.send("NOOP\r\n");
    EXPECT_EQ(c.line(), "250 2.0.0 OK");
  });
  EXPECT_TRUE(inbox("alice@example.com").empty());
}

TEST_F(TransactionTest, BareLfIsRefusedWhenConfigured) {
  use_mx();
  config_.smtp.bare_lf = config::BareLf::kReject;
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\nMAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n");
    c.lines_until([](const std::string& l) { return l.rfind("354", 0) == 0 || l == "<EOF>"; });
    c.send("Subject: a\r\n\r\nbare\nlf\r\n.\r\n");
    EXPECT_EQ(c.line().substr(0, 10), "550 5.6.0 ");
  });
  EXPECT_TRUE(inbox("alice@example.com").empty());
}

TEST_F(TransactionTest, SizeLimitAtMailAndInData) {
  use_mx();
  config_.limits.max_message_size = 1000;
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\n");
    auto lines = c.lines_until(last_reply_line);
    EXPECT_EQ(lines[2], "250-SIZE 1000");
    c.send("MAIL FROM:<x@remote.example> SIZE=1001\r\n");
    EXPECT_EQ(c.line(), "552 5.3.4 Message size exceeds fixed maximum message size");
    c.send("MAIL FROM:<x@remote.example> SIZE=500\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n");
    c.line();
    c.line();
    EXPECT_EQ(c.line().substr(0, 3), "354");
    std::string big = "Subject: big\r\n\r\n";
    for (int i = 0; i < 100; ++i) big += std::string(70, 'x') + "\r\n";
    c.send(big + ".\r\n");
    EXPECT_EQ(c.line().substr(0, 10), "552 5.3.4 ");
    c.send("NOOP\r\n");
    EXPECT_EQ(c.line(), "250 2.0.0 OK");
  });
  EXPECT_TRUE(inbox("alice@example.com").empty());
}

TEST_F(TransactionTest, BdatChunksAreStoredVerbatim) {
  use_mx();
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\n");
    c.lines_until(last_reply_line);
    c.send("BDAT 5\r\nhello");
    EXPECT_EQ(c.line(), "503 5.5.1 Need MAIL command first");
    c.send("MAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@example.com>\r\n");
    c.line();
    c.line();
    std::string one = "Subject: chunks\r\n\r\n";
    std::string two = "a\r\n.\r\n..b\r\n";  // dots are data in BDAT
    c.send("BDAT " + std::to_string(one.size()) + "\r\n" + one);
    EXPECT_EQ(c.line(), "250 2.0.0 " + std::to_string(one.size()) + " octets received");
    c.send("BDAT " + std::to_string(two.size()) + " LAST\r\n" + two + "NOOP\r\n");
    EXPECT_EQ(c.line().substr(0, 12), "250 2.0.0 OK");
    EXPECT_EQ(c.line(), "250 2.0.0 OK");
  });
  auto got = inbox("alice@example.com");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(without_trace(got[0]), "Subject: chunks\r\n\r\na\r\n.\r\n..b\r\n");
}

TEST_F(TransactionTest, SubmissionChecksTheSenderAndQueuesRemoteRecipients) {
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\n");
    c.lines_until(last_reply_line);
    c.send("MAIL FROM:<alice@example.com>\r\n");
    EXPECT_EQ(c.line(), "530 5.7.0 Authentication required");
    c.send("AUTH PLAIN " + b64(std::string("\0alice@example.com\0secret", 25)) + "\r\n");
    EXPECT_EQ(c.line(), "235 2.7.0 Authentication successful");
    c.send("MAIL FROM:<bob@example.com>\r\n");
    EXPECT_EQ(c.line(), "553 5.7.1 <bob@example.com>: Sender address not owned by user alice@example.com");
    c.send("MAIL FROM:<sales@example.com> RET=HDRS ENVID=id+2B1\r\n");
    EXPECT_EQ(c.line(), "250 2.1.0 Sender OK");
    c.send("RCPT TO:<Friend@Remote.Example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;friend@remote.example\r\n");
    EXPECT_EQ(c.line(), "250 2.1.5 Recipient OK");
    c.send("RCPT TO:<bob@example.com>\r\n");
    EXPECT_EQ(c.line(), "250 2.1.5 Recipient OK");
    c.send("DATA\r\n");
    EXPECT_EQ(c.line().substr(0, 3), "354");
    c.send("Subject: out\r\n\r\nhello\r\n.\r\n");
    EXPECT_EQ(c.line().substr(0, 12), "250 2.0.0 OK");
  });
  auto bob = inbox("bob@example.com");
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_EQ(bob[0].rfind("Return-Path: <sales@example.com>\r\nReceived: from c ([127.0.0.1])\r\n"
                         "\tby mail.test (Tern) with ESMTPA id ", 0), 0u) << bob[0];
  // RFC 6409 8: Date and Message-ID added to a message that lacks them.
  std::string body = without_trace(bob[0]);
  EXPECT_EQ(body.rfind("Date: ", 0), 0u) << body;
  EXPECT_NE(body.find("\r\nMessage-ID: <"), std::string::npos) << body;
  EXPECT_NE(body.find("@mail.test>\r\nSubject: out\r\n\r\nhello\r\n"), std::string::npos) << body;

  auto queue = db_->list_queue();
  ASSERT_TRUE(queue);
  ASSERT_EQ(queue->size(), 1u);
  const store::QueueEntry& q = queue->front();
  EXPECT_EQ(q.message.sender, "sales@example.com");
  EXPECT_EQ(q.message.envid, "id+1");
  EXPECT_EQ(q.message.ret, store::DsnRet::kHdrs);
  ASSERT_EQ(q.message.recipients.size(), 1u);
  EXPECT_EQ(q.message.recipients[0].address, "Friend@Remote.Example");
  EXPECT_EQ(q.message.recipients[0].notify, store::kNotifySuccess | store::kNotifyFailure);
  EXPECT_EQ(q.message.recipients[0].orcpt, "rfc822;friend@remote.example");
  EXPECT_EQ(q.message.recipients[0].state, store::QueueState::kQueued);
  // One stored copy: the queue skips the Return-Path line that local copies carry.
  std::string queued = db_->read_blob(q.blob_id).value();
  EXPECT_EQ(queued, bob[0]);
  EXPECT_EQ(queued.substr(q.message.skip).rfind("Received: ", 0), 0u);
}

TEST_F(TransactionTest, SubmissionKeepsDateAndMessageIdItWasGiven) {
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\nAUTH PLAIN " + b64(std::string("\0alice@example.com\0secret", 25)) + "\r\n");
    c.lines_until([](const std::string& l) { return l.rfind("235", 0) == 0 || l == "<EOF>"; });
    c.send("MAIL FROM:<alice@example.com>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n");
    c.line();
    c.line();
    EXPECT_EQ(c.line().substr(0, 3), "354");
    c.send("Date: Mon, 2 Nov 2026 10:00:00 +0100\r\nmessage-id: <x@y>\r\n\r\nhi\r\n.\r\n");
    EXPECT_EQ(c.line().substr(0, 12), "250 2.0.0 OK");
  });
  auto got = inbox("alice@example.com");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(without_trace(got[0]), "Date: Mon, 2 Nov 2026 10:00:00 +0100\r\nmessage-id: <x@y>\r\n\r\nhi\r\n");
}

TEST_F(TransactionTest, RecipientAndLineLimits) {
  use_mx();
  config_.smtp.max_recipients = 2;
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\n");
    c.lines_until(last_reply_line);
    c.send("NOOP " + std::string(600, 'x') + "\r\n");
    EXPECT_EQ(c.line(), "500 5.5.2 Command line too long");
    c.send("MAIL FROM:<x@remote.example>\r\nRCPT TO:<alice@example.com>\r\n"
           "RCPT TO:<bob@example.com>\r\nRCPT TO:<sales@example.com>\r\n");
    EXPECT_EQ(c.line(), "250 2.1.0 Sender OK");
    EXPECT_EQ(c.line(), "250 2.1.5 Recipient OK");
    EXPECT_EQ(c.line(), "250 2.1.5 Recipient OK");
    EXPECT_EQ(c.line(), "452 4.5.3 Too many recipients");
    c.send("MAIL FROM:<y@remote.example>\r\n");
    EXPECT_EQ(c.line(), "503 5.5.1 Nested MAIL command");
    c.send("RSET\r\nDATA\r\n");
    EXPECT_EQ(c.line(), "250 2.0.0 OK");
    EXPECT_EQ(c.line(), "503 5.5.1 Need MAIL command first");
    c.send("MAIL FROM:<y@remote.example>\r\nRCPT TO:<nobody@example.com>\r\nDATA\r\n");
    EXPECT_EQ(c.line(), "250 2.1.0 Sender OK");
    EXPECT_EQ(c.line().substr(0, 10), "550 5.1.1 ");
    EXPECT_EQ(c.line(), "554 5.5.1 No valid recipients");
  });
}

}  // namespace
}  // namespace tern::smtp
