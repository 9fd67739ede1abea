// store/pg/notify.cc: see notify.h.
#include "store/pg/notify.h"

#include <poll.h>
#include <unistd.h>

#include <charconv>

#include "base/log.h"
#include "base/strings.h"
#include "store/pg/connection.h"
#include "store/pg/writer.h"

namespace tern::store::pg {
namespace {

constexpr std::string_view kMagic = "tern1";

template <typename T>
bool parse_num(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string change_head(const MailboxChange& c) {
  return fmt::format("{} {} {} {} ", static_cast<int>(c.kind), c.account_id, c.mailbox_id, c.modseq);
}

}  // namespace

std::vector<std::string> encode_changes(std::string_view node_id, const std::vector<MailboxChange>& changes) {
  std::vector<std::string> out;
  const std::string header = fmt::format("{} {}\n", kMagic, node_id);
  std::string cur = header;
  auto flush = [&] {
    if (cur.size() > header.size()) out.push_back(std::move(cur));
    cur = header;
  };
  for (const auto& c : changes) {
    const std::string head = change_head(c);
    std::string line = head;
    bool any_uid = false;
    auto emit = [&] {
      if (cur.size() + line.size() + 1 > kMaxPayload) flush();
      cur += line;
      cur += '\n';
    };
    for (uint32_t uid : c.uids) {
      std::string u = std::to_string(uid);
      if (header.size() + line.size() + u.size() + 2 > kMaxPayload) {
        emit();
        line = head;
        any_uid = false;
      }
      if (any_uid) line += ',';
      line += u;
      any_uid = true;
    }
    emit();
  }
  flush();
  return out;
}

std::optional<DecodedChanges> decode_changes(std::string_view payload) {
  auto lines = split(payload, '\n');
  if (lines.empty()) return std::nullopt;
  auto head = split(lines[0], ' ');
  if (head.size() != 2 || head[0] != kMagic) return std::nullopt;
  DecodedChanges d;
  d.node_id = std::string(head[1]);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    auto f = split(lines[i], ' ');
    if (f.size() != 5) return std::nullopt;
    int kind = 0;
    MailboxChange c;
    if (!parse_num(f[0], kind) || kind < 0 || kind > static_cast<int>(MailboxChange::Kind::kMailboxRenamed) ||
        !parse_num(f[1], c.account_id) || !parse_num(f[2], c.mailbox_id) || !parse_num(f[3], c.modseq)) {
      return std::nullopt;
    }
    c.kind = static_cast<MailboxChange::Kind>(kind);
    if (!f[4].empty()) {
      for (auto u : split(f[4], ',')) {
        uint32_t uid = 0;
        if (!parse_num(u, uid)) return std::nullopt;
        c.uids.push_back(uid);
      }
    }
    d.changes.push_back(std::move(c));
  }
  return d;
}

// ---- Listener

Listener::Listener(std::string conninfo, std::string node_id, ChangeFeed* feed)
    : conninfo_(std::move(conninfo)), node_id_(std::move(node_id)), feed_(feed) {
  if (pipe(wake_fd_) != 0) {
    wake_fd_[0] = wake_fd_[1] = -1;
    spdlog::error("store: cannot create the listener's pipe; changes from other nodes will not be seen");
    return;
  }
  thread_ = std::thread([this] { loop(); });
  std::unique_lock lock(mu_);
  tried_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return tried_; });
}

void Listener::first_attempt_done() {
  std::lock_guard lock(mu_);
  if (!tried_) {
    tried_ = true;
    tried_cv_.notify_all();
  }
}

Listener::~Listener() {
  if (wake_fd_[1] >= 0) {
    char b = 1;
    (void)!write(wake_fd_[1], &b, 1);
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : wake_fd_) {
    if (fd >= 0) close(fd);
  }
}

bool Listener::wait_stop(int millis) {
  pollfd p{wake_fd_[0], POLLIN, 0};
  return poll(&p, 1, millis) > 0;
}

void Listener::loop() {
  int backoff = 100;
  for (;;) {
    auto conn = Conn::open(conninfo_);
    if (conn) {
      auto listening = (*conn)->run(std::string("LISTEN ") + kChangeChannel);
      if (!listening) {
        spdlog::warn("store: LISTEN failed: {}", listening.error().message);
        conn = tl::unexpected(listening.error());
      }
    } else {
      spdlog::warn("store: change listener cannot connect: {}", conn.error().message);
    }
    first_attempt_done();
    if (conn) {
      backoff = 100;
      PGconn* raw = (*conn)->raw();
      for (;;) {
        pollfd fds[2] = {{wake_fd_[0], POLLIN, 0}, {PQsocket(raw), POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) continue;  // EINTR
        if (fds[0].revents != 0) return;
        if (PQconsumeInput(raw) == 0) {
          spdlog::warn("store: change listener lost its connection: {}", PQerrorMessage(raw));
          break;
        }
        while (PGnotify* n = PQnotifies(raw)) {
          auto decoded = decode_changes(n->extra != nullptr ? n->extra : "");
          PQfreemem(n);
          if (!decoded) {
            spdlog::warn("store: ignoring a change notification this version does not understand");
            continue;
          }
          if (decoded->node_id == node_id_) continue;
          for (const auto& c : decoded->changes) feed_->publish(c);
        }
      }
    }
    if (wait_stop(backoff)) return;
    backoff = std::min(backoff * 2, 5000);
  }
}

}  // namespace tern::store::pg
