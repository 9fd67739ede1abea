// smtp/session.h: one smtp session per connection (a coroutine on the connection's I/O thread).
//
// run_session() owns the stream until it returns; it reads bounded lines, answers, and ends
// on QUIT/LOGOUT, EOF, timeout, too many errors, or when env.stopping is set (after the
// command in flight). For implicit-TLS listeners the server has completed the handshake
// before calling it. Never throws.
#pragma once

#include <memory>

#include <boost/asio/awaitable.hpp>

#include "net/session_env.h"
#include "net/stream.h"

namespace tern::smtp {

boost::asio::awaitable<void> run_session(std::unique_ptr<net::Stream> stream, net::SessionEnv env);

}  // namespace tern::smtp
