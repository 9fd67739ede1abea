#include "queue/dsn.h"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace tern::queue {
namespace {

// Longest reply text quoted in a bounce; the rest is cut ("...").
constexpr std::size_t kMaxReply = 2000;
// Header and text lines are folded before this many octets where a space allows it.
constexpr std::size_t kFoldAt = 78;
// No line of the bounce may pass RFC 5322 2.1.1's limit; a longer word is cut.
constexpr std::size_t kMaxWord = 900;

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// The length of the UTF-8 sequence at s[i], or 0 when it is not well-formed (RFC 3629 4).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = at(i);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
  }
  return n;
}

// `s` made safe for one header or text line: controls become '?', and so does every
// non-ASCII octet unless `utf8` allows well-formed UTF-8. Cut to `max` octets.
std::string clean(std::string_view s, bool utf8, std::size_t max = kMaxReply) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && out.size() < max;) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += (c < 0x20 || c == 0x7f) ? '?' : s[i];
      ++i;
      continue;
    }
    const std::size_t n = utf8 ? utf8_sequence(s, i) : 0;
    if (n == 0) {
      out += '?';
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  if (out.size() >= max && s.size() > max) out += "...";
  return out;
}

// Appends `first` + `text` as lines of about kFoldAt octets, broken at spaces; each further
// line starts with `indent` (for a header field: whitespace, which makes it a fold).
void append_folded(std::string& out, std::string_view first, std::string_view text, std::string_view indent) {
  std::string line(first);
  bool line_has_word = false;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(pos, std::min(end - pos, kMaxWord));
    pos = end + 1;
    if (word.empty()) continue;
    if (line_has_word && line.size() + 1 + word.size() > kFoldAt) {
      out += line;
      out += "\r\n";
      line.assign(indent);
      line_has_word = false;
    }
    if (line_has_word) line += ' ';
    line += word;
    line_has_word = true;
  }
  out += line;
  out += "\r\n";
}

void field(std::string& out, std::string_view name, std::string_view value) {
  append_folded(out, fmt::format("{}: ", name), value, "\t");
}

// "250 ..." style: three digits, the first 2 to 5, then a space or nothing (RFC 5321 4.2).
bool is_smtp_reply(std::string_view reply) {
  if (reply.size() < 3) return false;
  if (reply[0] < '2' || reply[0] > '5') return false;
  if (reply[1] < '0' || reply[1] > '9' || reply[2] < '0' || reply[2] > '9') return false;
  return reply.size() == 3 || reply[3] == ' ';
}

// The enhanced status code after the reply code (RFC 3463 2: class "." subject "." detail,
// subject and detail of one to three digits), or "" when there is none.
std::string enhanced_code(std::string_view reply) {
  if (!is_smtp_reply(reply) || reply.size() < 4) return {};
  std::string_view rest = reply.substr(4);
  const std::size_t end = std::min(rest.find(' '), rest.size());
  std::string_view code = rest.substr(0, end);
  if (code.size() < 5 || (code[0] != '2' && code[0] != '4' && code[0] != '5') || code[1] != '.') return {};
  std::size_t i = 2;
  for (int group = 0; group < 2; ++group) {
    std::size_t digits = 0;
    while (i < code.size() && code[i] >= '0' && code[i] <= '9') {
      ++i;
      ++digits;
    }
    if (digits < 1 || digits > 3) return {};
    if (group == 0) {
      if (i >= code.size() || code[i] != '.') return {};
      ++i;
    }
  }
  if (i != code.size()) return {};
  return std::string(code);
}

struct Attachment {
  std::string type;  // Content-Type
  std::string_view content;
  bool whole = false;
};

// What of the original goes back (RFC 3461 4.3), without its first `skip` octets.
Attachment attachment(const DsnOptions& o, const store::OutboundMessage& m, std::string_view stored, bool global) {
  std::string_view msg = stored.substr(std::min<uint64_t>(m.skip, stored.size()));
  const bool whole = m.ret == store::DsnRet::kFull || (m.ret == store::DsnRet::kDefault && msg.size() <= o.full_limit);
  if (whole) return Attachment{global ? "message/global" : "message/rfc822", msg, true};
  // The header: every line up to the empty one (RFC 5322 2.1), the empty line left out.
  std::string_view header = msg;
  if (msg.starts_with("\r\n")) {
    header = {};
  } else if (const std::size_t blank = msg.find("\r\n\r\n"); blank != std::string_view::npos) {
    header = msg.substr(0, blank + 2);
  }
  return Attachment{global ? "message/global-headers" : "text/rfc822-headers", header, false};
}

std::string address_type(std::string_view address) { return is_ascii(address) ? "rfc822" : "utf-8"; }

}  // namespace

bool wants_failure_report(uint8_t notify) {
  if (notify == 0) return true;  // RFC 3461 4.1: no NOTIFY is NOTIFY=FAILURE (or DELAY,FAILURE)
  if ((notify & store::kNotifyNever) != 0) return false;
  return (notify & store::kNotifyFailure) != 0;
}

std::string dsn_status(const FailedRecipient& failed) {
  if (failed.expired) return "4.4.7";  // RFC 3463 3.5: delivery time expired
  std::string code = enhanced_code(failed.reply);
  if (!code.empty() && code[0] == '5') return code;
  return "5.0.0";
}

std::string rfc5322_date(int64_t unix_time) {
  const auto t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} +0000", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::optional<Bounce> build_bounce(const DsnOptions& options, const store::OutboundMessage& message,
                                   std::span<const FailedRecipient> failed,
                                   std::optional<std::string_view> original, int64_t arrival, int64_t now,
                                   uint64_t token) {
  if (message.sender.empty()) return std::nullopt;  // RFC 5321 4.5.5: never bounce a bounce
  std::vector<const FailedRecipient*> due;
  for (const FailedRecipient& f : failed) {
    if (f.index >= message.recipients.size()) continue;
    if (!wants_failure_report(message.recipients[f.index].notify)) continue;
    if (std::any_of(due.begin(), due.end(), [&](const FailedRecipient* d) { return d->index == f.index; })) continue;
    due.push_back(&f);
  }
  if (due.empty()) return std::nullopt;

  // RFC 6533: UTF-8 in the envelope makes the report a global one.
  bool global = message.smtputf8 || !is_ascii(message.sender);
  for (const FailedRecipient* f : due) {
    const store::OutboundRecipient& r = message.recipients[f->index];
    if (!is_ascii(r.address) || !is_ascii(r.orcpt)) global = true;
  }
  const std::string host = clean(options.hostname, false, 255);
  const std::string sender = clean(message.sender, global);

  Bounce bounce;
  bounce.smtputf8 = global;

  // Part 1: for people.
  std::string text = fmt::format("This is the mail system at {}.\r\n\r\n", host);
  text += "Your message could not be delivered to the following recipients:\r\n\r\n";
  for (const FailedRecipient* f : due) {
    const std::string address = clean(message.recipients[f->index].address, global);
    const std::string reply = clean(f->reply, global);
    text += fmt::format("<{}>\r\n", address);
    if (f->expired) {
      append_folded(text, "    ", "it could not be delivered in time, the last attempt ended with: " + reply, "    ");
    } else if (is_smtp_reply(f->reply)) {
      const std::string by = f->remote_mta.empty() ? std::string("the receiving server") : clean(f->remote_mta, global);
      append_folded(text, "    ", by + " answered: " + reply, "    ");
    } else {
      append_folded(text, "    ", reply, "    ");
    }
    text += "\r\n";
    bounce.reported.push_back(f->index);
  }
  std::optional<Attachment> attached;
  if (original) attached = attachment(options, message, *original, global);
  if (!attached) {
    text += "The message itself could not be read, so it is not attached.\r\n";
  } else if (attached->whole) {
    text += "Your message is attached below.\r\n";
  } else {
    text += "The header of your message is attached below.\r\n";
  }

  // Part 2: for programs (RFC 3464 2.2 per message, 2.3 per recipient).
  std::string report;
  field(report, "Reporting-MTA", "dns; " + host);
  if (!message.envid.empty()) field(report, "Original-Envelope-Id", clean(message.envid, global));
  field(report, "Arrival-Date", rfc5322_date(arrival));
  for (const FailedRecipient* f : due) {
    const store::OutboundRecipient& r = message.recipients[f->index];
    report += "\r\n";
    if (!r.orcpt.empty()) {
      const std::string orcpt = clean(r.orcpt, global);
      field(report, "Original-Recipient",
            orcpt.find(';') == std::string::npos ? address_type(orcpt) + ";" + orcpt : orcpt);
    }
    field(report, "Final-Recipient", address_type(r.address) + "; " + clean(r.address, global));
    field(report, "Action", "failed");
    field(report, "Status", dsn_status(*f));
    if (!f->remote_mta.empty()) field(report, "Remote-MTA", "dns; " + clean(f->remote_mta, false, 255));
    if (is_smtp_reply(f->reply)) {
      field(report, "Diagnostic-Code", "smtp; " + clean(f->reply, global));
    } else {
      field(report, "Diagnostic-Code", "X-Tern; " + clean(f->reply, global));
    }
    field(report, "Last-Attempt-Date", rfc5322_date(now));
  }

  // A boundary that occurs in no part (RFC 2046 5.1.1).
  std::string boundary;
  for (uint64_t n = 0;; ++n) {
    boundary = fmt::format("=_tern_dsn_{:016x}_{}", token, n);
    const bool taken = text.find(boundary) != std::string::npos || report.find(boundary) != std::string::npos ||
                       (attached && attached->content.find(boundary) != std::string_view::npos);
    if (!taken) break;
  }

  const bool text_8bit = !is_ascii(text);
  const bool report_8bit = !is_ascii(report);
  const bool attached_8bit = attached && !is_ascii(attached->content);
  bounce.eightbit = text_8bit || report_8bit || attached_8bit;

  std::string& out = bounce.bytes;
  out.reserve(text.size() + report.size() + (attached ? attached->content.size() : 0) + 1024);
  field(out, "From", fmt::format("Mail Delivery System <MAILER-DAEMON@{}>", host));
  field(out, "To", fmt::format("<{}>", sender));
  field(out, "Subject", "Undelivered Mail Returned to Sender");
  field(out, "Date", rfc5322_date(now));
  field(out, "Message-ID", fmt::format("<{:016x}.{}.dsn@{}>", token, now, host));
  field(out, "Auto-Submitted", "auto-replied");  // RFC 3834 5
  field(out, "MIME-Version", "1.0");
  out += fmt::format("Content-Type: multipart/report; report-type={};\r\n\tboundary=\"{}\"\r\n",
                     global ? "global-delivery-status" : "delivery-status", boundary);
  if (bounce.eightbit) field(out, "Content-Transfer-Encoding", "8bit");
  out += "\r\nThis is a MIME-encapsulated message.\r\n";

  out += fmt::format("\r\n--{}\r\n", boundary);
  field(out, "Content-Description", "Notification");
  field(out, "Content-Type", text_8bit ? "text/plain; charset=utf-8" : "text/plain; charset=us-ascii");
  if (text_8bit) field(out, "Content-Transfer-Encoding", "8bit");
  out += "\r\n";
  out += text;

  out += fmt::format("\r\n--{}\r\n", boundary);
  field(out, "Content-Description", "Delivery report");
  field(out, "Content-Type", global ? "message/global-delivery-status" : "message/delivery-status");
  if (report_8bit) field(out, "Content-Transfer-Encoding", "8bit");
  out += "\r\n";
  out += report;

  if (attached) {
    out += fmt::format("\r\n--{}\r\n", boundary);
    field(out, "Content-Description", attached->whole ? "Undelivered message" : "Undelivered message header");
    field(out, "Content-Type", attached->type);
    if (attached_8bit) field(out, "Content-Transfer-Encoding", "8bit");
    out += "\r\n";
    out += attached->content;
    if (!attached->content.empty() && !attached->content.ends_with("\r\n")) out += "\r\n";
  }
  out += fmt::format("\r\n--{}--\r\n", boundary);
  return bounce;
}

}  // namespace tern::queue
