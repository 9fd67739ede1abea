// store/queue_checks.cc: see queue_checks.h.
#include "store/queue_checks.h"

namespace tern::store {
namespace {

constexpr uint8_t kAllNotify = kNotifyNever | kNotifySuccess | kNotifyFailure | kNotifyDelay;

bool clean(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos; }

Status check_message(const OutboundMessage& m, std::string_view bytes, bool fresh) {
  if (m.recipients.empty()) return make_error(ErrorCode::kInvalid, "queued message without recipients");
  if (!clean(m.sender)) return make_error(ErrorCode::kInvalid, "sender holds CR, LF or NUL");
  if (!clean(m.envid)) return make_error(ErrorCode::kInvalid, "ENVID holds CR, LF or NUL");
  if (m.ret != DsnRet::kDefault && m.ret != DsnRet::kFull && m.ret != DsnRet::kHdrs) {
    return make_error(ErrorCode::kInvalid, "RET {} out of range", static_cast<int>(m.ret));
  }
  if (m.skip > bytes.size()) {
    return make_error(ErrorCode::kInvalid, "skip {} beyond the message's {} bytes", m.skip, bytes.size());
  }
  for (const OutboundRecipient& r : m.recipients) {
    if (r.address.empty() || !clean(r.address)) {
      return make_error(ErrorCode::kInvalid, "bad recipient address '{}'", r.address);
    }
    if (!clean(r.orcpt)) return make_error(ErrorCode::kInvalid, "ORCPT of {} holds CR, LF or NUL", r.address);
    if ((r.notify & ~kAllNotify) != 0) {
      return make_error(ErrorCode::kInvalid, "NOTIFY bits {:#x} of {} out of range", r.notify, r.address);
    }
    if (r.state != QueueState::kQueued && r.state != QueueState::kDelivered && r.state != QueueState::kFailed) {
      return make_error(ErrorCode::kInvalid, "state {} of {} out of range", static_cast<int>(r.state), r.address);
    }
    if (fresh && (r.state != QueueState::kQueued || !r.last_error.empty())) {
      return make_error(ErrorCode::kInvalid, "new recipient {} must be queued without an error", r.address);
    }
    if (r.last_error.find('\0') != std::string::npos) {
      return make_error(ErrorCode::kInvalid, "last error of {} holds NUL", r.address);
    }
  }
  return ok();
}

}  // namespace

Status check_delivery(std::string_view bytes, std::span<const AppendTarget> targets, const OutboundMessage* outbound) {
  if (targets.empty() && outbound == nullptr) {
    return make_error(ErrorCode::kInvalid, "delivery without a target mailbox or an outbound recipient");
  }
  if (outbound == nullptr) return ok();
  return check_message(*outbound, bytes, true);
}

Status check_queue_entry(const QueueEntry& entry, std::string_view bytes) {
  return check_message(entry.message, bytes, false);
}

}  // namespace tern::store
