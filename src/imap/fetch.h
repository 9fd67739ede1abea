// imap/fetch.h: the FETCH response for one message (RFC 9051 6.4.5 and 7.5.2, RFC 3516
// BINARY, RFC 7162 MODSEQ), as pieces the session sends in order.
//
// A response is a list of FetchPieces: text to send as it is, and ranges of the message's
// bytes that are the content of a literal whose "{n}\r\n" announcement ends the text
// before. The session sends a range from the store (BlobReader::read in chunks), so a
// 50 MiB BODY[] never sits in the response buffer and, when no other item needs content,
// is never read into memory at all. Literal contents are copied into the text when they
// are small (<= FetchOptions::inline_limit) and the bytes are in memory already or the
// message itself is that small; otherwise they are ranges, even small ones (a preview
// BODY.PEEK[]<0.2048> of a 50 MiB message reads 2 KiB). Decoded or extracted content
// (BINARY of base64, HEADER.FIELDS) is text: when large, a piece of its own (moved, not
// copied).
//
// Items come out in the order asked (RFC 9051 does not fix one; this is what Dovecot does),
// each name once: UID first when FetchOptions::uid (UID FETCH, RFC 9051 6.4.9), MODSEQ
// after the items asked when FetchOptions::modseq (CONDSTORE, RFC 7162 3.1.4.1), and
// FLAGS last when the fetch just set \Seen and FLAGS was not asked (RFC 9051 6.4.5).
// Macros (ALL, FAST, FULL) arrive expanded from imap/proto (read_fetch_atts).
//
// \Seen (RFC 9051 6.4.5): BODY[...], BINARY[...] (not .PEEK), RFC822 and RFC822.TEXT set
// \Seen. The session checks needs_seen() for each message before building its response,
// stores +FLAGS (\Seen) durably (one store_flags call for the whole set is best), and
// builds the response from the updated store::Message with FetchMessage::seen_changed.
//
// Errors: a Result error is the MessageSource's (store I/O): answer "NO" with a generic
// text and log it. FetchOutput::refusal is the client's request failing on this message
// (RFC 3516 UNKNOWN-CTE): answer "<tag> NO " + refusal_text(). Nothing of the message's
// response is produced before either is known, so no half response is ever sent.
//
// Pure apart from the MessageSource calls; thread-safe as functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "imap/message_source.h"
#include "imap/proto/fetch_items.h"
#include "store/types.h"

namespace tern::imap {

// Literal contents up to this size are copied into the response text.
inline constexpr std::size_t kFetchInlineLimit = 64 * 1024;

// [offset, offset + length) of the message's bytes. Invariant: within the message's size.
struct ByteRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

struct FetchPiece {
  enum class Kind {
    kText,   // `text`: send as it is (response text, literal announcements, small contents)
    kRange,  // `range`: send those octets of the message; the text before announced them.
             // A blob that ends early cannot keep the literal's promise: close the connection.
  };
  Kind kind = Kind::kText;
  std::string text;
  ByteRange range;
};

struct FetchOptions {
  bool uid = false;         // UID FETCH: UID is always returned, first (RFC 9051 6.4.9)
  bool modseq = false;      // CONDSTORE: MODSEQ is always returned (RFC 7162 3.1.4.1, CHANGEDSINCE)
  bool read_only = false;   // EXAMINE: nothing sets \Seen
  bool condstore = false;   // CONDSTORE enabled: FLAGS added for \Seen comes with MODSEQ (RFC 7162 3.2)
  int zone_minutes = 0;     // zone INTERNALDATE is shown in (the store keeps UTC instants)
  std::size_t inline_limit = kFetchInlineLimit;
};

// One message as the session knows it now.
struct FetchMessage {
  const store::Message* message = nullptr;  // flags and modseq after any implicit \Seen
  std::uint32_t seq = 0;                     // message sequence number
  bool recent = false;                       // in this session's \Recent set
  bool seen_changed = false;                 // this FETCH just set \Seen: FLAGS is returned
};

// RFC 3516 4.2: the server cannot decode the part's Content-Transfer-Encoding.
enum class FetchRefusal { kNone, kUnknownCte };

struct FetchOutput {
  FetchRefusal refusal = FetchRefusal::kNone;  // when set, pieces is empty
  std::vector<FetchPiece> pieces;              // the whole "* n FETCH (...)\r\n"
};

// True when some item sets \Seen (RFC 9051 6.4.5): BODY[...] and BINARY[...] without
// .PEEK, RFC822, RFC822.TEXT.
bool sets_seen(const std::vector<proto::FetchAttr>& items);
// True when the session must set \Seen on `message` before building its response.
bool needs_seen(const std::vector<proto::FetchAttr>& items, const store::Message& message,
                const FetchOptions& options);
// True when some item needs the message's bytes or MIME structure (anything but FLAGS,
// INTERNALDATE, RFC822.SIZE, UID, MODSEQ). When false, fetch_message() never calls the
// source and can run on the I/O thread.
bool needs_content(const std::vector<proto::FetchAttr>& items);

// Builds the response for one message. Reads the source only as the items need (at most
// once, parsing at most once). Blocks while the source reads.
Result<FetchOutput> fetch_message(const std::vector<proto::FetchAttr>& items, const FetchMessage& message,
                                  MessageSource& source, const FetchOptions& options);

// The tagged NO text for a refusal, with its response code: "[UNKNOWN-CTE] ...".
std::string_view refusal_text(FetchRefusal refusal);

}  // namespace tern::imap
