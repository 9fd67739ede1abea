// End-to-end behaviour of one POP3 session over loopback TCP, with the real Stream,
// Authenticator and TLS, and an in-memory store.
#include "pop3/session.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "base/strings.h"
#include "net/testing/loopback.h"

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
    std::vector<std::string> want = {"+OK Capability list follows", "USER", "SASL PLAIN LOGIN",
                                     "RESP-CODES", "AUTH-RESP-CODE", "IMPLEMENTATION Tern", "."};
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
    EXPECT_EQ(c.line(), "+OK Logged in");
    c.send("STAT\r\n");
    EXPECT_EQ(c.line(), "-ERR Not implemented yet");
    c.send("RETR 1\r\n");
    EXPECT_EQ(c.line(), "-ERR Not implemented yet");
    c.send("NOOP\r\n");
    EXPECT_EQ(c.line(), "+OK");
    c.send("USER alice@example.com\r\n");
    EXPECT_EQ(c.line(), "-ERR Already logged in");
    c.send("CAPA\r\n");
    auto lines = c.lines_until(dot);
    std::vector<std::string> want = {"+OK Capability list follows", "RESP-CODES",
                                     "AUTH-RESP-CODE", "IMPLEMENTATION Tern", "."};
    EXPECT_EQ(lines, want);
    c.send("QUIT\r\n");
    EXPECT_EQ(c.line(), "+OK Tern POP3 server signing off");
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
    EXPECT_EQ(c.line(), "+OK Logged in");
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
    std::vector<std::string> want = {"+OK Capability list follows", "RESP-CODES",
                                     "AUTH-RESP-CODE", "IMPLEMENTATION Tern", "."};
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
    std::vector<std::string> want = {"+OK Capability list follows", "USER", "SASL PLAIN LOGIN",
                                     "RESP-CODES", "AUTH-RESP-CODE", "IMPLEMENTATION Tern", "."};
    EXPECT_EQ(lines, want);
    c.send("STLS\r\n");
    EXPECT_EQ(c.line(), "-ERR TLS already active");
    c.send("USER alice@example.com\r\nPASS secret\r\n");
    EXPECT_EQ(c.line(), "+OK Send PASS");
    EXPECT_EQ(c.line(), "+OK Logged in");
  });
}

TEST_F(SessionTest, ClosesOnTimeout) {
  config_.timeouts.pre_auth = std::chrono::seconds(1);
  run([](Client& c) {
    c.line();
    EXPECT_EQ(c.line(), "<EOF>");
  });
}

}  // namespace
}  // namespace tern::pop3
