#include <utility>

#include "imap/session.h"
#include "pop3/session.h"
#include "server/server.h"
#include "smtp/session.h"

namespace tern::server {

SessionHandler protocol_sessions() {
  return [](std::unique_ptr<net::Stream> stream,
            net::SessionEnv env) -> asio::awaitable<void> {
    switch (env.listener->protocol) {
      case config::Protocol::kSmtp:
      case config::Protocol::kSubmission:
        return smtp::run_session(std::move(stream), env);
      case config::Protocol::kImap:
        return imap::run_session(std::move(stream), env);
      case config::Protocol::kPop3:
        return pop3::run_session(std::move(stream), env);
    }
    return smtp::run_session(std::move(stream), env);  // unreachable: all protocols above
  };
}

}  // namespace tern::server
