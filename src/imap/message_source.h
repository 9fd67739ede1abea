// imap/message_source.h: lazy access to one message's bytes and MIME parse, for FETCH and
// SEARCH (imap/fetch.h, imap/search.h).
//
// The session implements MessageSource over the store (MailStore::read_blob, and the parse
// cache blob of mime/cache.h when the store keeps one); tests implement it over a string.
// Nothing is read until a FETCH item or SEARCH key needs content: FLAGS, UID,
// INTERNALDATE, RFC822.SIZE, MODSEQ and flag/size/date/set searches never call it.
//
// LoadedMessage wraps a source for the duration of one message in one command: it reads
// the bytes at most once and parses them at most once (from the parse cache when it is
// present and sound, else with mime::parse()). What needs only the top-level header
// (HEADER.FIELDS, RFC822.HEADER, TEXT offsets, ENVELOPE, SEARCH FROM/SUBJECT/HEADER/SENT*)
// reads only a prefix of the message (kHeaderProbe octets, or the exact header size when
// the parse cache gives it), so a client syncing headers of large messages, or a header
// search, does not read the attachments.
//
// Thread-safety: none; one LoadedMessage per message being processed. Calls into the
// source may block (store I/O): run them where blocking is allowed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "mime/message.h"

namespace tern::imap {

class MessageSource {
 public:
  virtual ~MessageSource() = default;

  // The whole message, exactly as stored (RFC822.SIZE octets). The view must stay valid
  // as long as the source. Errors are the store's (kIo, kCorruption, kNotFound...).
  virtual Result<std::string_view> bytes() = 0;

  // The first min(max, size) octets of the message (exactly that many: a reader that
  // returns short reads must loop). The view must stay valid as long as the source. The
  // default takes them from bytes(); the session reads just the prefix from the blob.
  virtual Result<std::string_view> prefix(std::size_t max);

  // The message's serialized parse (mime::serialize()) when the store keeps one, "" when
  // it does not. A cache that fails mime::deserialize() or does not match the message's
  // size is ignored and the bytes are parsed instead.
  virtual Result<std::string> parse_cache() { return std::string(); }
};

// Octets read to find the top-level header when its size is not known; a longer header
// (rare: DKIM and Received chains stay well below) makes header() read the whole message.
inline constexpr std::size_t kHeaderProbe = 64 * 1024;

class LoadedMessage {
 public:
  // `source` must outlive this object. `size` is the stored size (store::Message::size),
  // used to check a parse cache before trusting it.
  LoadedMessage(MessageSource& source, std::uint64_t size) : source_(source), size_(size) {}

  // The bytes, read from the source on first use.
  Result<std::string_view> bytes();
  // The MIME tree, from the parse cache or parsed from bytes() on first use. The pointer
  // lives as long as this object.
  Result<const mime::Message*> parsed();

  // The top-level header block with its blank line: octets [0, body offset) of the
  // message, as mime::parse() delimits parts[0]. Reads a prefix of the message, or uses
  // the bytes or the parse cache when they are there.
  Result<std::string_view> header();

  // The octets [offset, offset + length) when they are in memory already (the bytes, or
  // the prefix read by header()); nullopt otherwise.
  std::optional<std::string_view> in_memory(std::uint64_t offset, std::uint64_t length) const;

  bool bytes_loaded() const { return bytes_.has_value(); }
  bool has_parsed() const { return parsed_.has_value(); }
  // True when parsed() came from the parse cache (no bytes were read for it).
  bool parsed_from_cache() const { return from_cache_; }

 private:
  MessageSource& source_;
  std::uint64_t size_;
  std::optional<std::string_view> bytes_;
  std::optional<std::string_view> prefix_;  // what header() read, when not bytes_
  std::optional<std::string_view> header_;  // a view into bytes_ or prefix_
  std::optional<mime::Message> parsed_;
  bool from_cache_ = false;
};

}  // namespace tern::imap
