// bench/mbox.h: reading the shared gen_mbox.py corpus in the C++ benchmarks.
#pragma once

#include <string>
#include <vector>

namespace tern::bench {

// The messages of an mbox: each "From " separator line dropped, the rest kept as written.
inline std::vector<std::string> split_mbox(const std::string& data) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t body = data.find('\n', pos);
    if (body == std::string::npos) break;
    ++body;
    std::size_t next = data.find("\nFrom ", body);
    const std::size_t end = next == std::string::npos ? data.size() : next + 1;
    out.push_back(data.substr(body, end - body));
    pos = end;
  }
  return out;
}

}  // namespace tern::bench
