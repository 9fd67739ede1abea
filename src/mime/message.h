// mime/message.h: the MIME tree of one message (RFC 2045, 2046, 5322, 6532).
//
// Contract: parse() is pure and total: any bytes give a best-effort tree and never fail or
// crash (missing or wrong boundaries, unterminated parts, NULs, 8-bit junk). Parts hold
// offsets into the message bytes, never copies, so a Message stays small and can be cached
// (mime/cache.h) and used later with the same bytes. Nesting stops at kMaxDepth (deeper
// entities are kept as opaque leaves) and a tree holds at most kMaxParts parts.
// A Message is a plain value: thread-safe to share read-only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mime/header.h"

namespace tern::mime {

inline constexpr std::size_t kMaxDepth = 64;
inline constexpr std::size_t kMaxParts = 10000;

struct Part {
  // Offsets into the message bytes: [header_begin, body_begin) is the header block with
  // its blank line, [body_begin, body_end) the body.
  std::uint64_t header_begin = 0;
  std::uint64_t body_begin = 0;
  std::uint64_t body_end = 0;
  std::uint64_t body_lines = 0;  // line count of the body (a last partial line counts)

  // Content-Type, lower-cased, with RFC 2045/2046 defaults applied: text/plain with
  // charset=us-ascii, or message/rfc822 inside multipart/digest.
  std::string type = "text";
  std::string subtype = "plain";
  std::vector<Param> params;
  std::string id, description, md5, location;  // empty: absent
  std::string encoding = "7bit";               // Content-Transfer-Encoding, lower-cased
  std::string disposition;                     // lower-cased; empty: absent
  std::vector<Param> disposition_params;
  std::vector<std::string> language;

  // Children: the parts of a multipart, or, for message/rfc822 and message/global, the one
  // encapsulated message (whose header block is that message's header).
  std::vector<std::uint32_t> children;
  // IMAP ENVELOPE of the message whose header this part carries (the root part and the
  // child of each message/rfc822 part); empty for other parts.
  std::string envelope;

  bool is_multipart() const { return type == "multipart"; }
  // True when this part encapsulates a message (its one child is that message).
  bool is_message() const { return type == "message" && !children.empty(); }
  std::uint64_t body_size() const { return body_end - body_begin; }
  const Param* param(std::string_view name) const;
};

struct Message {
  std::vector<Part> parts;  // parts[0] is the root (the message itself); never empty
  std::uint64_t size = 0;   // RFC822.SIZE: the number of octets of the message
};

Message parse(std::string_view bytes);

// Line count as BODYSTRUCTURE reports it.
std::uint64_t count_lines(std::string_view body);

}  // namespace tern::mime
