#include "cli/message.h"

#include <cstdio>
#include <ctime>
#include <optional>

#include <fmt/format.h>

#include "base/strings.h"
#include "cli/admin.h"

namespace tern::cli {
namespace {

constexpr std::size_t kChunk = 1 << 20;

// The account's mailbox `name`, or an error printed and nullopt. "INBOX" is matched without
// regard to case, as IMAP does (RFC 9051 5.1); other names exactly.
std::optional<store::Mailbox> need_mailbox(store::MailStore& s, const std::string& address,
                                           const std::string& name) {
  auto acct = need_account(s, address);
  if (!acct) return std::nullopt;
  std::string mailbox = iequals(name, "INBOX") ? std::string("INBOX") : name;
  auto mb = s.find_mailbox(acct->id, mailbox);
  if (!mb) {
    fail("lookup failed", mb.error());
    return std::nullopt;
  }
  if (!*mb) {
    fmt::print(stderr, "tern: {} has no mailbox named {}\n", acct->address, name);
    return std::nullopt;
  }
  return **mb;
}

std::string flag_list(const store::Message& m) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {store::kFlagSeen, "\\Seen"},       {store::kFlagAnswered, "\\Answered"},
      {store::kFlagFlagged, "\\Flagged"}, {store::kFlagDeleted, "\\Deleted"},
      {store::kFlagDraft, "\\Draft"},
  };
  std::string out = "(";
  for (const auto& [bit, flag] : kNames) {
    if (!(m.flags & bit)) continue;
    if (out.size() > 1) out += ' ';
    out += flag;
  }
  for (const auto& kw : m.keywords) {
    if (out.size() > 1) out += ' ';
    out += kw;
  }
  return out + ")";
}

std::string utc_time(int64_t when) {
  std::time_t t = static_cast<std::time_t>(when);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return std::to_string(when);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int message_list(store::MailStore& s, const std::string& address, const std::string& mailbox) {
  auto mb = need_mailbox(s, address, mailbox);
  if (!mb) return 1;
  auto msgs = s.list_messages(mb->id);
  if (!msgs) return fail("cannot list messages", msgs.error());
  for (const auto& m : *msgs) {
    fmt::print("{}\t{}\t{}\t{}\n", m.uid, m.size, flag_list(m), utc_time(m.internal_date));
  }
  return 0;
}

int message_show(store::MailStore& s, const std::string& address, const std::string& mailbox,
                 uint32_t uid) {
  auto mb = need_mailbox(s, address, mailbox);
  if (!mb) return 1;
  auto msgs = s.list_messages(mb->id, uid, uid);
  if (!msgs) return fail("cannot read message", msgs.error());
  if (uid == 0 || msgs->empty()) {
    fmt::print(stderr, "tern: no message with UID {} in {} of {}\n", uid, mb->name, address);
    return 1;
  }
  auto reader = s.open_blob(msgs->front().blob_id);
  if (!reader) return fail("cannot read message", reader.error());
  for (uint64_t offset = 0;;) {
    auto chunk = (*reader)->read(offset, kChunk);
    if (!chunk) return fail("cannot read message", chunk.error());
    if (chunk->empty()) break;
    if (std::fwrite(chunk->data(), 1, chunk->size(), stdout) != chunk->size()) {
      fmt::print(stderr, "tern: cannot write to stdout\n");
      return 1;
    }
    offset += chunk->size();
  }
  if (std::fflush(stdout) != 0) {
    fmt::print(stderr, "tern: cannot write to stdout\n");
    return 1;
  }
  return 0;
}

}  // namespace tern::cli
