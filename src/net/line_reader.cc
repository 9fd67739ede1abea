#include "net/line_reader.h"

#include <algorithm>
#include <array>
#include <span>

namespace tern::net {

namespace {
constexpr std::size_t kReadChunk = 4096;
constexpr std::size_t kBulkChunk = 64 * 1024;  // raw runs (literals, BDAT)
}  // namespace

void LineBuffer::feed(std::string_view bytes) {
  if (skipping_) {
    auto lf = bytes.find('\n');
    if (lf == std::string_view::npos) {
      return;  // still inside the over-long line
    }
    skipping_ = false;
    bytes.remove_prefix(lf + 1);
  }
  if (bytes.empty()) {
    return;
  }
  // Drop consumed bytes before growing, so memory stays proportional to unread data.
  if (start_ > 0 && (start_ == buf_.size() || start_ >= buf_.size() / 2)) {
    buf_.erase(0, start_);
    start_ = 0;
  }
  buf_.append(bytes);

  // Bound the partial line at the tail: once it cannot fit, drop it now and report it
  // after the complete lines before it.
  std::size_t last_lf = buf_.rfind('\n');
  std::size_t tail_start =
      (last_lf == std::string::npos || last_lf < start_) ? start_ : last_lf + 1;
  std::size_t tail = buf_.size() - tail_start;
  // A line of exactly max_line_ bytes may still be waiting for its CRLF.
  bool over = tail > max_line_ + 1 || (tail == max_line_ + 1 && buf_.back() != '\r');
  if (over) {
    buf_.resize(tail_start);
    skipping_ = true;
    tail_too_long_ = true;
  }
}

LineStatus LineBuffer::next(std::string& line) {
  std::string_view rest(buf_.data() + start_, buf_.size() - start_);
  auto lf = rest.find('\n');
  if (lf == std::string_view::npos) {
    if (tail_too_long_) {
      tail_too_long_ = false;
      return LineStatus::kTooLong;
    }
    return LineStatus::kNeedMore;
  }
  std::size_t len = lf;
  if (len > 0 && rest[len - 1] == '\r') {
    --len;
  }
  bool too_long = len > max_line_;
  if (!too_long) {
    line.assign(rest.data(), len);  // before the consumed bytes are released below
  }
  start_ += lf + 1;
  if (start_ == buf_.size()) {
    buf_.clear();
    start_ = 0;
  }
  return too_long ? LineStatus::kTooLong : LineStatus::kLine;
}

std::string LineBuffer::take(std::size_t max) {
  std::size_t n = std::min(max, buffered());
  std::string out(buf_.data() + start_, n);
  start_ += n;
  if (start_ == buf_.size()) {
    buf_.clear();
    start_ = 0;
  }
  return out;
}

std::size_t LineBuffer::buffered() const { return buf_.size() - start_; }

bool LineBuffer::has_line() const {
  return buf_.find('\n', start_) != std::string::npos;
}

void LineBuffer::unread(std::string_view bytes) {
  if (bytes.empty()) return;
  buf_.erase(0, start_);
  buf_.insert(0, bytes);
  start_ = 0;
}

void LineBuffer::clear() {
  buf_.clear();
  buf_.shrink_to_fit();
  start_ = 0;
  skipping_ = false;
  tail_too_long_ = false;
}

ReadStatus LineReader::failure(error_code ec) const {
  if (ec == asio::error::timed_out) return ReadStatus::kTimeout;
  if (stream_.interrupted()) return ReadStatus::kStopped;
  return ReadStatus::kClosed;
}

asio::awaitable<ReadStatus> LineReader::read_line(std::string& line) {
  for (;;) {
    LineStatus st = buf_.next(line);
    if (st == LineStatus::kLine) {
      co_return ReadStatus::kOk;
    }
    if (st == LineStatus::kTooLong) {
      co_return ReadStatus::kTooLong;
    }
    std::array<char, kReadChunk> chunk;
    std::span<char> span(chunk);
    auto [ec, n] = co_await stream_.read_some(span);
    if (ec) {
      co_return failure(ec);
    }
    buf_.feed(std::string_view(chunk.data(), n));
  }
}

asio::awaitable<ReadStatus> LineReader::read_exact(std::size_t n, std::string& out) {
  std::string head = buf_.take(n);
  std::size_t remaining = n - head.size();
  out += head;
  // Read straight into `out`, growing it as bytes arrive (never trusting `n` for memory).
  while (remaining > 0) {
    std::size_t want = std::min(remaining, kBulkChunk);
    std::size_t old = out.size();
    out.resize(old + want);
    auto [ec, got] = co_await stream_.read_some(std::span<char>(out.data() + old, want));
    out.resize(old + got);
    if (ec) {
      co_return failure(ec);
    }
    remaining -= got;
  }
  co_return ReadStatus::kOk;
}

asio::awaitable<ReadStatus> LineReader::read_some(std::string& out, std::size_t max) {
  if (buf_.buffered() > 0) {
    out = buf_.take(max);
    co_return ReadStatus::kOk;
  }
  out.resize(max);
  auto [ec, got] = co_await stream_.read_some(std::span<char>(out.data(), max));
  out.resize(got);
  if (ec) {
    co_return failure(ec);
  }
  co_return ReadStatus::kOk;
}

}  // namespace tern::net
