#include "cli/queue.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>

#include <fmt/format.h>

#include "mime/header.h"

namespace tern::cli {
namespace {

std::string utc(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string_view state_name(store::QueueState s) {
  switch (s) {
    case store::QueueState::kQueued: return "queued";
    case store::QueueState::kDelivered: return "delivered";
    case store::QueueState::kFailed: return "failed";
  }
  return "?";
}

std::string notify_names(uint8_t notify) {
  if (notify == 0) return "default";
  if (notify & store::kNotifyNever) return "never";
  std::string out;
  auto add = [&](uint8_t bit, std::string_view name) {
    if (!(notify & bit)) return;
    if (!out.empty()) out += ',';
    out += name;
  };
  add(store::kNotifySuccess, "success");
  add(store::kNotifyFailure, "failure");
  add(store::kNotifyDelay, "delay");
  return out;
}

// Reports a failed operation on queue entry `id` on stderr; returns the exit code (1).
int entry_failure(const Error& e, store::Id id, std::string_view doing) {
  if (e.code == ErrorCode::kNotFound) {
    fmt::print(stderr, "tern: no queue entry {}\n", id);
  } else {
    fmt::print(stderr, "tern: cannot {} queue entry {}: {}\n", doing, id, e.message);
  }
  return 1;
}

}  // namespace

int queue_list(store::MailStore& store) {
  auto entries = store.list_queue();
  if (!entries) {
    fmt::print(stderr, "tern: cannot read the queue: {}\n", entries.error().message);
    return 1;
  }
  uint64_t bytes = 0;
  std::size_t recipients = 0;
  for (const store::QueueEntry& e : *entries) {
    const store::OutboundMessage& m = e.message;
    fmt::print("{}\t{} bytes\tqueued {}\tattempts {}\tnext {}\tfrom <{}>{}\n", e.id, e.size - m.skip,
               utc(e.created), e.attempts, utc(e.next_attempt), m.sender, e.held ? "\theld" : "");
    for (const store::OutboundRecipient& r : m.recipients) {
      fmt::print("\t<{}>\t{}\tnotify {}{}{}\n", r.address, state_name(r.state), notify_names(r.notify),
                 r.last_error.empty() ? "" : "\t", r.last_error);
    }
    bytes += e.size - m.skip;
    recipients += m.recipients.size();
  }
  fmt::print("{} messages, {} recipients, {} bytes\n", entries->size(), recipients, bytes);
  return 0;
}

int queue_show(store::MailStore& store, store::Id id) {
  auto entries = store.list_queue();
  if (!entries) {
    fmt::print(stderr, "tern: cannot read the queue: {}\n", entries.error().message);
    return 1;
  }
  auto it = std::find_if(entries->begin(), entries->end(), [&](const store::QueueEntry& e) { return e.id == id; });
  if (it == entries->end()) {
    fmt::print(stderr, "tern: no queue entry {}\n", id);
    return 1;
  }
  const store::QueueEntry& e = *it;
  const store::OutboundMessage& m = e.message;
  fmt::print("id: {}\nsize: {} bytes\nqueued: {}\nattempts: {}\nnext attempt: {}\nheld: {}\n", e.id,
             e.size - m.skip, utc(e.created), e.attempts, utc(e.next_attempt), e.held ? "yes" : "no");
  if (!e.lease_owner.empty()) fmt::print("lease: {} until {}\n", e.lease_owner, utc(e.lease_until));
  fmt::print("from: <{}>\nenvid: {}\nret: {}\nsmtputf8: {}\n8bitmime: {}\n", m.sender, m.envid.empty() ? "-" : m.envid,
             m.ret == store::DsnRet::kFull   ? "full"
             : m.ret == store::DsnRet::kHdrs ? "hdrs"
                                             : "default",
             m.smtputf8 ? "yes" : "no", m.eightbit ? "yes" : "no");
  for (const store::OutboundRecipient& r : m.recipients) {
    fmt::print("recipient: <{}>\t{}\tnotify {}\torcpt {}\t{}\n", r.address, state_name(r.state),
               notify_names(r.notify), r.orcpt.empty() ? "-" : r.orcpt, r.last_error.empty() ? "-" : r.last_error);
  }
  auto bytes = store.read_blob(e.blob_id);
  if (!bytes) {
    fmt::print(stderr, "tern: cannot read queue entry {}'s message: {}\n", id, bytes.error().message);
    return 1;
  }
  const std::string_view message = std::string_view(*bytes).substr(std::min<uint64_t>(m.skip, bytes->size()));
  const mime::HeaderBlock head = mime::parse_header_block(message);
  fmt::print("\n{}", message.substr(0, head.body_offset));
  return 0;
}

int queue_del(store::MailStore& store, store::Id id) {
  auto st = store.delete_queue_entry(id);
  if (!st) return entry_failure(st.error(), id, "delete");
  fmt::print("deleted queue entry {}\n", id);
  return 0;
}

int queue_hold(store::MailStore& store, store::Id id, bool held) {
  auto st = store.set_queue_held(id, held);
  if (!st) return entry_failure(st.error(), id, "change");
  fmt::print("{} queue entry {}\n", held ? "held" : "released", id);
  return 0;
}

int queue_retry(store::MailStore& store, store::Id id) {
  auto st = store.retry_queue_entry(id, static_cast<int64_t>(std::time(nullptr)));
  if (!st) return entry_failure(st.error(), id, "change");
  fmt::print("queue entry {} is due now\n", id);
  return 0;
}

}  // namespace tern::cli
