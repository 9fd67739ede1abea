// libFuzzer target for the DATA/BDAT content decoder. The first 4 bytes choose the limits
// and where the rest is cut into feeds; the rest is the stream from the client. Checks:
// cutting the stream anywhere gives the result of one feed; the result is the model's
// (data_reader_model.h), so the end of data is exactly the first CR LF "." CR LF; consumed
// never passes the input; the output has only CR LF line ends; memory stays within
// max_size; a decoded message dot-stuffed again decodes to itself.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"
#include "smtp/proto/data_reader.h"
#include "smtp/proto/data_reader_model.h"

namespace {

using namespace tern::smtp::proto;

struct Outcome {
  bool done = false;
  std::size_t consumed = 0;
  DataError error = DataError::kNone;
  std::string message;
  bool eight_bit = false;
  std::uint64_t size = 0;
};

bool only_crlf_line_ends(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return false;
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
  }
  return true;
}

Outcome run(std::string_view in, const DataLimits& limits, const std::vector<std::size_t>& cuts) {
  DataReader reader(limits);
  Outcome o;
  std::size_t start = 0;
  for (std::size_t end : cuts) {
    if (reader.done()) break;
    std::string_view piece = in.substr(start, end - start);
    std::size_t used = reader.feed(piece);
    TERN_CHECK(used <= piece.size());
    TERN_CHECK(reader.done() || used == piece.size());
    o.consumed += used;
    start = end;
    TERN_CHECK(reader.message().size() <= limits.max_size);
    TERN_CHECK(reader.message().capacity() <= std::max<std::uint64_t>(limits.max_size, 30));
  }
  o.done = reader.done();
  o.error = reader.error();
  o.message = reader.message();
  o.eight_bit = reader.eight_bit();
  o.size = reader.size();
  return o;
}

bool same(const Outcome& a, const Outcome& b) {
  return a.done == b.done && a.consumed == b.consumed && a.error == b.error &&
         a.message == b.message && a.eight_bit == b.eight_bit && a.size == b.size;
}

std::string chunk_run(std::string_view in, const DataLimits& limits,
                      const std::vector<std::size_t>& cuts, DataError& error) {
  ChunkFilter filter(limits);
  std::size_t start = 0;
  for (std::size_t end : cuts) {
    filter.feed(in.substr(start, end - start));
    start = end;
    TERN_CHECK(filter.message().size() <= limits.max_size);
  }
  filter.finish();
  error = filter.error();
  return filter.message();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const std::uint8_t flags = data[0];
  DataLimits limits;
  limits.max_size = (flags & 1) != 0 ? std::uint64_t{data[1]} * 4 : std::uint64_t{1} << 20;
  limits.max_line = (flags & 2) != 0 ? data[2] : 65536;
  limits.bare_lf = (flags & 4) != 0 ? BareLf::kReject : BareLf::kNormalize;
  std::uint32_t seed = data[3] * 2654435761u + static_cast<std::uint32_t>(size);
  std::string_view in(reinterpret_cast<const char*>(data + 4), size - 4);

  // Cut points: none, every byte, or pseudo-random ones chosen by the seed.
  std::vector<std::size_t> cuts;
  if ((flags & 8) != 0) {
    for (std::size_t i = 1; i < in.size(); ++i) cuts.push_back(i);
  } else {
    for (std::size_t i = 1; i < in.size(); ++i) {
      seed = seed * 1103515245u + 12345u;
      if ((seed >> 16) % 5 == 0) cuts.push_back(i);
    }
  }
  cuts.push_back(in.size());
  const std::vector<std::size_t> whole_cut = {in.size()};

  Outcome whole = run(in, limits, whole_cut);
  Outcome pieces = run(in, limits, cuts);
  TERN_CHECK(same(whole, pieces));
  TERN_CHECK(whole.consumed <= in.size());
  TERN_CHECK(whole.done || whole.consumed == in.size());
  TERN_CHECK(only_crlf_line_ends(whole.message));
  TERN_CHECK(whole.error == DataError::kNone || whole.message.empty());
  TERN_CHECK(whole.error != DataError::kNone || whole.size == whole.message.size());

  auto m = model::decode(in, limits);
  TERN_CHECK(m.done == whole.done);
  TERN_CHECK(m.consumed == whole.consumed);
  TERN_CHECK(m.error == whole.error);
  TERN_CHECK(m.message == whole.message);
  TERN_CHECK(m.eight_bit == whole.eight_bit);

  if (whole.done && whole.error == DataError::kNone) {
    // Dot-stuff the message again (RFC 5321 4.5.2) and end it: it decodes to itself.
    std::string again;
    std::size_t start = 0;
    while (start < whole.message.size()) {
      std::size_t end = whole.message.find("\r\n", start) + 2;
      if (whole.message[start] == '.') again += '.';
      again.append(whole.message, start, end - start);
      start = end;
    }
    again += ".\r\n";
    Outcome re = run(again, limits, {again.size()});
    TERN_CHECK(re.done && re.consumed == again.size() && re.error == DataError::kNone);
    TERN_CHECK(re.message == whole.message);
  }

  // BDAT: the same policy without dots or an end marker.
  DataError e1, e2;
  std::string c1 = chunk_run(in, limits, whole_cut, e1);
  std::string c2 = chunk_run(in, limits, cuts, e2);
  TERN_CHECK(e1 == e2 && c1 == c2);
  TERN_CHECK(only_crlf_line_ends(c1));
  TERN_CHECK(e1 == DataError::kNone || c1.empty());
  return 0;
}
