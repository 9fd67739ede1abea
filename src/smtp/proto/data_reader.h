// smtp/proto/data_reader.h: the message content of DATA (RFC 5321 4.1.1.4, 4.5.2) and of
// BDAT chunks (RFC 3030), decoded incrementally from the bytes the socket delivers.
//
// Pure: bytes in, decoded message bytes out; no I/O, no logging, no globals. One object
// per message, used by one session (not thread-safe; move it, do not share it).
//
// The only end of DATA is CR LF "." CR LF, where the start of the content counts as just
// after a CR LF (so ".\r\n" at once is an empty message). A bare LF or a bare CR never
// ends the data, with or without the dot: "\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n" and
// "\r\n.\r" are content (or errors), never the end; this is the defence against SMTP
// smuggling, where a relay and its next hop disagree on where a message ends.
//
// Output: lines always end in CR LF; a line beginning with "." loses that dot (RFC 5321
// 4.5.2), also after a normalised bare LF; the CR LF before the final dot belongs to the
// message. Problems with the content do not stop the reader: the first one is kept in
// error(), the output is dropped (and its memory freed), and the reader goes on consuming
// until the end of data, so that the session can answer error_reply() after the final dot
// (RFC 5321 4.2.5; "the rest of DATA is read and dropped").
//
// Memory: the decoded message is at most DataLimits::max_size bytes (string capacity
// included, bar a constant); nothing else grows with the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "smtp/proto/reply.h"

namespace tern::smtp::proto {

enum class BareLf {
  kNormalize,  // an LF without CR is taken as CR LF
  kReject,     // an LF without CR is DataError::kBareLf
};

struct DataLimits {
  std::uint64_t max_size = 0;     // decoded bytes (CR LF line ends, dots removed)
  std::size_t max_line = 65536;   // decoded octets per line, without CR LF or stuffing dot
  BareLf bare_lf = BareLf::kNormalize;
};

enum class DataError {
  kNone,
  kTooBig,       // the decoded message exceeds max_size
  kBareCr,       // a CR not followed by LF (RFC 5321 2.3.8)
  kBareLf,       // an LF not preceded by CR, with BareLf::kReject (RFC 5321 2.3.8)
  kNul,          // a NUL octet (RFC 5322 2.1)
  kLineTooLong,  // a line longer than max_line
};

// The reply to send after the end of data for a content error:
//   kTooBig        552 5.3.4 (RFC 1870 6.1, RFC 3463 X.3.4)
//   kBareCr/kBareLf/kNul
//                  550 5.6.0 (RFC 3463 X.6.0 media error; 550 is a policy rejection,
//                  RFC 5321 4.3.2)
//   kLineTooLong   552 5.6.0: RFC 5321 4.5.3.1.10 names "500 Line too long", but 500 is
//                  not a reply to the end of data (RFC 5321 4.3.2 allows 552/554/550 there);
//                  552 is the one used for content over a limit.
//   kNone          250 2.0.0 "OK" (the session adds its own queue id text).
Reply error_reply(DataError e);

namespace detail {

// The line-end policy shared by DataReader and ChunkFilter: CR LF checks, bare LF
// normalisation, NUL, line length, size limit, 8-bit detection, and (for DATA) dot
// unstuffing and the end marker.
class ContentDecoder {
 public:
  ContentDecoder(DataLimits limits, bool dot_stuffed);

  std::size_t feed(std::string_view in);
  void finish();  // a CR still waiting for its LF becomes kBareCr

  bool done() const { return done_; }
  DataError error() const { return error_; }
  bool eight_bit() const { return eight_bit_; }
  std::uint64_t size() const { return size_; }
  const std::string& out() const { return out_; }
  std::string take();

 private:
  void fail(DataError e);
  void count_text(std::size_t n);  // n decoded octets of the current line
  void end_line(bool crlf);        // counts the CR LF that ends the line
  void append(const char* p, std::size_t n);

  DataLimits limits_;
  bool dot_stuffed_;
  std::string out_;
  std::uint64_t size_ = 0;  // decoded bytes so far, also those already taken
  std::size_t line_len_ = 0;
  DataError error_ = DataError::kNone;
  bool eight_bit_ = false;
  bool done_ = false;
  // Invariant: pending_cr_ means the last octet fed was a CR that was not yet written out:
  // the next octet decides between a line end and a bare CR.
  bool pending_cr_ = false;
  bool bol_ = true;       // at the start of a line (a leading dot is stuffing)
  bool eligible_ = true;  // this line began after a real CR LF, or at the very start
  // The line so far is only a stuffing dot, at an eligible start: a CR LF now ends DATA.
  bool dot_line_ = false;
};

}  // namespace detail

// DATA: feed the bytes that follow the 354 reply until done().
class DataReader {
 public:
  explicit DataReader(DataLimits limits) : decoder_(limits, /*dot_stuffed=*/true) {}

  // Consumes bytes of `in` up to and including the end marker and returns how many it
  // took: all of `in` while the end is not reached; once done(), the bytes after the
  // marker (pipelined commands) are the caller's. Returns 0 once done().
  std::size_t feed(std::string_view in) { return decoder_.feed(in); }

  bool done() const { return decoder_.done(); }
  DataError error() const { return decoder_.error(); }
  bool eight_bit() const { return decoder_.eight_bit(); }  // an octet >= 0x80 was seen
  std::uint64_t size() const { return decoder_.size(); }   // decoded bytes so far

  // The decoded content so far (empty after an error). take() moves it out; it may be
  // called before done() to stream the message, and size limits still count everything.
  const std::string& message() const { return decoder_.out(); }
  std::string take() { return decoder_.take(); }

 private:
  detail::ContentDecoder decoder_;
};

// BDAT: the same line-end policy for the chunks of one message; no dot unstuffing and no
// end marker (the chunk sizes frame the message). A CR at the end of one chunk and an LF
// at the start of the next are one CR LF.
class ChunkFilter {
 public:
  explicit ChunkFilter(DataLimits limits) : decoder_(limits, /*dot_stuffed=*/false) {}

  // Takes all of `chunk` (or any part of a chunk; boundaries do not matter).
  void feed(std::string_view chunk) { decoder_.feed(chunk); }
  // After the LAST chunk: a final CR with no LF is kBareCr.
  void finish() { decoder_.finish(); }

  DataError error() const { return decoder_.error(); }
  bool eight_bit() const { return decoder_.eight_bit(); }
  std::uint64_t size() const { return decoder_.size(); }
  const std::string& message() const { return decoder_.out(); }
  std::string take() { return decoder_.take(); }

 private:
  detail::ContentDecoder decoder_;
};

}  // namespace tern::smtp::proto
