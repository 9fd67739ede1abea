// store/change_feed.h: in-process publish/subscribe of committed mailbox changes.
//
// The store publishes a MailboxChange after each commit; sessions that have a mailbox open
// subscribe to it and learn of new messages, flag changes and expunges at once (IMAP IDLE,
// untagged EXISTS/EXPUNGE/FETCH). A cluster backend feeds remote changes in through
// publish() too.
//
// Thread-safety: every method may be called from any thread. Callbacks run on the
// publishing thread, after the change is durable, without the feed's lock held; they must
// be quick and must not block (post to the session's executor). A callback may run until
// its Subscription is destroyed; after the destructor returns it never runs again: the
// destructor waits for a call in progress on another thread. A callback may destroy its own
// Subscription (no wait then); two callbacks must not destroy each other's Subscriptions
// from two threads at once (each would wait for the other).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "store/types.h"

namespace tern::store {

struct MailboxChange {
  enum class Kind { kAppend, kFlags, kExpunge, kMailboxCreated, kMailboxDeleted, kMailboxRenamed };
  Kind kind = Kind::kAppend;
  Id account_id = 0;
  Id mailbox_id = 0;
  uint64_t modseq = 0;          // the mailbox's HIGHESTMODSEQ after the change
  std::vector<uint32_t> uids;   // the messages concerned (appended, changed or expunged)
};

class ChangeFeed;

// Keeps a callback registered; unsubscribes on destruction. Move-only.
class Subscription {
 public:
  Subscription() = default;
  Subscription(Subscription&& other) noexcept;
  Subscription& operator=(Subscription&& other) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription();
  void reset();

 private:
  friend class ChangeFeed;
  Subscription(std::shared_ptr<ChangeFeed*> feed, Id mailbox_id, uint64_t token)
      : feed_(std::move(feed)), mailbox_id_(mailbox_id), token_(token) {}
  std::shared_ptr<ChangeFeed*> feed_;
  Id mailbox_id_ = 0;
  uint64_t token_ = 0;
};

class ChangeFeed {
 public:
  using Callback = std::function<void(const MailboxChange&)>;

  ChangeFeed();
  ~ChangeFeed();  // outstanding Subscriptions become inert
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Calls `cb` for every change to `mailbox_id` published after this returns.
  [[nodiscard]] Subscription subscribe(Id mailbox_id, Callback cb);
  // Calls `cb` for every change to any mailbox of `account_id` (mailbox list changes, NOTIFY).
  [[nodiscard]] Subscription subscribe_account(Id account_id, Callback cb);
  void publish(const MailboxChange& change);

 private:
  friend class Subscription;
  void unsubscribe(Id key, uint64_t token);

  // One registered callback. Invariant: `alive` and `in_flight` change under mu_ only;
  // unsubscribe clears `alive`, then waits until no other thread is inside `cb`.
  struct Slot {
    Callback cb;
    bool alive = true;
    int in_flight = 0;  // publishers that copied this slot out and have not finished
  };
  struct Entry {
    uint64_t token;
    std::shared_ptr<Slot> slot;
  };
  Subscription add(Id key, Callback cb);
  std::mutex mu_;
  std::condition_variable idle_;
  uint64_t next_token_ = 1;
  // Mailbox subscriptions under key mailbox_id (> 0); account ones under -account_id.
  std::unordered_map<Id, std::vector<Entry>> subs_;
  std::shared_ptr<ChangeFeed*> self_;
};

}  // namespace tern::store
