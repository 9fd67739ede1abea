// End-to-end behaviour of one SMTP session over loopback TCP, with the real Stream,
// Authenticator and TLS, and an in-memory store.
#include "smtp/session.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "base/strings.h"
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

TEST_F(SessionTest, GreetsAndAnswersEhloWithoutStartTlsWhenNoCertificate) {
  run([](Client& c) {
    EXPECT_EQ(c.line(), "220 mail.test ESMTP Tern");
    c.send("EHLO client.example\r\n");
    auto lines = c.lines_until(last_reply_line);
    std::vector<std::string> want = {"250-mail.test", "250-ENHANCEDSTATUSCODES",
                                     "250 AUTH PLAIN LOGIN"};
    EXPECT_EQ(lines, want);
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
    EXPECT_EQ(c.line(), "502 5.5.1 Command not implemented");
    c.send("DATA\r\n");
    EXPECT_EQ(c.line(), "502 5.5.1 Command not implemented");
    c.send("AUTH PLAIN\r\n");
    EXPECT_EQ(c.line(), "503 5.5.1 Send EHLO first");
    c.send("NOOP " + std::string(200, 'x') + "\r\n");
    EXPECT_EQ(c.line(), "500 5.5.6 Line too long");
    c.send("NOOP\r\n");
    EXPECT_EQ(c.line(), "250 2.0.0 OK");
  });
}

TEST_F(SessionTest, ClosesAfterTooManyErrors) {
  config_.limits.max_errors = 3;
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
    auto lines = c.lines_until(last_reply_line);
    std::vector<std::string> want = {"250-mail.test", "250 ENHANCEDSTATUSCODES"};
    EXPECT_EQ(lines, want);
    c.send("AUTH PLAIN " + b64(std::string("\0alice@example.com\0secret", 25)) + "\r\n");
    EXPECT_EQ(c.line(), "538 5.7.11 Encryption required for requested authentication mechanism");
  });
}

TEST_F(SessionTest, MxListenerOffersNoAuth) {
  listener_.protocol = config::Protocol::kSmtp;
  run([](Client& c) {
    c.line();
    c.send("EHLO c\r\n");
    auto lines = c.lines_until(last_reply_line);
    std::vector<std::string> want = {"250-mail.test", "250 ENHANCEDSTATUSCODES"};
    EXPECT_EQ(lines, want);
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
    auto lines = c.lines_until(last_reply_line);
    std::vector<std::string> want = {"250-mail.test", "250-ENHANCEDSTATUSCODES", "250 STARTTLS"};
    EXPECT_EQ(lines, want);
    // The NOOP pipelined after STARTTLS is plaintext an attacker could inject: dropped.
    c.send("STARTTLS\r\nNOOP\r\n");
    EXPECT_EQ(c.line(), "220 2.0.0 Ready to start TLS");
    ASSERT_TRUE(c.start_tls());
    c.send("AUTH PLAIN " + b64(std::string("\0alice@example.com\0secret", 25)) + "\r\n");
    EXPECT_EQ(c.line(), "503 5.5.1 Send EHLO first");
    c.send("EHLO c\r\n");
    lines = c.lines_until(last_reply_line);
    want = {"250-mail.test", "250-ENHANCEDSTATUSCODES", "250 AUTH PLAIN LOGIN"};
    EXPECT_EQ(lines, want);
    c.send("STARTTLS\r\n");
    EXPECT_EQ(c.line(), "503 5.5.1 TLS already active");
    c.send("AUTH PLAIN " + b64(std::string("\0alice@example.com\0secret", 25)) + "\r\n");
    EXPECT_EQ(c.line(), "235 2.7.0 Authentication successful");
    c.send("QUIT\r\n");
    EXPECT_EQ(c.line(), "221 2.0.0 mail.test Bye");
  });
}

TEST_F(SessionTest, TimesOutIdleClients) {
  config_.timeouts.smtp = std::chrono::seconds(1);
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

}  // namespace
}  // namespace tern::smtp
