// net/line_reader.h: bounded reading of CRLF lines (and raw byte runs) from a Stream.
//
// LineBuffer is the pure part: bytes in, complete lines out, never more than `max_line`
// bytes buffered for one line; it is what the line-reader fuzzer drives. LineReader adds the
// Stream. A line longer than the limit is reported as kTooLong once, and its remaining bytes
// up to the next LF are skipped, so the session can answer with an error and go on.
// Thread-safety: none (one per session).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "net/stream.h"

namespace tern::net {

enum class LineStatus { kLine, kTooLong, kNeedMore };

class LineBuffer {
 public:
  explicit LineBuffer(std::size_t max_line) : max_line_(max_line) {}

  // Appends received bytes. Memory stays bounded: a partial line that exceeds max_line is
  // dropped at once (and reported by next()), so at most the complete lines of the last
  // chunks plus max_line + 1 bytes are held.
  void feed(std::string_view bytes);
  // Extracts the next line (without its CRLF or bare LF) into `line`. kNeedMore when no
  // complete line is buffered; kTooLong when a line exceeded max_line (reported once).
  LineStatus next(std::string& line);
  // Takes up to `max` raw bytes already buffered (for literals and BDAT chunks).
  std::string take(std::size_t max);
  std::size_t buffered() const;
  // True when a complete line (up to LF) is buffered.
  bool has_line() const;
  // Puts `bytes` back in front of what is buffered (they are read again first).
  void unread(std::string_view bytes);
  // Forgets everything buffered (STARTTLS: plaintext pipelined after it is discarded).
  void clear();

 private:
  std::size_t max_line_;
  std::string buf_;
  std::size_t start_ = 0;      // Invariant: start_ <= buf_.size(); bytes before it are consumed
  bool skipping_ = false;      // inside an over-long line, dropping bytes up to LF
  bool tail_too_long_ = false; // an over-long partial line was dropped; report it after the
                               // complete lines still buffered
};

// kTimeout: the stream's timeout passed with no input; kStopped: the stream was
// interrupted (server shutdown); kClosed: EOF or any other I/O error.
enum class ReadStatus { kOk, kTooLong, kTimeout, kStopped, kClosed };

class LineReader {
 public:
  LineReader(Stream& stream, std::size_t max_line) : stream_(stream), buf_(max_line) {}

  // Reads one line into `line`; a failure says why it stopped (see ReadStatus).
  asio::awaitable<ReadStatus> read_line(std::string& line);
  // Reads exactly `n` raw bytes, appending them to `out` (literals, BDAT).
  asio::awaitable<ReadStatus> read_exact(std::size_t n, std::string& out);
  // Raw bytes as they come (SMTP DATA): replaces `out` with what is buffered or, when
  // nothing is, with one read of at most `max` bytes from the stream.
  asio::awaitable<ReadStatus> read_some(std::string& out, std::size_t max);
  // Gives back bytes that read_some returned but the caller did not use (a client's
  // commands pipelined after the end of DATA); they are read again first.
  void unread(std::string_view bytes) { buf_.unread(bytes); }
  // True when a whole line is buffered, so reading it will not wait for the peer (replies
  // may be held back and sent together, RFC 2920).
  bool has_line() const { return buf_.has_line(); }
  // True when bytes are buffered beyond the last line read (the client pipelined).
  bool has_buffered() const { return buf_.buffered() > 0; }
  void discard_buffered() { buf_.clear(); }

 private:
  ReadStatus failure(error_code ec) const;

  Stream& stream_;
  LineBuffer buf_;
};

}  // namespace tern::net
