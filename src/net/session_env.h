// net/session_env.h: what the server hands each protocol session. Only references to
// long-lived, thread-safe services (all outlive every session) and per-connection facts.
// Forward declarations keep net/ free of the store and auth modules.
#pragma once

#include <atomic>
#include <memory>

#include "config/config.h"

namespace tern::store {
class MailStore;
class ChangeFeed;
}
namespace tern::auth {
class Authenticator;
}

namespace tern::net {

class BlockingPool;

struct SessionEnv {
  const config::Config* config = nullptr;
  const config::Listener* listener = nullptr;
  store::MailStore* store = nullptr;
  store::ChangeFeed* feed = nullptr;
  auth::Authenticator* auth = nullptr;
  BlockingPool* pool = nullptr;          // runs blocking store/auth calls off the I/O thread
  const std::atomic<bool>* stopping = nullptr;  // set on SIGTERM: finish the command, then close
};

}  // namespace tern::net
