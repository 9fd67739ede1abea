#include "smtp/proto/data_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace tern::smtp::proto {
namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHighs = 0x8080808080808080ull;

// Non-zero iff some byte of x is zero (exact for "any", RFC-free bit trick).
constexpr std::uint64_t has_zero(std::uint64_t x) { return (x - kOnes) & ~x & kHighs; }

// Returns the offset of the first CR, LF or NUL in [p, p + n), or n; sets `high` when an
// octet >= 0x80 comes before it. Eight bytes at a time.
std::size_t find_special(const char* p, std::size_t n, bool& high) {
  std::uint64_t acc = 0;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (has_zero(w) | has_zero(w ^ (kOnes * '\r')) | has_zero(w ^ (kOnes * '\n'))) break;
    acc |= w;
  }
  if ((acc & kHighs) != 0) high = true;
  for (; i < n; ++i) {
    auto c = static_cast<unsigned char>(p[i]);
    if (c == '\r' || c == '\n' || c == '\0') return i;
    if (c >= 0x80) high = true;
  }
  return n;
}

}  // namespace

Reply error_reply(DataError e) {
  switch (e) {
    case DataError::kNone:
      return {250, "2.0.0", "OK"};
    case DataError::kTooBig:
      return {552, "5.3.4", "Message size exceeds fixed maximum message size"};
    case DataError::kBareCr:
      return {550, "5.6.0", "Message contains a bare CR (RFC 5321 2.3.8)"};
    case DataError::kBareLf:
      return {550, "5.6.0", "Message contains a bare LF (RFC 5321 2.3.8)"};
    case DataError::kNul:
      return {550, "5.6.0", "Message contains a NUL character"};
    case DataError::kLineTooLong:
      return {552, "5.6.0", "Message contains a line that is too long"};
  }
  return {554, "5.6.0", "Message refused"};
}

namespace detail {

ContentDecoder::ContentDecoder(DataLimits limits, bool dot_stuffed)
    : limits_(limits), dot_stuffed_(dot_stuffed) {}

std::string ContentDecoder::take() {
  std::string out = std::move(out_);
  out_.clear();
  return out;
}

void ContentDecoder::fail(DataError e) {
  if (error_ != DataError::kNone) return;
  error_ = e;
  std::string().swap(out_);  // nothing more is stored; give the memory back now
}

void ContentDecoder::count_text(std::size_t n) {
  // Which limit the run crosses first decides the error (ties go to the size).
  std::uint64_t size_room = size_ < limits_.max_size ? limits_.max_size - size_ : 0;
  std::size_t line_room = line_len_ < limits_.max_line ? limits_.max_line - line_len_ : 0;
  size_ += n;
  line_len_ += n;
  bool size_over = n > size_room;
  bool line_over = n > line_room;
  if (size_over && (!line_over || size_room <= line_room)) {
    fail(DataError::kTooBig);
  } else if (line_over) {
    fail(DataError::kLineTooLong);
  }
}

void ContentDecoder::end_line(bool crlf) {
  size_ += 2;
  if (size_ > limits_.max_size) fail(DataError::kTooBig);
  line_len_ = 0;
  bol_ = true;
  eligible_ = crlf;
  dot_line_ = false;
}

void ContentDecoder::append(const char* p, std::size_t n) {
  if (error_ != DataError::kNone || n == 0) return;
  std::size_t need = out_.size() + n;
  if (need > out_.capacity()) {
    // Grow geometrically but never past max_size (need <= max_size: count_text and
    // end_line fail before anything over the limit reaches here). libstdc++'s reserve()
    // rounds up to twice the old capacity, so the one capped growth builds a fresh string.
    std::size_t cap = out_.capacity();
    std::uint64_t want = std::max<std::uint64_t>(need, std::uint64_t{cap} * 2);
    if (want > limits_.max_size) {
      std::string fresh;
      fresh.reserve(std::max<std::size_t>(need, static_cast<std::size_t>(limits_.max_size)));
      fresh.append(out_);
      out_.swap(fresh);
    } else {
      out_.reserve(static_cast<std::size_t>(want));
    }
  }
  out_.append(p, n);
}

void ContentDecoder::finish() {
  if (pending_cr_) {
    pending_cr_ = false;
    fail(DataError::kBareCr);
  }
}

std::size_t ContentDecoder::feed(std::string_view in) {
  if (done_) return 0;
  const char* p = in.data();
  const std::size_t n = in.size();
  std::size_t i = 0;
  std::size_t run = 0;  // [run, i) are octets copied verbatim, not yet appended
  const auto flush = [&](std::size_t upto) {
    append(p + run, upto - run);
    run = upto;
  };

  if (pending_cr_ && n > 0) {
    pending_cr_ = false;
    if (p[0] == '\n') {
      if (dot_line_) {  // "\r\n.\r" + "\n"
        done_ = true;
        return 1;
      }
      end_line(true);
      append("\r", 1);  // the LF joins the verbatim run
      i = 1;
    } else {
      fail(DataError::kBareCr);
      count_text(1);
      dot_line_ = false;
    }
  }

  while (i < n) {
    if (bol_) {
      bol_ = false;
      if (dot_stuffed_ && p[i] == '.') {
        // RFC 5321 4.5.2: drop the leading dot; "." alone, after CR LF, is the end.
        flush(i);
        run = ++i;
        dot_line_ = eligible_;
        continue;
      }
    }
    std::size_t k = find_special(p + i, n - i, eight_bit_);
    if (k > 0) {
      count_text(k);
      i += k;
      dot_line_ = false;
      if (i == n) break;
    }
    const char c = p[i];
    if (c == '\r') {
      if (i + 1 == n) {  // the next feed tells what this CR is
        flush(i);
        run = ++i;
        pending_cr_ = true;
        break;
      }
      if (p[i + 1] == '\n') {
        if (dot_line_) {  // CR LF "." CR LF
          flush(i);
          i += 2;
          done_ = true;
          return i;
        }
        i += 2;  // CR LF stays in the verbatim run
        end_line(true);
      } else {
        fail(DataError::kBareCr);
        count_text(1);
        dot_line_ = false;
        ++i;
      }
    } else if (c == '\n') {
      // A bare LF (RFC 5321 2.3.8): never an end of data, whatever surrounds it.
      if (limits_.bare_lf == BareLf::kReject) fail(DataError::kBareLf);
      flush(i);
      end_line(false);
      append("\r\n", 2);
      run = ++i;
    } else {  // NUL
      fail(DataError::kNul);
      count_text(1);
      dot_line_ = false;
      ++i;
    }
  }
  flush(i);
  return i;
}

}  // namespace detail
}  // namespace tern::smtp::proto
