#include "imap/mailbox_view.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "base/strings.h"
#include "imap/proto/args.h"
#include "imap/proto/writer.h"

namespace tern::imap {
namespace {

void append_count_line(std::string& out, std::uint64_t n, std::string_view what) {
  out += "* ";
  out += std::to_string(n);
  out.push_back(' ');
  out += what;
  out += "\r\n";
}

bool less_ignoring_case(const std::string& a, const std::string& b) { return ascii_lower(a) < ascii_lower(b); }

}  // namespace

// ---- Keywords

MailboxView::Keywords::Keywords() {
  sets_.emplace_back();
  set_ids_.emplace(std::vector<std::uint32_t>{}, 0);
}

std::uint32_t MailboxView::Keywords::intern(std::string_view name) {
  // A keyword is an atom (RFC 9051 9 flag-keyword); anything else could not be sent back.
  if (!proto::is_atom(name)) return npos;
  auto [it, inserted] = by_lower_.try_emplace(ascii_lower(name), static_cast<std::uint32_t>(names_.size()));
  if (inserted) names_.emplace_back(name);
  return it->second;
}

std::uint32_t MailboxView::Keywords::find(std::string_view name) const {
  auto it = by_lower_.find(ascii_lower(name));
  return it == by_lower_.end() ? npos : it->second;
}

std::uint32_t MailboxView::Keywords::set_of(std::vector<std::uint32_t> ids) {
  if (ids.empty()) return 0;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (auto it = set_ids_.find(ids); it != set_ids_.end()) return it->second;
  Set set;
  set.ids = ids;
  for (std::uint32_t id : ids) set.names.push_back(names_[id]);
  std::sort(set.names.begin(), set.names.end(), less_ignoring_case);
  auto id = static_cast<std::uint32_t>(sets_.size());
  sets_.push_back(std::move(set));
  set_ids_.emplace(std::move(ids), id);
  return id;
}

std::uint32_t MailboxView::Keywords::set_of_names(const std::vector<std::string>& names) {
  if (names.empty()) return 0;
  std::vector<std::uint32_t> ids;
  ids.reserve(names.size());
  for (const auto& name : names) {
    if (std::uint32_t id = intern(name); id != npos) ids.push_back(id);
  }
  return set_of(std::move(ids));
}

std::size_t MailboxView::Keywords::memory_usage() const {
  std::size_t n = 0;
  for (const auto& name : names_) n += sizeof(std::string) + name.capacity() * 2 + 32;  // names_ and by_lower_
  for (const auto& set : sets_) {
    n += sizeof(Set) + set.ids.capacity() * sizeof(std::uint32_t) * 2 + 48;  // sets_ and set_ids_
    for (const auto& name : set.names) n += sizeof(std::string) + name.capacity();
  }
  return n;
}

// ---- Construction and queries

MailboxView::MailboxView(const store::Mailbox& mailbox, std::span<const store::Message> messages,
                         const proto::RangeSet& recent, bool read_only)
    : mailbox_id_(mailbox.id),
      uidvalidity_(mailbox.uidvalidity),
      snapshot_uidnext_(mailbox.uidnext),
      read_only_(read_only),
      applied_modseq_(mailbox.highestmodseq) {
  // The snapshot's keywords first, sorted ignoring case, so FLAGS lists them in a stable order.
  {
    std::map<std::string, std::string_view> first_spelling;
    for (const auto& m : messages) {
      for (const auto& k : m.keywords) first_spelling.try_emplace(ascii_lower(k), k);
    }
    for (const auto& [lower, spelling] : first_spelling) keywords_.intern(spelling);
    announced_keywords_ = keywords_.all().size();
  }

  auto by_uid = [](const store::Message* a, const store::Message* b) { return a->uid < b->uid; };
  std::vector<const store::Message*> order;
  order.reserve(messages.size());
  for (const auto& m : messages) order.push_back(&m);
  if (!std::is_sorted(order.begin(), order.end(), by_uid)) std::stable_sort(order.begin(), order.end(), by_uid);

  uids_.reserve(order.size());
  modseqs_.reserve(order.size());
  bits_.reserve(order.size());
  kwsets_.reserve(order.size());
  for (const store::Message* m : order) {
    if (m->uid == 0) continue;
    State s = state_from(*m, recent.contains(m->uid));
    applied_modseq_ = std::max(applied_modseq_, s.modseq);
    if (!uids_.empty() && uids_.back() == m->uid) {  // a duplicate: keep the newer state
      if (s.modseq > modseqs_.back()) set_visible(uids_.size() - 1, s);
      continue;
    }
    uids_.push_back(m->uid);
    modseqs_.push_back(s.modseq);
    bits_.push_back(s.bits);
    kwsets_.push_back(s.kwset);
    if (s.bits & kRecent) ++recent_count_;
  }
  seen_uid_ = uids_.empty() ? 0 : uids_.back();
}

std::uint32_t MailboxView::first_unseen() const {
  for (std::size_t i = 0; i < bits_.size(); ++i) {
    if (!(bits_[i] & store::kFlagSeen)) return static_cast<std::uint32_t>(i + 1);
  }
  return 0;
}

std::uint32_t MailboxView::unseen() const {
  return static_cast<std::uint32_t>(
      std::count_if(bits_.begin(), bits_.end(), [](std::uint8_t b) { return !(b & store::kFlagSeen); }));
}

std::uint32_t MailboxView::uidnext() const {
  std::uint64_t next = uids_.empty() ? 1 : std::uint64_t{uids_.back()} + 1;
  next = std::max<std::uint64_t>(next, snapshot_uidnext_);
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(next, UINT32_MAX));
}

std::uint64_t MailboxView::highestmodseq() const {
  if (unreported_min_ == UINT64_MAX || unreported_min_ == 0) return applied_modseq_;
  return std::min(applied_modseq_, unreported_min_ - 1);
}

std::size_t MailboxView::index_of(std::uint32_t uid) const {
  auto it = std::lower_bound(uids_.begin(), uids_.end(), uid);
  if (it == uids_.end() || *it != uid) return uids_.size();
  return static_cast<std::size_t>(it - uids_.begin());
}

std::uint32_t MailboxView::seq(std::uint32_t uid) const {
  std::size_t i = index_of(uid);
  return i == uids_.size() ? 0 : static_cast<std::uint32_t>(i + 1);
}

ResolvedSet MailboxView::resolve(const proto::SequenceSet& set) const {
  ResolvedSet out;
  const std::uint32_t n = exists();
  out.out_of_range = set.fixed().max() > n;
  proto::RangeSet numbers = set.resolve(n).clamped(n);
  out.messages.reserve(static_cast<std::size_t>(numbers.count()));
  for (const proto::Range& r : numbers.ranges()) {
    for (std::uint64_t s = r.first; s <= r.last; ++s) {
      out.messages.push_back({static_cast<std::uint32_t>(s), uids_[s - 1]});
    }
  }
  return out;
}

std::optional<std::vector<SeqUid>> MailboxView::resolve_for(const proto::SequenceSet& set, bool uid) const {
  if (uid) return resolve_uids(set);
  ResolvedSet resolved = resolve(set);
  if (resolved.out_of_range) return std::nullopt;
  return std::move(resolved.messages);
}

std::vector<SeqUid> MailboxView::resolve_uids(const proto::SequenceSet& set) const {
  std::vector<SeqUid> out;
  const std::uint32_t star = uids_.empty() ? 0 : uids_.back();
  proto::RangeSet wanted = set.resolve(star);
  auto from = uids_.begin();
  for (const proto::Range& r : wanted.ranges()) {
    // Ranges ascend, so each search starts where the previous one ended.
    auto lo = std::lower_bound(from, uids_.end(), r.first);
    auto hi = std::upper_bound(lo, uids_.end(), r.last);
    for (auto it = lo; it != hi; ++it) {
      out.push_back({static_cast<std::uint32_t>(it - uids_.begin() + 1), *it});
    }
    from = hi;
    if (from == uids_.end()) break;
  }
  return out;
}

bool MailboxView::expunge_pending(std::uint32_t seq) const {
  TERN_ASSERT(seq >= 1 && seq <= exists());
  return bits_[seq - 1] & kExpunged;
}

std::uint32_t MailboxView::system_flags(std::uint32_t seq) const {
  TERN_ASSERT(seq >= 1 && seq <= exists());
  return bits_[seq - 1] & kSystemMask;
}

const std::vector<std::string>& MailboxView::keywords(std::uint32_t seq) const {
  TERN_ASSERT(seq >= 1 && seq <= exists());
  return keywords_.names(kwsets_[seq - 1]);
}

bool MailboxView::is_recent(std::uint32_t seq) const {
  TERN_ASSERT(seq >= 1 && seq <= exists());
  return !rev2_ && (bits_[seq - 1] & kRecent);
}

std::uint64_t MailboxView::modseq(std::uint32_t seq) const {
  TERN_ASSERT(seq >= 1 && seq <= exists());
  return modseqs_[seq - 1];
}

std::vector<SeqUid> MailboxView::changed_since(std::uint64_t modseq) const {
  std::vector<SeqUid> out;
  for (std::size_t i = 0; i < modseqs_.size(); ++i) {
    if (modseqs_[i] > modseq) out.push_back({static_cast<std::uint32_t>(i + 1), uids_[i]});
  }
  return out;
}

std::string MailboxView::flags_responses() const {
  std::string out = "* FLAGS ";
  proto::append_flags(out, store::kAllFlags, keywords_.all());
  out += "\r\n";
  if (read_only_) {
    out += "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n";
  } else {
    // RFC 3501 7.1: \* says the client may create new keywords.
    std::vector<std::string> permanent = keywords_.all();
    permanent.emplace_back("\\*");
    out += "* OK [PERMANENTFLAGS ";
    proto::append_flags(out, store::kAllFlags, permanent);
    out += "] Flags permitted\r\n";
  }
  return out;
}

std::string MailboxView::select_responses() const {
  std::string out = flags_responses();
  append_count_line(out, exists(), "EXISTS");
  if (!rev2_) {
    append_count_line(out, recent(), "RECENT");
    // RFC 3501 6.3.1 (errata 3032): sent when, and only when, a message is unseen.
    if (std::uint32_t first = first_unseen(); first != 0) {
      out += "* OK [UNSEEN " + std::to_string(first) + "] First unseen\r\n";
    }
  }
  out += "* OK [UIDVALIDITY " + std::to_string(uidvalidity_) + "] UIDs valid\r\n";
  out += "* OK [UIDNEXT " + std::to_string(uidnext()) + "] Predicted next UID\r\n";
  out += "* OK [HIGHESTMODSEQ " + std::to_string(highestmodseq()) + "] Highest\r\n";
  return out;
}

// ---- Changes

MailboxView::State MailboxView::state_from(const store::Message& m, bool recent) {
  State s;
  s.modseq = m.modseq;
  s.kwset = keywords_.set_of_names(m.keywords);
  s.bits = static_cast<std::uint8_t>((m.flags & kSystemMask) | (recent ? kRecent : 0));
  return s;
}

void MailboxView::set_visible(std::size_t i, const State& s) {
  bits_[i] = static_cast<std::uint8_t>((bits_[i] & (kRecent | kExpunged)) | (s.bits & kSystemMask));
  kwsets_[i] = s.kwset;
  modseqs_[i] = s.modseq;
}

void MailboxView::note_unreported(std::uint64_t modseq) { unreported_min_ = std::min(unreported_min_, modseq); }

std::vector<MailboxView::Pending>::iterator MailboxView::find_pending(std::uint32_t uid) {
  return std::lower_bound(appended_.begin(), appended_.end(), uid,
                          [](const Pending& x, std::uint32_t u) { return x.uid < u; });
}

void MailboxView::note_current(const store::Message& m, const proto::RangeSet& recent) {
  if (m.uid == 0) return;
  if (std::size_t i = index_of(m.uid); i < uids_.size()) {
    if (bits_[i] & kExpunged) return;
    std::uint64_t known = modseqs_[i];
    auto it = changes_.find(m.uid);
    if (it != changes_.end() && it->second.has_state) known = std::max(known, it->second.state.modseq);
    if (m.modseq <= known) return;  // already known: a duplicate or an echo
    Change& change = changes_[m.uid];
    change.has_state = true;
    change.state = state_from(m, false);
    note_unreported(m.modseq);
    return;
  }
  auto p = find_pending(m.uid);
  if (p != appended_.end() && p->uid == m.uid) {
    // Not announced yet (or expunged already): the announcement will carry the newest state.
    if (!(p->state.bits & kCancelled) && m.modseq > p->state.modseq) {
      p->state = state_from(m, p->state.bits & kRecent);
      note_unreported(m.modseq);
    }
    return;
  }
  // A UID at or below one the client was shown can no longer be numbered: it was expunged
  // (the re-read is stale) or its event came impossibly late.
  if (m.uid <= seen_uid_) return;
  appended_.insert(p, Pending{m.uid, state_from(m, recent.contains(m.uid))});
  ++announcing_;
  note_unreported(m.modseq);
}

void MailboxView::note_appended(std::span<const store::Message> messages, const proto::RangeSet& recent) {
  for (const auto& m : messages) note_current(m, recent);
}

void MailboxView::note_flags(std::span<const store::Message> current, const proto::RangeSet& recent) {
  for (const auto& m : current) note_current(m, recent);
}

void MailboxView::note_expunged(std::span<const std::uint32_t> uids, std::uint64_t modseq) {
  for (std::uint32_t uid : uids) {
    if (uid == 0) continue;
    if (std::size_t i = index_of(uid); i < uids_.size()) {
      if (bits_[i] & kExpunged) continue;
      bits_[i] |= kExpunged;
      ++held_;
      held_min_modseq_ = std::min(held_min_modseq_, modseq);
      held_max_modseq_ = std::max(held_max_modseq_, modseq);
      note_unreported(modseq);
      continue;
    }
    auto p = find_pending(uid);
    if (p != appended_.end() && p->uid == uid) {
      if (!(p->state.bits & kCancelled)) {
        p->state.bits |= kCancelled;  // never announced
        --announcing_;
      }
    } else if (uid > seen_uid_) {
      // Expunged before the view met it: a tombstone, so that its append is ignored.
      State gone;
      gone.bits = kCancelled;
      appended_.insert(p, Pending{uid, gone});
    }
    // Nothing to tell the client about this UID: the change is reflected at once.
    applied_modseq_ = std::max(applied_modseq_, modseq);
  }
}

void MailboxView::note_own_flags(const FlagUpdate& update, std::span<const store::FlagChange> changes, Echo echo) {
  const Report own = echo == Echo::kReport ? Report::kFull : (condstore_ ? Report::kModseq : Report::kNone);
  const auto system = static_cast<std::uint8_t>(update.flags & kSystemMask);
  std::vector<std::uint32_t> update_ids;
  for (const auto& k : update.keywords) {
    std::uint32_t id = update.op == store::FlagOp::kRemove ? keywords_.find(k) : keywords_.intern(k);
    if (id != Keywords::npos) update_ids.push_back(id);
  }

  for (const store::FlagChange& c : changes) {
    State result;
    result.modseq = c.modseq;
    result.kwset = keywords_.set_of_names(c.keywords);
    result.bits = static_cast<std::uint8_t>(c.flags & kSystemMask);

    std::size_t i = index_of(c.uid);
    if (i == uids_.size()) {
      // Not announced yet (the client cannot have named it, but be safe): fold it in.
      auto p = find_pending(c.uid);
      if (p != appended_.end() && p->uid == c.uid && !(p->state.bits & kCancelled) && c.modseq > p->state.modseq) {
        result.bits |= p->state.bits & kRecent;
        p->state = result;
      }
      continue;
    }
    if (bits_[i] & kExpunged) continue;

    auto it = changes_.find(c.uid);
    if (it != changes_.end() && it->second.has_state && it->second.state.modseq > c.modseq) {
      // Someone changed it again after us; that newer state goes out in full anyway.
      it->second.requested = std::max(it->second.requested, own);
      continue;
    }
    Report report = own;
    if (c.modseq > modseqs_[i]) {
      // What the client expects: its own change applied to what it was told.
      std::uint8_t expected = bits_[i] & kSystemMask;
      std::vector<std::uint32_t> ids = keywords_.ids(kwsets_[i]);
      switch (update.op) {
        case store::FlagOp::kReplace:
          expected = system;
          ids = update_ids;
          break;
        case store::FlagOp::kAdd:
          expected |= system;
          ids.insert(ids.end(), update_ids.begin(), update_ids.end());
          break;
        case store::FlagOp::kRemove:
          expected &= static_cast<std::uint8_t>(~system);
          std::erase_if(ids, [&](std::uint32_t id) {
            return std::find(update_ids.begin(), update_ids.end(), id) != update_ids.end();
          });
          break;
      }
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      if (expected != result.bits || ids != keywords_.ids(result.kwset)) report = Report::kFull;
      set_visible(i, result);
      applied_modseq_ = std::max(applied_modseq_, c.modseq);
    }
    if (it != changes_.end()) {
      it->second.has_state = false;  // our result is as new as what was queued
      it->second.requested = std::max(it->second.requested, report);
      if (it->second.requested == Report::kNone) changes_.erase(it);
    } else if (report != Report::kNone) {
      changes_[c.uid].requested = report;
    }
  }
}

void MailboxView::report_flags(std::span<const std::uint32_t> uids) {
  for (std::uint32_t uid : uids) {
    std::size_t i = index_of(uid);
    if (i == uids_.size() || (bits_[i] & kExpunged)) continue;
    changes_[uid].requested = Report::kFull;
  }
}

bool MailboxView::has_pending(FlushMode mode) const {
  if (mode == FlushMode::kAll && held_ > 0) return true;
  return announcing_ > 0 || !changes_.empty() || keywords_.all().size() > announced_keywords_;
}

// ---- Flushing

void MailboxView::apply_expunges(std::string& out) {
  proto::RangeSet vanished;
  std::size_t kept = 0;
  std::uint32_t removed = 0;
  for (std::size_t i = 0; i < uids_.size(); ++i) {
    if (bits_[i] & kExpunged) {
      if (qresync_) {
        vanished.add(uids_[i]);
      } else {
        // RFC 3501 7.4.1: each EXPUNGE renumbers the messages after it at once.
        append_count_line(out, i + 1 - removed, "EXPUNGE");
      }
      ++removed;
      if (bits_[i] & kRecent) --recent_count_;
      continue;
    }
    if (kept != i) {
      uids_[kept] = uids_[i];
      modseqs_[kept] = modseqs_[i];
      bits_[kept] = bits_[i];
      kwsets_[kept] = kwsets_[i];
    }
    ++kept;
  }
  uids_.resize(kept);
  modseqs_.resize(kept);
  bits_.resize(kept);
  kwsets_.resize(kept);
  if (!vanished.empty()) out += "* VANISHED " + vanished.to_string() + "\r\n";  // RFC 7162 3.2.10
  applied_modseq_ = std::max(applied_modseq_, held_max_modseq_);
  held_ = 0;
  held_min_modseq_ = UINT64_MAX;
  held_max_modseq_ = 0;
}

void MailboxView::append_fetch(std::string& out, std::size_t i, Report report, bool uid) const {
  proto::FetchResponse fetch(static_cast<std::uint32_t>(i + 1));
  if (report == Report::kFull) {
    fetch.add_flags(bits_[i] & kSystemMask, keywords_.names(kwsets_[i]), !rev2_ && (bits_[i] & kRecent));
  }
  if (condstore_) fetch.add_modseq(modseqs_[i]);
  if (uid || condstore_) fetch.add_number("UID", uids_[i]);
  fetch.finish();
  out += fetch.take();
}

std::string MailboxView::flush(FlushMode mode, bool uid) {
  std::string out;
  if (mode == FlushMode::kAll && held_ > 0) apply_expunges(out);

  bool added = false;
  std::size_t last_added = 0;  // appended_[0, last_added) are done with
  for (std::size_t k = 0; k < appended_.size(); ++k) {
    const Pending& p = appended_[k];
    if (p.state.bits & kCancelled) continue;
    uids_.push_back(p.uid);
    modseqs_.push_back(p.state.modseq);
    bits_.push_back(static_cast<std::uint8_t>(p.state.bits & (kSystemMask | kRecent)));
    kwsets_.push_back(p.state.kwset);
    if (p.state.bits & kRecent) ++recent_count_;
    applied_modseq_ = std::max(applied_modseq_, p.state.modseq);
    seen_uid_ = p.uid;
    last_added = k + 1;
    added = true;
  }
  // Tombstones above the last UID shown stay, to keep ignoring their append events.
  appended_.erase(appended_.begin(), appended_.begin() + static_cast<std::ptrdiff_t>(last_added));
  announcing_ = 0;
  if (added) {
    append_count_line(out, exists(), "EXISTS");
    if (!rev2_) append_count_line(out, recent_count_, "RECENT");
  }

  // RFC 3501 7.2.6: a keyword the client has not seen in FLAGS gets a new FLAGS first.
  if (keywords_.all().size() > announced_keywords_) {
    out += flags_responses();
    announced_keywords_ = keywords_.all().size();
  }

  for (const auto& [u, change] : changes_) {
    std::size_t i = index_of(u);
    if (i == uids_.size() || (bits_[i] & kExpunged)) continue;  // gone, or going
    Report report = change.requested;
    if (change.has_state && change.state.modseq > modseqs_[i]) {
      set_visible(i, change.state);
      applied_modseq_ = std::max(applied_modseq_, change.state.modseq);
      report = Report::kFull;
    }
    if (report != Report::kNone) append_fetch(out, i, report, uid);
  }
  changes_.clear();
  unreported_min_ = held_ > 0 ? held_min_modseq_ : UINT64_MAX;
  return out;
}

std::size_t MailboxView::memory_usage() const {
  std::size_t n = uids_.capacity() * sizeof(std::uint32_t) + modseqs_.capacity() * sizeof(std::uint64_t) +
                  bits_.capacity() * sizeof(std::uint8_t) + kwsets_.capacity() * sizeof(std::uint32_t);
  n += appended_.capacity() * sizeof(Pending);
  n += changes_.size() * (sizeof(std::pair<const std::uint32_t, Change>) + 32);  // map nodes
  n += keywords_.memory_usage();
  return n;
}

}  // namespace tern::imap
