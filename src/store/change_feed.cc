// store/change_feed.cc: see change_feed.h.
#include "store/change_feed.h"

#include <algorithm>

namespace tern::store {
namespace {
// Slots whose callback this thread is running now (nested publishes stack up), so that a
// callback destroying its own Subscription does not wait for itself.
thread_local std::vector<const void*> t_running;
}  // namespace

Subscription::Subscription(Subscription&& other) noexcept
    : feed_(std::move(other.feed_)), mailbox_id_(other.mailbox_id_), token_(other.token_) {
  other.token_ = 0;
}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    feed_ = std::move(other.feed_);
    mailbox_id_ = other.mailbox_id_;
    token_ = other.token_;
    other.token_ = 0;
  }
  return *this;
}

Subscription::~Subscription() { reset(); }

void Subscription::reset() {
  if (feed_ && *feed_ != nullptr && token_ != 0) (*feed_)->unsubscribe(mailbox_id_, token_);
  feed_.reset();
  token_ = 0;
}

ChangeFeed::ChangeFeed() : self_(std::make_shared<ChangeFeed*>(this)) {}

ChangeFeed::~ChangeFeed() {
  std::lock_guard lock(mu_);
  *self_ = nullptr;
  subs_.clear();
}

Subscription ChangeFeed::add(Id key, Callback cb) {
  auto slot = std::make_shared<Slot>();
  slot->cb = std::move(cb);
  std::lock_guard lock(mu_);
  uint64_t token = next_token_++;
  subs_[key].push_back(Entry{token, std::move(slot)});
  return Subscription(self_, key, token);
}

Subscription ChangeFeed::subscribe(Id mailbox_id, Callback cb) { return add(mailbox_id, std::move(cb)); }

Subscription ChangeFeed::subscribe_account(Id account_id, Callback cb) {
  return add(-account_id, std::move(cb));
}

void ChangeFeed::publish(const MailboxChange& change) {
  std::vector<std::shared_ptr<Slot>> targets;
  {
    std::lock_guard lock(mu_);
    for (Id key : {change.mailbox_id, -change.account_id}) {
      if (key == 0) continue;
      auto it = subs_.find(key);
      if (it == subs_.end()) continue;
      for (const Entry& e : it->second) {
        ++e.slot->in_flight;
        targets.push_back(e.slot);
      }
    }
  }
  for (const auto& slot : targets) {
    bool alive;
    {
      std::lock_guard lock(mu_);
      alive = slot->alive;
    }
    if (alive) {
      // Between the check and the call an unsubscribe may start; it waits for in_flight.
      t_running.push_back(slot.get());
      slot->cb(change);
      t_running.pop_back();
    }
    {
      std::lock_guard lock(mu_);
      --slot->in_flight;
    }
    idle_.notify_all();
  }
}

void ChangeFeed::unsubscribe(Id key, uint64_t token) {
  std::unique_lock lock(mu_);
  auto it = subs_.find(key);
  if (it == subs_.end()) return;
  auto& entries = it->second;
  auto e = std::find_if(entries.begin(), entries.end(), [&](const Entry& x) { return x.token == token; });
  if (e == entries.end()) return;
  std::shared_ptr<Slot> slot = std::move(e->slot);
  entries.erase(e);
  if (entries.empty()) subs_.erase(it);
  slot->alive = false;
  const int mine = static_cast<int>(std::count(t_running.begin(), t_running.end(), slot.get()));
  idle_.wait(lock, [&] { return slot->in_flight <= mine; });
}

}  // namespace tern::store
