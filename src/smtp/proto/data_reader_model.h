// smtp/proto/data_reader_model.h: a slow, obviously-correct model of DataReader, for the
// unit tests and the fuzzer only (not part of the library).
//
// It works on the whole input at once and straight from the rules in data_reader.h: the
// end of data is the first CR LF "." CR LF in CR LF + input; the content before it is cut
// into lines at CR LF (and at a bare LF), each line loses a leading dot, and the first
// problem met octet by octet is the error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "smtp/proto/data_reader.h"

namespace tern::smtp::proto::model {

struct Result {
  bool done = false;
  std::size_t consumed = 0;
  DataError error = DataError::kNone;
  std::string message;  // "" when error != kNone
  bool eight_bit = false;
};

// `input` must hold the whole stream; for a stream without an end marker the model says
// not done and consumed = input.size(), with the message decoded so far (a final CR waits
// for the octet after it).
inline Result decode(std::string_view input, const DataLimits& limits) {
  Result r;
  std::string t = "\r\n";
  t.append(input);
  std::size_t pos = t.find("\r\n.\r\n");
  std::string_view content;
  if (pos == std::string::npos) {
    r.consumed = input.size();
    content = input;
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
  } else {
    r.done = true;
    r.consumed = pos + 3;
    content = input.substr(0, pos);
  }
  for (std::size_t k = 0; k < r.consumed; ++k) {
    if (static_cast<unsigned char>(input[k]) >= 0x80) r.eight_bit = true;
  }

  std::uint64_t size = 0;
  std::size_t line_len = 0;
  bool bol = true;
  DataError e = DataError::kNone;
  for (std::size_t i = 0; i < content.size() && e == DataError::kNone; ++i) {
    char c = content[i];
    if (bol) {
      bol = false;
      if (c == '.') continue;
    }
    bool crlf = c == '\r' && i + 1 < content.size() && content[i + 1] == '\n';
    if (crlf || (c == '\n' && limits.bare_lf == BareLf::kNormalize)) {
      if (crlf) ++i;
      size += 2;
      if (size > limits.max_size) {
        e = DataError::kTooBig;
      } else {
        r.message += "\r\n";
        line_len = 0;
        bol = true;
      }
    } else if (c == '\r') {
      e = DataError::kBareCr;
    } else if (c == '\n') {
      e = DataError::kBareLf;
    } else if (c == '\0') {
      e = DataError::kNul;
    } else if (++size > limits.max_size) {
      e = DataError::kTooBig;
    } else if (++line_len > limits.max_line) {
      e = DataError::kLineTooLong;
    } else {
      r.message += c;
    }
  }
  if (e != DataError::kNone) {
    r.error = e;
    r.message.clear();
  }
  return r;
}

}  // namespace tern::smtp::proto::model
