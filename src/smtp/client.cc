#include "smtp/client.h"

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/stream.h"
#include "smtp/proto/params.h"

namespace tern::smtp {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using proto::ReplyParse;
using proto::ServerReply;

// Reads replies from the server, keeping bytes that arrive beyond the current one (pipelining).
class ReplyReader {
 public:
  explicit ReplyReader(net::Stream& stream) : stream_(stream) {}

  // The next reply; nullopt (with `why_` set) on a timeout, EOF or an unreadable reply.
  asio::awaitable<std::optional<ServerReply>> next() {
    for (;;) {
      ReplyParse p = proto::parse_reply(buffer_);
      if (p.status == ReplyParse::Status::kReply) {
        buffer_.erase(0, p.consumed);
        co_return std::move(p.reply);
      }
      if (p.status == ReplyParse::Status::kError) {
        why_ = "unreadable reply: " + p.error;
        co_return std::nullopt;
      }
      std::array<char, 4096> chunk;
      auto [ec, n] = co_await stream_.read_some(chunk);
      if (ec) {
        why_ = "connection lost: " + ec.message();
        co_return std::nullopt;
      }
      buffer_.append(chunk.data(), n);
    }
  }
  const std::string& why() const { return why_; }

 private:
  net::Stream& stream_;
  std::string buffer_;
  std::string why_;
};

store::QueueState state_for(const ServerReply& r) {
  if (r.positive()) return store::QueueState::kDelivered;
  return r.permanent() ? store::QueueState::kFailed : store::QueueState::kQueued;
}

void settle_all(SendReport& report, const std::vector<std::size_t>& indices, store::QueueState state,
                const std::string& reply) {
  report.outcomes.clear();
  for (std::size_t i : indices) report.outcomes.push_back(store::RecipientOutcome{i, state, reply});
}

}  // namespace

std::string mail_command(const store::OutboundMessage& m, uint64_t size, const proto::Extensions& x) {
  std::string cmd = "MAIL FROM:<" + m.sender + ">";
  if (x.size) cmd += " SIZE=" + std::to_string(size);
  if (m.eightbit && x.eightbitmime) cmd += " BODY=8BITMIME";
  if (m.smtputf8 && x.smtputf8) cmd += " SMTPUTF8";
  if (x.dsn) {
    if (m.ret == store::DsnRet::kFull) cmd += " RET=FULL";
    if (m.ret == store::DsnRet::kHdrs) cmd += " RET=HDRS";
    if (!m.envid.empty()) cmd += " ENVID=" + proto::xtext_encode(m.envid);
  }
  return cmd + "\r\n";
}

std::string rcpt_command(const store::OutboundRecipient& r, const proto::Extensions& x) {
  std::string cmd = "RCPT TO:<" + r.address + ">";
  if (x.dsn) {
    if (r.notify & store::kNotifyNever) {
      cmd += " NOTIFY=NEVER";
    } else if (r.notify != 0) {
      std::string list;
      auto add = [&](uint8_t bit, const char* name) {
        if (!(r.notify & bit)) return;
        if (!list.empty()) list += ',';
        list += name;
      };
      add(store::kNotifySuccess, "SUCCESS");
      add(store::kNotifyFailure, "FAILURE");
      add(store::kNotifyDelay, "DELAY");
      cmd += " NOTIFY=" + list;
    }
    if (!r.orcpt.empty()) {
      // Stored decoded as "type;address": the type stays as is, the address is xtext.
      const std::size_t semi = r.orcpt.find(';');
      if (semi != std::string::npos) {
        cmd += " ORCPT=" + r.orcpt.substr(0, semi + 1) + proto::xtext_encode(r.orcpt.substr(semi + 1));
      }
    }
  }
  return cmd + "\r\n";
}

asio::awaitable<SendReport> send(asio::ip::tcp::endpoint server, ClientOptions options,
                                 const store::OutboundMessage& message, std::vector<std::size_t> recipients,
                                 std::string_view bytes) {
  SendReport report;
  auto executor = co_await asio::this_coro::executor;
  if (message.skip <= bytes.size()) bytes.remove_prefix(message.skip);

  // Connect, bounded by a timer that closes the socket.
  asio::ip::tcp::socket socket(executor);
  {
    asio::steady_timer timer(executor, options.connect);
    timer.async_wait([&socket](error_code ec) {
      if (!ec) {
        error_code ignored;
        socket.close(ignored);
      }
    });
    error_code ec;
    co_await socket.async_connect(server, asio::redirect_error(asio::use_awaitable, ec));
    timer.cancel();
    if (ec) {
      settle_all(report, recipients, store::QueueState::kQueued, "cannot connect to " +
                                                                      server.address().to_string() + ": " + ec.message());
      co_return report;
    }
  }
  net::Stream stream(std::move(socket), nullptr);
  ReplyReader replies(stream);
  auto lost = [&]() { settle_all(report, recipients, store::QueueState::kQueued, replies.why()); };

  stream.set_timeout(options.greeting);
  auto greeting = co_await replies.next();
  if (!greeting) {
    lost();
    co_return report;
  }
  report.connected = true;
  if (!greeting->positive()) {
    settle_all(report, recipients, state_for(*greeting), greeting->summary());
    co_await stream.shutdown();
    co_return report;
  }

  // EHLO, or HELO when the server does not know it (RFC 5321 4.1.1.1).
  stream.set_timeout(options.mail);
  std::string line = "EHLO " + options.helo_name + "\r\n";
  proto::Extensions ext;
  if (co_await stream.write(line)) {
    lost();
    co_return report;
  }
  auto ehlo = co_await replies.next();
  if (!ehlo) {
    lost();
    co_return report;
  }
  if (ehlo->code == 250) {
    ext = proto::parse_extensions(*ehlo);
  } else {
    line = "HELO " + options.helo_name + "\r\n";
    if (co_await stream.write(line)) {
      lost();
      co_return report;
    }
    auto helo = co_await replies.next();
    if (!helo) {
      lost();
      co_return report;
    }
    if (helo->code != 250) {
      settle_all(report, recipients, state_for(*helo), helo->summary());
      co_return report;
    }
  }
  if (message.smtputf8 && !ext.smtputf8) {
    // RFC 6531 3.4: an SMTPUTF8 message may not be relayed to a server without it.
    settle_all(report, recipients, store::QueueState::kFailed, "553 5.6.7 the server does not accept SMTPUTF8");
    co_return report;
  }
  if (ext.size && ext.max_size != 0 && bytes.size() > ext.max_size) {
    settle_all(report, recipients, store::QueueState::kFailed, "552 5.3.4 message larger than the server accepts");
    co_return report;
  }

  // MAIL, RCPT..., DATA: one write when pipelining, else one at a time.
  std::vector<std::string> commands;
  commands.push_back(mail_command(message, bytes.size(), ext));
  for (std::size_t i : recipients) commands.push_back(rcpt_command(message.recipients[i], ext));
  commands.push_back("DATA\r\n");
  std::vector<ServerReply> answers;
  if (ext.pipelining) {
    std::string all;
    for (const auto& c : commands) all += c;
    if (co_await stream.write(all)) {
      lost();
      co_return report;
    }
  }
  for (std::size_t k = 0; k < commands.size(); ++k) {
    stream.set_timeout(k == 0 ? options.mail : k + 1 < commands.size() ? options.rcpt : options.data_init);
    if (!ext.pipelining) {
      // Without pipelining, stop at a refused MAIL or before DATA when no RCPT was taken.
      if (k > 0 && !answers[0].positive()) break;
      if (k + 1 == commands.size() &&
          std::none_of(answers.begin() + 1, answers.end(), [](const ServerReply& r) { return r.positive(); })) {
        break;
      }
      if (co_await stream.write(commands[k])) {
        lost();
        co_return report;
      }
    }
    auto r = co_await replies.next();
    if (!r) {
      lost();
      co_return report;
    }
    answers.push_back(std::move(*r));
  }
  if (!answers[0].positive()) {
    settle_all(report, recipients, state_for(answers[0]), answers[0].summary());
    line = "QUIT\r\n";
    (void)co_await stream.write(line);
    co_return report;
  }
  std::vector<std::size_t> accepted;
  for (std::size_t j = 0; j < recipients.size(); ++j) {
    const ServerReply& r = j + 1 < answers.size() ? answers[j + 1] : answers.back();
    if (j + 1 < answers.size() && r.positive()) {
      accepted.push_back(recipients[j]);
    } else if (j + 1 < answers.size()) {
      report.outcomes.push_back(store::RecipientOutcome{recipients[j], state_for(r), r.summary()});
    }
  }
  const bool data_started = answers.size() == commands.size() && answers.back().code == 354;
  if (accepted.empty() || !data_started) {
    if (data_started) {
      // Pipelined DATA was taken with no recipient: end it empty (RFC 2920 3.1).
      line = ".\r\n";
      (void)co_await stream.write(line);
      (void)co_await replies.next();
    }
    const std::string why = answers.size() == commands.size() && !data_started ? answers.back().summary()
                                                                               : "no recipient accepted";
    const store::QueueState st = answers.size() == commands.size() && !data_started
                                     ? state_for(answers.back()) : store::QueueState::kQueued;
    for (std::size_t i : accepted) report.outcomes.push_back(store::RecipientOutcome{i, st, why});
    line = "QUIT\r\n";
    (void)co_await stream.write(line);
    co_return report;
  }

  // The message, dot-stuffed, in blocks (RFC 5321 4.5.2, 4.5.3.2.5).
  stream.set_timeout(options.data_block);
  proto::DotStuffer stuffer;
  constexpr std::size_t kBlock = 64 * 1024;
  std::string out;
  for (std::size_t pos = 0; pos < bytes.size(); pos += kBlock) {
    out.clear();
    stuffer.feed(bytes.substr(pos, kBlock), out);
    if (co_await stream.write(out)) {
      lost();
      co_return report;
    }
  }
  out.clear();
  stuffer.finish(out);
  if (co_await stream.write(out)) {
    lost();
    co_return report;
  }
  stream.set_timeout(options.data_end);
  auto done = co_await replies.next();
  if (!done) {
    // RFC 5321 6.1: without the reply the message may or may not have been taken; retry.
    for (std::size_t i : accepted) report.outcomes.push_back(store::RecipientOutcome{i, store::QueueState::kQueued, replies.why()});
    co_return report;
  }
  for (std::size_t i : accepted) report.outcomes.push_back(store::RecipientOutcome{i, state_for(*done), done->summary()});
  stream.set_timeout(options.mail);
  line = "QUIT\r\n";
  if (!co_await stream.write(line)) (void)co_await replies.next();
  co_await stream.shutdown();
  co_return report;
}

}  // namespace tern::smtp
