#include "pop3/maildrop.h"

#include <fmt/format.h>

namespace tern::pop3 {

Maildrop::Maildrop(store::Id mailbox_id, uint32_t uidvalidity, const std::vector<store::Message>& messages)
    : mailbox_id_(mailbox_id), uidvalidity_(uidvalidity) {
  entries_.reserve(messages.size());
  for (const store::Message& m : messages) {
    if ((m.flags & store::kFlagDeleted) != 0) continue;
    entries_.push_back(Entry{m.uid, m.size, m.blob_id, (m.flags & store::kFlagSeen) != 0, false, false});
    live_size_ += m.size;
  }
  live_count_ = static_cast<uint32_t>(entries_.size());
}

const Maildrop::Entry* Maildrop::find(uint32_t n) const {
  if (n == 0 || n > entries_.size()) return nullptr;
  const Entry& e = entries_[n - 1];
  return e.deleted ? nullptr : &e;
}

bool Maildrop::mark_deleted(uint32_t n) {
  if (find(n) == nullptr) return false;
  Entry& e = entries_[n - 1];
  e.deleted = true;
  --live_count_;
  live_size_ -= e.size;
  return true;
}

void Maildrop::mark_retrieved(uint32_t n) {
  if (n >= 1 && n <= entries_.size()) entries_[n - 1].retrieved = true;
}

void Maildrop::unmark_all() {
  for (Entry& e : entries_) {
    if (!e.deleted) continue;
    e.deleted = false;
    ++live_count_;
    live_size_ += e.size;
  }
}

std::string Maildrop::uidl(const Entry& e) const { return fmt::format("{}.{}", uidvalidity_, e.uid); }

std::vector<uint32_t> Maildrop::deleted_uids() const {
  std::vector<uint32_t> out;
  for (const Entry& e : entries_) {
    if (e.deleted) out.push_back(e.uid);
  }
  return out;
}

std::vector<uint32_t> Maildrop::seen_uids() const {
  std::vector<uint32_t> out;
  for (const Entry& e : entries_) {
    if (e.retrieved && !e.deleted && !e.seen) out.push_back(e.uid);
  }
  return out;
}

}  // namespace tern::pop3
