#include "smtp/client.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace tern::smtp {
namespace {

store::OutboundMessage dsn_message() {
  store::OutboundMessage m;
  m.sender = "alice@example.org";
  m.envid = "QQ 314+";
  m.ret = store::DsnRet::kHdrs;
  m.eightbit = true;
  m.smtputf8 = true;
  m.recipients = {{"bob@remote.test", store::kNotifySuccess | store::kNotifyFailure, "rfc822;bob=@remote.test",
                   store::QueueState::kQueued, ""},
                  {"carol@remote.test", store::kNotifyNever, "", store::QueueState::kQueued, ""},
                  {"dave@remote.test", 0, "", store::QueueState::kQueued, ""}};
  return m;
}

TEST(ClientCommands, PassOnOnlyWhatTheServerOffers) {
  const store::OutboundMessage m = dsn_message();
  proto::Extensions none;
  EXPECT_EQ(mail_command(m, 100, none), "MAIL FROM:<alice@example.org>\r\n");
  EXPECT_EQ(rcpt_command(m.recipients[0], none), "RCPT TO:<bob@remote.test>\r\n");
  proto::Extensions all;
  all.size = all.eightbitmime = all.smtputf8 = all.dsn = true;
  EXPECT_EQ(mail_command(m, 100, all),
            "MAIL FROM:<alice@example.org> SIZE=100 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ+20314+2B\r\n");
  EXPECT_EQ(rcpt_command(m.recipients[0], all),
            "RCPT TO:<bob@remote.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+3D@remote.test\r\n");
  EXPECT_EQ(rcpt_command(m.recipients[1], all), "RCPT TO:<carol@remote.test> NOTIFY=NEVER\r\n");
  EXPECT_EQ(rcpt_command(m.recipients[2], all), "RCPT TO:<dave@remote.test>\r\n");
  store::OutboundMessage bounce;
  EXPECT_EQ(mail_command(bounce, 5, none), "MAIL FROM:<>\r\n");
}

namespace asio = boost::asio;

// A scripted server: the greeting, then for each command line the next reply of its verb
// (EHLO, MAIL, RCPT, DATA, "." for the end of data, QUIT). Records everything it read.
struct ScriptedServer {
  std::string greeting = "220 peer.test ESMTP";
  std::string ehlo = "250-peer.test\r\n250-DSN\r\n250 SIZE 1000";
  std::string mail = "250 ok";
  std::deque<std::string> rcpt;
  std::string data = "354 go";
  std::string end = "250 2.0.0 queued";
  std::string received;
  std::string body;

  asio::awaitable<void> run(asio::ip::tcp::acceptor& acceptor) {
    auto sock = co_await acceptor.async_accept(asio::use_awaitable);
    boost::system::error_code ec;
    auto say = [&](const std::string& r) -> asio::awaitable<void> {
      std::string line = r + "\r\n";
      co_await asio::async_write(sock, asio::buffer(line), asio::redirect_error(asio::use_awaitable, ec));
    };
    co_await say(greeting);
    asio::streambuf buf;
    bool in_data = false;
    for (;;) {
      std::size_t n = co_await asio::async_read_until(sock, buf, in_data ? "\r\n.\r\n" : "\r\n",
                                                       asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      std::string got(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
      buf.consume(n);
      if (in_data) {
        body = got;
        in_data = false;
        co_await say(end);
        continue;
      }
      received += got;
      const std::string verb = got.substr(0, 4);
      if (verb == "EHLO") co_await say(ehlo);
      else if (verb == "MAIL") co_await say(mail);
      else if (verb == "RCPT") {
        const std::string r = rcpt.empty() ? "250 ok" : rcpt.front();
        if (!rcpt.empty()) rcpt.pop_front();
        co_await say(r);
      } else if (verb == "DATA") {
        co_await say(data);
        in_data = data.rfind("354", 0) == 0;
      } else if (verb == "QUIT") {
        const std::string bye = "221 bye";
        co_await say(bye);
        co_return;
      } else {
        const std::string what = "500 what";
        co_await say(what);
      }
    }
  }
};

SendReport deliver_to(ScriptedServer& server, const store::OutboundMessage& m, std::string_view bytes) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  SendReport report;
  auto serve = [&]() -> asio::awaitable<void> { co_await server.run(acceptor); };
  auto client = [&]() -> asio::awaitable<void> {
    std::vector<std::size_t> all;
    for (std::size_t i = 0; i < m.recipients.size(); ++i) all.push_back(i);
    const ClientOptions options;
    const auto endpoint = acceptor.local_endpoint();
    report = co_await send(endpoint, options, m, all, bytes);
  };
  asio::co_spawn(io, serve, asio::detached);
  asio::co_spawn(io, client, asio::detached);
  io.run();
  return report;
}

TEST(ClientSend, DeliversDotStuffedWithPerRecipientOutcomes) {
  ScriptedServer server;
  server.rcpt = {"250 ok", "550 5.1.1 no such user", "451 4.7.1 later"};
  store::OutboundMessage m = dsn_message();
  m.smtputf8 = false;
  m.skip = 13;
  const std::string bytes = "Return-Path: Subject: x\r\n\r\n.dot\r\nend";
  SendReport r = deliver_to(server, m, bytes);
  EXPECT_TRUE(r.connected);
  ASSERT_EQ(r.outcomes.size(), 3u);
  std::map<std::size_t, store::RecipientOutcome> by;
  for (const auto& o : r.outcomes) by[o.index] = o;
  EXPECT_EQ(by[0].state, store::QueueState::kDelivered);
  EXPECT_EQ(by[0].reply, "250 2.0.0 queued");
  EXPECT_EQ(by[1].state, store::QueueState::kFailed);
  EXPECT_EQ(by[1].reply, "550 5.1.1 no such user");
  EXPECT_EQ(by[2].state, store::QueueState::kQueued);
  EXPECT_EQ(server.body, "Subject: x\r\n\r\n..dot\r\nend\r\n.\r\n");
  EXPECT_NE(server.received.find("MAIL FROM:<alice@example.org> SIZE=23 RET=HDRS ENVID=QQ+20314+2B\r\n"),
            std::string::npos) << server.received;
}

TEST(ClientSend, RefusedMailFailsOrDefersEveryone) {
  ScriptedServer server;
  server.mail = "421 4.3.2 shutting down";
  store::OutboundMessage m = dsn_message();
  m.smtputf8 = false;
  SendReport r = deliver_to(server, m, "x\r\n");
  ASSERT_EQ(r.outcomes.size(), 3u);
  for (const auto& o : r.outcomes) EXPECT_EQ(o.state, store::QueueState::kQueued);
  EXPECT_EQ(r.outcomes[0].reply, "421 4.3.2 shutting down");
}

TEST(ClientSend, NoListenerDefers) {
  asio::io_context io;
  asio::ip::tcp::endpoint closed;
  {
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed = a.local_endpoint();
  }
  store::OutboundMessage m = dsn_message();
  SendReport report;
  auto client = [&]() -> asio::awaitable<void> {
    const ClientOptions options;
    const std::vector<std::size_t> first{0};
    const std::string_view bytes = "x\r\n";
    report = co_await send(closed, options, m, first, bytes);
  };
  asio::co_spawn(io, client, asio::detached);
  io.run();
  EXPECT_FALSE(report.connected);
  ASSERT_EQ(report.outcomes.size(), 1u);
  EXPECT_EQ(report.outcomes[0].state, store::QueueState::kQueued);
}

}  // namespace
}  // namespace tern::smtp
