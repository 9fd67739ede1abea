// pop3/maildrop.h: the maildrop of one POP3 session: the INBOX as it was at login.
//
// RFC 1939 makes message numbers and sizes fixed for the session, so the maildrop is a
// snapshot: messages are numbered 1..count() in UID order, and later deliveries, flag
// changes and expunges by other sessions do not renumber it. Messages IMAP had flagged
// \Deleted at login are left out. DELE marks, RSET unmarks, and at QUIT the session
// expunges deleted_uids() and flags seen_uids() \Seen. Pure data, no I/O.
// Thread-safety: none; one per session.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/types.h"

namespace tern::pop3 {

class Maildrop {
 public:
  struct Entry {
    uint32_t uid = 0;
    uint64_t size = 0;        // octets as stored, which are the octets RETR sends (CRLF lines)
    store::Id blob_id = 0;
    bool seen = false;        // \Seen at login
    bool deleted = false;     // DELE'd in this session
    bool retrieved = false;   // RETR'd in this session
  };

  Maildrop() = default;
  // `messages` in UID order, as MailStore::list_messages returns them.
  Maildrop(store::Id mailbox_id, uint32_t uidvalidity, const std::vector<store::Message>& messages);

  store::Id mailbox_id() const { return mailbox_id_; }
  // Messages in the snapshot, deleted ones included: valid numbers are 1..count().
  uint32_t count() const { return static_cast<uint32_t>(entries_.size()); }
  // Messages and octets not marked deleted (STAT, LIST).
  uint32_t live_count() const { return live_count_; }
  uint64_t live_size() const { return live_size_; }

  // Message `n`; null when there is no such message or it is marked deleted.
  const Entry* find(uint32_t n) const;
  // The entry numbered `n`, whatever its marks; `n` must be in 1..count().
  const Entry& at(uint32_t n) const { return entries_[n - 1]; }
  // Marks message `n` deleted; false when find(n) is null.
  bool mark_deleted(uint32_t n);
  void mark_retrieved(uint32_t n);
  // RSET: unmarks every deleted message.
  void unmark_all();

  // The unique-id listing of RFC 1939 7 UIDL: "<uidvalidity>.<uid>". The INBOX keeps its
  // UIDVALIDITY and a UID is never reused in it (store/types.h invariants), so a message
  // has the same id in every session, forever, and no other message ever has it.
  std::string uidl(const Entry& e) const;

  // UIDs marked deleted, ascending.
  std::vector<uint32_t> deleted_uids() const;
  // UIDs retrieved, not deleted and not \Seen at login, ascending.
  std::vector<uint32_t> seen_uids() const;

 private:
  store::Id mailbox_id_ = 0;
  uint32_t uidvalidity_ = 0;
  std::vector<Entry> entries_;  // Invariant: ascending UIDs; entries_[n - 1] is message n
  uint32_t live_count_ = 0;     // Invariant: entries not deleted, and the sum of their sizes
  uint64_t live_size_ = 0;
};

}  // namespace tern::pop3
