// imap/proto/seqset.h: IMAP sequence sets (RFC 9051 9 "sequence-set") and compact sets of
// message numbers or UIDs.
//
// SequenceSet is what the client wrote ("1:3,7,10:*"), with `*` still unresolved: `*` means
// the largest number in use (RFC 9051 9, seq-number: the message count for message numbers,
// the highest UID for UIDs), which only the session knows. resolve() turns it into a
// RangeSet: sorted, merged, inclusive ranges that can be tested, counted, iterated and
// formatted ("1:3,5,7:9" for COPYUID, APPENDUID, VANISHED and ESEARCH ALL) without ever
// materializing the numbers, so "1:4294967295" costs one range. `$` (RFC 5182 SEARCHRES)
// is not supported and is refused by parse().
//
// Memory is proportional to the text parsed or the ranges added, never to the numbers.
// Values as types; no I/O, no globals. Thread-safety: as for any value type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace tern::imap::proto {

// An inclusive range of numbers. Invariant (inside RangeSet): 1 <= first <= last.
struct Range {
  std::uint32_t first = 0;
  std::uint32_t last = 0;
  friend bool operator==(const Range&, const Range&) = default;
};

// A set of positive 32-bit numbers held as sorted, disjoint, non-adjacent ranges.
class RangeSet {
 public:
  RangeSet() = default;

  // Adds one number or an inclusive range (either order); a range from 0 starts at 1.
  // Adding in ascending order costs O(1) amortized; out of order O(ranges).
  void add(std::uint32_t n) { add(n, n); }
  void add(std::uint32_t a, std::uint32_t b);
  void add(const RangeSet& other);

  bool empty() const { return ranges_.empty(); }
  bool contains(std::uint32_t n) const;  // O(log ranges)
  std::uint64_t count() const;           // how many numbers (up to 2^32 - 1)
  // Smallest and largest member; 0 when empty.
  std::uint32_t min() const { return ranges_.empty() ? 0 : ranges_.front().first; }
  std::uint32_t max() const { return ranges_.empty() ? 0 : ranges_.back().last; }
  const std::vector<Range>& ranges() const { return ranges_; }

  // The members <= limit (e.g. UIDs that can exist: limit = highest UID).
  RangeSet clamped(std::uint32_t limit) const;

  // Compact text: "1:3,5,7:9"; "" when empty. parse() of it gives the same set back.
  std::string to_string() const;

  // Forward iteration over the members in ascending order, without materializing them.
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::uint32_t;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::uint32_t*;
    using reference = std::uint32_t;

    Iterator() = default;
    std::uint32_t operator*() const { return value_; }
    Iterator& operator++();
    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) {
      return a.ranges_ == b.ranges_ && a.index_ == b.index_ && a.value_ == b.value_;
    }

   private:
    friend class RangeSet;
    Iterator(const std::vector<Range>* ranges, std::size_t index);
    const std::vector<Range>* ranges_ = nullptr;
    std::size_t index_ = 0;
    std::uint32_t value_ = 0;
  };
  Iterator begin() const { return Iterator(&ranges_, 0); }
  Iterator end() const { return Iterator(&ranges_, ranges_.size()); }

  friend bool operator==(const RangeSet&, const RangeSet&) = default;

 private:
  // Sorts and merges any ranges (1 <= first <= last each) into a set: O(n log n).
  static RangeSet from_ranges(std::vector<Range> ranges);
  friend class SequenceSet;

  // Invariant: sorted by first; for consecutive a, b: a.last + 1 < b.first.
  std::vector<Range> ranges_;
};

// A sequence set as sent by the client, `*` unresolved.
class SequenceSet {
 public:
  SequenceSet() = default;

  // Parses RFC 9051 sequence-set: nz-number or "*", "a:b" in either order, comma lists.
  // Errors are reply texts ("Invalid sequence set", "$ (SEARCHRES) is not supported").
  static tl::expected<SequenceSet, std::string> parse(std::string_view text);

  // True when `*` appears (alone or in a range).
  bool has_star() const { return has_star_; }

  // The numbers named when `*` stands for `star`: the message count, or the highest UID
  // in use. "a:*" covers min(a, star)..max(a, star), so the UID range "559:*" includes the
  // last UID even when it is below 559 (RFC 9051 6.4.8). star = 0 (empty mailbox): `*`
  // names nothing and "a:*" contributes nothing.
  RangeSet resolve(std::uint32_t star) const;
  bool contains(std::uint32_t n, std::uint32_t star) const;

  // The numbers written without `*`.
  const RangeSet& fixed() const { return fixed_; }

  // Canonical text; parse() of it gives an equal set.
  std::string to_string() const;

  friend bool operator==(const SequenceSet&, const SequenceSet&) = default;

 private:
  RangeSet fixed_;
  // The ranges with `*` merge into one: every "a:*" covers `*`, so their union is
  // min(star_lo_, star)..max(star_hi_, star). A lone "*" leaves lo = UINT32_MAX, hi = 0.
  bool has_star_ = false;
  std::uint32_t star_lo_ = UINT32_MAX;
  std::uint32_t star_hi_ = 0;
};

}  // namespace tern::imap::proto
