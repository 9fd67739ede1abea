// bench/mime_parse: MIME parse throughput over a gen_mbox corpus, and the cost of
// ENVELOPE + BODYSTRUCTURE served from the parse cache. Prints figures; asserts nothing.
// Usage: mime_parse [MBOX]   (default: generates 1000 messages with gen_mbox.py into /tmp)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "mbox.h"
#include "mime/cache.h"
#include "mime/imap_view.h"
#include "mime/message.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

using tern::bench::split_mbox;

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  if (argc > 1) {
    path = argv[1];
  } else {
    const auto dir = std::filesystem::temp_directory_path() / "tern_mime_bench";
    std::filesystem::create_directories(dir);
    path = (dir / "gen.mbox").string();
    const std::string gen =
        (std::filesystem::path(TERN_SOURCE_DIR).parent_path() / "shared/corpus/gen_mbox.py").string();
    const std::string cmd = "/usr/bin/python3 " + gen + " " + path + " 1000 42 > /dev/null";
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "mime_parse: could not run %s\n", gen.c_str());
      return 1;
    }
  }
  std::ifstream in(path, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<std::string> messages = split_mbox(data);
  std::size_t total = 0;
  for (const auto& m : messages) total += m.size();
  if (messages.empty()) {
    std::fprintf(stderr, "mime_parse: no messages in %s\n", path.c_str());
    return 1;
  }

  constexpr int kRounds = 5;
  std::size_t parts = 0;
  auto t0 = Clock::now();
  for (int r = 0; r < kRounds; ++r)
    for (const auto& m : messages) parts += tern::mime::parse(m).parts.size();
  const double parse_s = seconds_since(t0);

  std::vector<std::string> caches;
  std::size_t cache_bytes = 0;
  for (const auto& m : messages) {
    caches.push_back(tern::mime::serialize(tern::mime::parse(m)));
    cache_bytes += caches.back().size();
  }
  std::size_t out_bytes = 0;
  constexpr int kCacheRounds = 20;
  t0 = Clock::now();
  for (int r = 0; r < kCacheRounds; ++r) {
    for (const auto& c : caches) {
      auto msg = tern::mime::deserialize(c);
      if (!msg) return 1;
      out_bytes += tern::mime::envelope(*msg).size() + tern::mime::body_structure(*msg, true).size();
    }
  }
  const double cache_s = seconds_since(t0);

  std::printf("mime_parse: %zu messages, %.1f MB, %.1f parts/message\n", messages.size(), total / 1e6,
              static_cast<double>(parts) / kRounds / static_cast<double>(messages.size()));
  std::printf("  parse:                         %.1f MB/s (%.1f us/message)\n",
              kRounds * total / 1e6 / parse_s,
              parse_s * 1e6 / kRounds / static_cast<double>(messages.size()));
  std::printf("  cache size:                    %.0f bytes/message (%.3f%% of the message)\n",
              static_cast<double>(cache_bytes) / static_cast<double>(messages.size()),
              100.0 * static_cast<double>(cache_bytes) / static_cast<double>(total));
  std::printf("  ENVELOPE+BODYSTRUCTURE (cache): %.2f us/message (%zu bytes out)\n",
              cache_s * 1e6 / kCacheRounds / static_cast<double>(messages.size()), out_bytes / kCacheRounds);
  return 0;
}
