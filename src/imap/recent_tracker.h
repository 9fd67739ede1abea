// imap/recent_tracker.h: who sees a message as \Recent (RFC 3501 2.3.2).
//
// A message is \Recent in the first session that learns of it and in no other. Each process
// keeps one RecentTracker (a shared service, like the ChangeFeed): per mailbox, the highest
// UID some session has already claimed. A session claims at SELECT (the UIDs in its snapshot)
// and whenever it learns of new messages; what it gets back is recent for it alone and goes
// into its MailboxView. EXAMINE only peeks: a read-only session must not take \Recent away
// from others (RFC 3501 6.3.2).
//
// The state lives in memory: after a restart every message is new to the tracker, so the
// first session then sees all of a mailbox's messages as \Recent; in a cluster each node
// tracks its own sessions. IMAP4rev2 (RFC 9051) dropped \Recent, and clients lean on \Seen.
//
// Thread-safety: every method may be called from any thread (one mutex; short critical
// sections, no allocation beyond the map node).
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "imap/proto/seqset.h"
#include "store/types.h"

namespace tern::imap {

class RecentTracker {
 public:
  // Claims for the caller every UID in 1..highest_uid that no one claimed before, and
  // returns them (empty when another session was first).
  proto::RangeSet claim(store::Id mailbox_id, std::uint32_t highest_uid);
  // The UIDs in 1..highest_uid not claimed yet, without claiming them (EXAMINE).
  proto::RangeSet peek(store::Id mailbox_id, std::uint32_t highest_uid) const;
  // Drops what is known of a mailbox (it was deleted).
  void forget(store::Id mailbox_id);

 private:
  mutable std::mutex mu_;
  std::unordered_map<store::Id, std::uint32_t> claimed_;  // mailbox id -> highest UID claimed
};

}  // namespace tern::imap
