#include "imap/recent_tracker.h"

namespace tern::imap {

proto::RangeSet RecentTracker::claim(store::Id mailbox_id, std::uint32_t highest_uid) {
  proto::RangeSet out;
  std::uint32_t previous = 0;
  {
    std::lock_guard lock(mu_);
    std::uint32_t& claimed = claimed_[mailbox_id];
    previous = claimed;
    if (highest_uid <= previous) return out;
    claimed = highest_uid;
  }
  out.add(previous + 1, highest_uid);
  return out;
}

proto::RangeSet RecentTracker::peek(store::Id mailbox_id, std::uint32_t highest_uid) const {
  proto::RangeSet out;
  std::uint32_t previous = 0;
  {
    std::lock_guard lock(mu_);
    if (auto it = claimed_.find(mailbox_id); it != claimed_.end()) previous = it->second;
  }
  if (highest_uid > previous) out.add(previous + 1, highest_uid);
  return out;
}

void RecentTracker::forget(store::Id mailbox_id) {
  std::lock_guard lock(mu_);
  claimed_.erase(mailbox_id);
}

}  // namespace tern::imap
