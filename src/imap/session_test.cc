// End-to-end behaviour of one IMAP session over loopback TCP, with the real Stream,
// Authenticator and TLS, and an in-memory store.
#include "imap/session.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "base/strings.h"
#include "net/testing/loopback.h"

namespace tern::imap {
namespace {

constexpr config::Protocol kProtocol = config::Protocol::kImap;

// A real session on a loopback connection, driven by a blocking client (net/testing).
using net::testing::Client;

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
    EXPECT_EQ(c.line(), "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN SASL-IR] Tern ready");
    c.send("a1 CAPABILITY\r\n");
    EXPECT_EQ(c.line(), "* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN SASL-IR");
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
    EXPECT_EQ(c.line(), "a2 OK [CAPABILITY IMAP4rev1] Logged in");
    c.send("a3 SELECT INBOX\r\n");
    EXPECT_EQ(c.line(), "a3 NO Not implemented yet");
    c.send("a4 LOGIN alice@example.com secret\r\n");
    EXPECT_EQ(c.line(), "a4 BAD Already authenticated");
    c.send("a5 CAPABILITY\r\n");
    EXPECT_EQ(c.line(), "* CAPABILITY IMAP4rev1");
    EXPECT_EQ(c.line(), "a5 OK CAPABILITY completed");
  });
}

TEST_F(SessionTest, LoginWithQuotedAppPassword) {
  run([](Client& c) {
    c.line();
    c.send("a1 LOGIN \"alice@example.com\" \"app-pass-1\"\r\n");
    EXPECT_EQ(c.line(), "a1 OK [CAPABILITY IMAP4rev1] Logged in");
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
    EXPECT_EQ(c.line(), "a4 OK [CAPABILITY IMAP4rev1] Logged in");
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
    EXPECT_EQ(c.line(), "a6 BAD Literal too large");
    c.send("a7 NOOP\r\n");
    EXPECT_EQ(c.line(), "a7 OK NOOP completed");
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
    EXPECT_EQ(c.line(), "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] Tern ready");
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
    EXPECT_EQ(c.line(), "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Tern ready");
    c.send("a1 STARTTLS\r\na2 LOGIN alice@example.com secret\r\n");
    EXPECT_EQ(c.line(), "a1 OK Begin TLS negotiation now");
    ASSERT_TRUE(c.start_tls());
    c.send("a3 CAPABILITY\r\n");
    // The pipelined plaintext LOGIN was discarded, not answered.
    EXPECT_EQ(c.line(), "* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN SASL-IR");
    EXPECT_EQ(c.line(), "a3 OK CAPABILITY completed");
    c.send("a4 STARTTLS\r\n");
    EXPECT_EQ(c.line(), "a4 BAD TLS already active");
    c.send("a5 LOGIN alice@example.com secret\r\n");
    EXPECT_EQ(c.line(), "a5 OK [CAPABILITY IMAP4rev1] Logged in");
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

}  // namespace
}  // namespace tern::imap
