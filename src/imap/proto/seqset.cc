#include "imap/proto/seqset.h"

#include <algorithm>
#include <utility>

namespace tern::imap::proto {
namespace {

constexpr std::uint64_t kMaxNumber = UINT32_MAX;
constexpr std::uint64_t kInvalid = kMaxNumber + 1;

// seq-number = nz-number / "*" (RFC 9051 9). Returns the number, 0 for "*", or kInvalid.
// Leading zeros are tolerated; 0 is not.
std::uint64_t parse_seq_number(std::string_view s) {
  if (s == "*") return 0;
  if (s.empty()) return kInvalid;
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return kInvalid;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
    if (n > kMaxNumber) return kInvalid;
  }
  return n == 0 ? kInvalid : n;
}

void append_range(std::string& out, const Range& r) {
  if (!out.empty()) out.push_back(',');
  out += std::to_string(r.first);
  if (r.last != r.first) {
    out.push_back(':');
    out += std::to_string(r.last);
  }
}

}  // namespace

void RangeSet::add(std::uint32_t a, std::uint32_t b) {
  if (a > b) std::swap(a, b);
  if (b == 0) return;
  if (a == 0) a = 1;
  // The common case: appending in ascending order.
  if (ranges_.empty() || std::uint64_t{a} > std::uint64_t{ranges_.back().last} + 1) {
    ranges_.push_back({a, b});
    return;
  }
  if (a >= ranges_.back().first) {
    ranges_.back().last = std::max(ranges_.back().last, b);
    return;
  }
  // First range that touches or follows [a, b]; merge every range it touches.
  auto lo = std::lower_bound(ranges_.begin(), ranges_.end(), a, [](const Range& r, std::uint32_t v) {
    return std::uint64_t{r.last} + 1 < v;
  });
  auto hi = lo;
  Range merged{a, b};
  while (hi != ranges_.end() && std::uint64_t{hi->first} <= std::uint64_t{b} + 1) {
    merged.first = std::min(merged.first, hi->first);
    merged.last = std::max(merged.last, hi->last);
    ++hi;
  }
  if (lo == hi) {
    ranges_.insert(lo, merged);
  } else {
    *lo = merged;
    ranges_.erase(lo + 1, hi);
  }
}

void RangeSet::add(const RangeSet& other) {
  if (other.empty()) return;
  if (empty() || std::uint64_t{other.min()} > std::uint64_t{max()} + 1) {
    ranges_.insert(ranges_.end(), other.ranges_.begin(), other.ranges_.end());
    return;
  }
  std::vector<Range> all = ranges_;
  all.insert(all.end(), other.ranges_.begin(), other.ranges_.end());
  *this = from_ranges(std::move(all));
}

RangeSet RangeSet::from_ranges(std::vector<Range> ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const Range& x, const Range& y) { return x.first < y.first; });
  RangeSet out;
  for (const Range& r : ranges) {
    if (!out.ranges_.empty() && std::uint64_t{r.first} <= std::uint64_t{out.ranges_.back().last} + 1) {
      out.ranges_.back().last = std::max(out.ranges_.back().last, r.last);
    } else {
      out.ranges_.push_back(r);
    }
  }
  return out;
}

bool RangeSet::contains(std::uint32_t n) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), n,
                             [](std::uint32_t v, const Range& r) { return v < r.first; });
  return it != ranges_.begin() && std::prev(it)->last >= n;
}

std::uint64_t RangeSet::count() const {
  std::uint64_t n = 0;
  for (const Range& r : ranges_) n += std::uint64_t{r.last} - r.first + 1;
  return n;
}

RangeSet RangeSet::clamped(std::uint32_t limit) const {
  RangeSet out;
  for (const Range& r : ranges_) {
    if (r.first > limit) break;
    out.ranges_.push_back({r.first, std::min(r.last, limit)});
  }
  return out;
}

std::string RangeSet::to_string() const {
  std::string out;
  for (const Range& r : ranges_) append_range(out, r);
  return out;
}

RangeSet::Iterator::Iterator(const std::vector<Range>* ranges, std::size_t index)
    : ranges_(ranges), index_(index), value_(index < ranges->size() ? (*ranges)[index].first : 0) {}

RangeSet::Iterator& RangeSet::Iterator::operator++() {
  if (value_ == (*ranges_)[index_].last) {
    ++index_;
    value_ = index_ < ranges_->size() ? (*ranges_)[index_].first : 0;
  } else {
    ++value_;
  }
  return *this;
}

tl::expected<SequenceSet, std::string> SequenceSet::parse(std::string_view text) {
  if (text.find('$') != std::string_view::npos) {
    return tl::unexpected(std::string("$ (SEARCHRES) is not supported"));
  }
  auto invalid = [] { return tl::unexpected(std::string("Invalid sequence set")); };
  if (text.empty()) return invalid();
  SequenceSet set;
  std::vector<Range> fixed;
  std::size_t pos = 0;
  for (;;) {
    std::size_t comma = text.find(',', pos);
    std::string_view item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    std::size_t colon = item.find(':');
    std::uint64_t a = parse_seq_number(item.substr(0, colon));
    std::uint64_t b = colon == std::string_view::npos ? a : parse_seq_number(item.substr(colon + 1));
    if (a == kInvalid || b == kInvalid) return invalid();
    if (a == 0 || b == 0) {
      // "*", "*:*", "a:*" or "*:a"
      set.has_star_ = true;
      if (std::uint64_t n = a == 0 ? b : a; n != 0) {
        set.star_lo_ = std::min(set.star_lo_, static_cast<std::uint32_t>(n));
        set.star_hi_ = std::max(set.star_hi_, static_cast<std::uint32_t>(n));
      }
    } else {
      auto x = static_cast<std::uint32_t>(a), y = static_cast<std::uint32_t>(b);
      fixed.push_back({std::min(x, y), std::max(x, y)});
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  set.fixed_ = RangeSet::from_ranges(std::move(fixed));
  return set;
}

RangeSet SequenceSet::resolve(std::uint32_t star) const {
  RangeSet out = fixed_;
  if (has_star_ && star != 0) out.add(std::min(star_lo_, star), std::max(star_hi_, star));
  return out;
}

bool SequenceSet::contains(std::uint32_t n, std::uint32_t star) const {
  if (fixed_.contains(n)) return true;
  return has_star_ && star != 0 && n >= std::min(star_lo_, star) && n <= std::max(star_hi_, star);
}

std::string SequenceSet::to_string() const {
  std::string out = fixed_.to_string();
  if (!has_star_) return out;
  if (!out.empty()) out.push_back(',');
  if (star_hi_ == 0) return out + "*";  // only lone "*"
  out += std::to_string(star_lo_) + ":*";
  if (star_hi_ != star_lo_) out += "," + std::to_string(star_hi_) + ":*";
  return out;
}

}  // namespace tern::imap::proto
