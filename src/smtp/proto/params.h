// smtp/proto/params.h: the arguments of MAIL FROM, RCPT TO and BDAT (RFC 5321 4.1.1.2,
// 4.1.1.3, 4.1.2; SIZE RFC 1870; BODY RFC 6152; SMTPUTF8 RFC 6531; DSN RFC 3461; AUTH=
// RFC 4954 5; CHUNKING RFC 3030).
//
// Pure: the `arg` of a parsed Command (the rest of the line after the verb's space, e.g.
// "FROM:<a@b.example> SIZE=100") in, a typed value or the Reply to send out. No I/O, no
// logging, no globals; safe to call from any thread. Every failure is the peer's mistake
// and comes back as the exact SMTP error reply (code, enhanced code, text).
//
// Accepted leniencies (each a common client quirk; nothing else is tolerated):
//  - spaces between "FROM:"/"TO:" and the path ("MAIL FROM: <a@b>");
//  - more than one space between parameters;
//  - with PathOptions::allow_unbracketed, a path without angle brackets
//    ("MAIL FROM:a@b.example SIZE=10", as sent by some printers and scanners). Off by
//    default; the null path must always be written "<>".
// Source routes ("<@a.example,@b.example:user@c.example>") are checked and dropped
// (RFC 5321 4.1.1.3, C.). Letters in xtext hex pairs are taken in either case.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "smtp/proto/path.h"
#include "smtp/proto/reply.h"

namespace tern::smtp::proto {

struct PathOptions {
  // Accept "FROM:a@b" / "TO:a@b" (no angle brackets): see the header comment.
  bool allow_unbracketed = false;
};

struct MailFrom {
  enum class Body { kDefault, k7Bit, k8BitMime };  // RFC 6152; BINARYMIME is refused
  enum class Ret { kDefault, kFull, kHdrs };       // RFC 3461 4.3

  Path path;
  std::optional<std::uint64_t> size;  // RFC 1870 SIZE=, the client's estimate
  Body body = Body::kDefault;
  bool smtputf8 = false;  // RFC 6531 3.4
  Ret ret = Ret::kDefault;
  std::string envid;  // RFC 3461 4.4, xtext-decoded; "" when absent
  std::string auth;   // RFC 4954 5 AUTH=, xtext-decoded ("<>" stays "<>"); "" when absent
};

// RCPT NOTIFY= bits (RFC 3461 4.1). The same values as store::DsnNotify in
// src/store/types.h; kept apart so that proto depends on base only.
inline constexpr std::uint8_t kNotifyNever = 1;
inline constexpr std::uint8_t kNotifySuccess = 2;
inline constexpr std::uint8_t kNotifyFailure = 4;
inline constexpr std::uint8_t kNotifyDelay = 8;

struct RcptTo {
  Path path;
  std::uint8_t notify = 0;  // kNotify* bits; 0 when NOTIFY= was absent (RFC 3461 5.2.1)
  // RFC 3461 4.2 ORCPT=, "addr-type;address" with the address xtext-decoded; "" when
  // absent. For addr-type utf-8 (RFC 6533 3) the address is kept as sent
  // (utf-8-addr-xtext, or utf-8-addr-unitext under SMTPUTF8).
  std::string orcpt;
};

struct Bdat {
  std::uint64_t size = 0;  // the chunk's octet count
  bool last = false;
};

// MAIL: `arg` is "FROM:<path> [params]". SMTPUTF8 among the parameters allows UTF-8 in
// the path.
tl::expected<MailFrom, Reply> parse_mail_from(std::string_view arg, const PathOptions& options = {});

// RCPT: `arg` is "TO:<path> [params]"; `smtputf8` says whether this transaction's MAIL
// carried SMTPUTF8 (UTF-8 in the path and in ORCPT is allowed only then).
tl::expected<RcptTo, Reply> parse_rcpt_to(std::string_view arg, bool smtputf8,
                                          const PathOptions& options = {});

// BDAT: `arg` is "<size> [LAST]" (RFC 3030 2).
tl::expected<Bdat, Reply> parse_bdat(std::string_view arg);

// xtext (RFC 3461 4): every octet outside "!".."~", and "+" and "=", becomes "+XX" (upper
// case hex). decode returns nullopt when `in` is not xtext (a character outside "!".."~",
// a bare "=", or a "+" not followed by two hex digits).
std::string xtext_encode(std::string_view in);
std::optional<std::string> xtext_decode(std::string_view in);

}  // namespace tern::smtp::proto
