// pop3/session_impl.h: the POP3 session class (private to pop3/). session.cc has the
// command loop, the replies and the AUTHORIZATION state; transaction.cc the TRANSACTION and
// UPDATE states over the maildrop.
//
// Replies are queued in `out_` and written when the client has no further command buffered
// (RFC 2449 PIPELINING: one write answers a pipelined batch) or when enough has gathered.
// Store calls run on env.pool; the session itself is one coroutine on its I/O thread and
// takes no locks. GCC 12: lambdas handed to pool->run capture by reference only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "auth/sasl_dialog.h"
#include "net/line_reader.h"
#include "net/session_env.h"
#include "net/stream.h"
#include "pop3/maildrop.h"
#include "pop3/proto/parser.h"
#include "store/mail_store.h"

namespace tern::pop3 {

namespace asio = boost::asio;

enum class Flow { kContinue, kClose };

class Session {
 public:
  Session(net::Stream& stream, const net::SessionEnv& env);
  ~Session();

  asio::awaitable<void> run();

 private:
  using Read = net::ReadStatus;

  bool login_allowed() const { return stream_.is_tls() || env_.config->auth.allow_plaintext; }
  bool stopping() const { return env_.stopping != nullptr && env_.stopping->load(); }
  bool too_many_errors() const {
    return env_.config->limits.max_errors > 0 && errors_ >= env_.config->limits.max_errors;
  }

  // ---- Output (session.cc). reply() and fail() queue; flush() writes what is queued.
  void reply(std::string_view text);  // text + CRLF
  // Queues "-ERR text" and counts it as the client's error (towards limits.max_errors).
  void fail(std::string_view text);
  asio::awaitable<bool> flush();
  // Writes once a pipelined batch is answered or enough output has gathered.
  asio::awaitable<bool> end_of_reply();
  asio::awaitable<void> wait(std::chrono::milliseconds delay);

  // ---- AUTHORIZATION (session.cc).
  asio::awaitable<Flow> handle(const proto::Command& cmd);
  asio::awaitable<Flow> authorization(const proto::Command& cmd);
  void do_capa();
  asio::awaitable<Flow> do_stls();
  asio::awaitable<Flow> do_auth(const proto::Command& cmd);
  asio::awaitable<auth::SaslOutcome> sasl_exchange(auth::Mechanism mech, std::string initial);
  asio::awaitable<Read> challenge(std::string_view base64, std::string& answer);
  asio::awaitable<Flow> finish_login(const std::string& user, const std::string& pass);

  // ---- TRANSACTION and UPDATE (transaction.cc).
  // Locks the account's maildrop and takes the INBOX snapshot; false (with the reply
  // queued) when the maildrop is locked or the store failed.
  asio::awaitable<bool> open_maildrop(store::Id account_id);
  asio::awaitable<Flow> transaction(const proto::Command& cmd);
  void do_stat();
  void do_list(const proto::Command& cmd);
  void do_uidl(const proto::Command& cmd);
  void do_dele(const proto::Command& cmd);
  void do_rset();
  // RETR and TOP: streams the message from the store, `top_lines` set for TOP.
  asio::awaitable<Flow> send_message(uint32_t n, std::optional<uint32_t> top_lines);
  // QUIT in TRANSACTION: the UPDATE state (RFC 1939 6).
  asio::awaitable<Flow> update();
  // Releases the maildrop lock (through the pool: it may block).
  asio::awaitable<void> release_maildrop();
  // The message numbered n, or null with "-ERR" queued.
  const Maildrop::Entry* message(uint32_t n);

  net::Stream& stream_;
  net::SessionEnv env_;
  net::LineReader reader_;
  uint64_t id_;
  std::chrono::seconds timeout_;
  std::string peer_;
  std::string out_;            // replies not yet written
  bool transaction_ = false;   // logged in with the maildrop open: TRANSACTION (RFC 1939 3)
  std::string pending_user_;   // USER given, waiting for PASS
  std::string user_;
  uint32_t errors_ = 0;
  bool closed_ = false;
  std::unique_ptr<store::MaildropLock> lock_;  // Invariant: held exactly while transaction_
  Maildrop drop_;
};

}  // namespace tern::pop3
