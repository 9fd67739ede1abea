#include "queue/bounce.h"

#include <random>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "queue/policy.h"
#include "smtp/recipients.h"

namespace tern::queue {
namespace {

uint64_t random_token() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

void log_bounce(const store::QueueEntry& entry, const BounceSent& sent) {
  std::string failed;
  for (std::size_t i : sent.reported) failed += fmt::format(" <{}>", entry.message.recipients[i].address);
  if (!sent.dropped.empty()) {
    spdlog::warn("queue {}: bounce to <{}> for{} dropped: {}", entry.id, entry.message.sender, failed, sent.dropped);
    return;
  }
  std::string where;
  for (const std::string& m : sent.mailboxes) where += fmt::format(" INBOX of {};", m);
  if (sent.queue_id != 0) where += fmt::format(" queued as {} for {} address(es);", sent.queue_id, sent.remote.size());
  if (!where.empty()) where.pop_back();
  spdlog::info("queue {}: bounce to <{}> for{}:{}", entry.id, entry.message.sender, failed, where);
}

}  // namespace

std::vector<FailedRecipient> failed_recipients(std::span<const store::RecipientOutcome> outcomes) {
  std::vector<FailedRecipient> out;
  for (const store::RecipientOutcome& o : outcomes) {
    if (o.state != store::QueueState::kFailed) continue;
    FailedRecipient f;
    f.index = o.index;
    std::string_view reply = o.reply;
    if (reply.starts_with(kExpiredPrefix)) {
      f.expired = true;
      reply.remove_prefix(kExpiredPrefix.size());
    }
    f.reply = std::string(reply);
    out.push_back(std::move(f));
  }
  return out;
}

Result<BounceSent> send_bounce(store::MailStore& store, const BounceOptions& options, const store::QueueEntry& entry,
                               std::optional<std::string_view> original, std::span<const FailedRecipient> failed,
                               int64_t now) {
  BounceSent sent;
  std::optional<Bounce> bounce =
      build_bounce(options.dsn, entry.message, failed, original, entry.created, now, random_token());
  if (!bounce) {
    spdlog::info("queue {}: no bounce to <{}>: null sender, or NOTIFY asked for none", entry.id,
                 entry.message.sender);
    return sent;
  }
  sent.due = true;
  sent.reported = bounce->reported;

  // Where the sender's mail goes, as if it were a RCPT TO here; the sender may always be
  // reached elsewhere (we relay for it).
  const std::string& sender = entry.message.sender;
  auto parts = store::split_address(sender);
  if (!parts) {
    sent.dropped = "the sender has no domain";
    log_bounce(entry, sent);
    return sent;
  }
  smtp::RecipientResolver resolver(store, options.smtp);
  auto where = resolver.resolve(parts->first, parts->second, sender, true, options.dsn.hostname);
  if (!where) return tl::unexpected(where.error());
  if (where->kind != smtp::Resolution::Kind::kAccepted) {
    sent.dropped = "the sender is not a known address here";
    log_bounce(entry, sent);
    return sent;
  }

  // RFC 5321 4.4: the local copies start with the (null) reverse-path; the queued one skips it.
  std::string bytes;
  if (!where->local.empty()) bytes = "Return-Path: <>\r\n";
  const std::size_t skip = bytes.size();
  bytes += bounce->bytes;
  std::vector<store::AppendTarget> targets;
  for (const smtp::LocalTarget& t : where->local) {
    store::AppendTarget target;
    target.mailbox_id = t.inbox_id;
    targets.push_back(std::move(target));
    sent.mailboxes.push_back(t.account);
  }
  std::optional<store::OutboundMessage> outbound;
  if (!where->remote.empty()) {
    outbound.emplace();
    outbound->sender = "";  // the null reverse-path: a bounce is never bounced
    outbound->smtputf8 = bounce->smtputf8;
    outbound->eightbit = bounce->eightbit;
    outbound->skip = skip;
    for (const std::string& address : where->remote) {
      store::OutboundRecipient r;
      r.address = address;
      outbound->recipients.push_back(std::move(r));
      sent.remote.push_back(address);
    }
  }
  const store::OutboundMessage* out = outbound ? &*outbound : nullptr;
  Result<store::Delivered> delivered = store.deliver(bytes, now, targets, out);
  if (!delivered) return tl::unexpected(delivered.error());
  sent.queue_id = delivered->queue_id;
  log_bounce(entry, sent);
  return sent;
}

void defer_unbounced(std::vector<store::RecipientOutcome>& outcomes, std::string_view why) {
  for (store::RecipientOutcome& o : outcomes) {
    if (o.state != store::QueueState::kFailed) continue;
    o.state = store::QueueState::kQueued;
    o.reply = fmt::format("{} (not bounced yet: {})", o.reply, why);
  }
}

}  // namespace tern::queue
